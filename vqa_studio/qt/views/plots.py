"""pyqtgraph plots: live training curves, and the insights (uncertainty histogram, learning curve,
accuracy per answer type, reliability before/after calibration).

This module imports pyqtgraph, which takes a moment: the main window imports it only when a plot is
first shown, never at start-up.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from ..style import COLORS

pg.setConfigOptions(antialias=True, background=COLORS["panel"], foreground=COLORS["muted"])

PALETTE = [COLORS["accent"], COLORS["good"], COLORS["warn"], COLORS["violet"], COLORS["bad"], "#3aa6a0"]


def _plot(title: str, left: str = "", bottom: str = "") -> pg.PlotWidget:
    w = pg.PlotWidget()
    w.setMenuEnabled(False)
    w.setTitle(f"<span style='color:{COLORS['text']}; font-size:9pt'>{title}</span>")
    item = w.getPlotItem()
    item.showGrid(x=True, y=True, alpha=0.15)
    if left:
        item.setLabel("left", left)
    if bottom:
        item.setLabel("bottom", bottom)
    for ax in ("left", "bottom"):
        a = item.getAxis(ax)
        a.setPen(pg.mkPen(COLORS["border"]))
        a.setTextPen(pg.mkPen(COLORS["muted"]))
    w.setMinimumHeight(150)
    w.setFocusPolicy(Qt.NoFocus)
    w.setMouseEnabled(x=False, y=False)
    w.hideButtons()
    return w


def _legend(w: pg.PlotWidget):
    leg = w.addLegend(offset=(-6, 6), labelTextSize="8pt", labelTextColor=COLORS["text"])
    leg.setBrush(pg.mkBrush(COLORS["bg"] + "c0"))
    return leg


class TrainingPlots(QWidget):
    """Loss per step and validation accuracy per epoch, updated as the job reports progress."""

    def __init__(self, parent=None, epochs: int = 1):
        super().__init__(parent)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._epochs0 = epochs

    def build_steps(self):
        """Make the plots one at a time (each step is one event-loop turn for the caller)."""
        self.loss = _plot("training loss", bottom="epoch")
        _legend(self.loss)
        self._grid.addWidget(self.loss, 0, 0)
        yield
        self.acc = _plot("accuracy", bottom="epoch")
        self.acc.setYRange(0, 1)
        _legend(self.acc)
        self._grid.addWidget(self.acc, 0, 1)
        self.reset(self._epochs0)

    def reset(self, epochs: int = 1) -> None:
        self.epochs = max(1, int(epochs))
        self.loss.clear()
        self.acc.clear()
        self._series: dict[tuple[str, str], tuple[list[float], list[float], Any]] = {}

    def _curve(self, plot: pg.PlotWidget, key: tuple[str, str], name: str, color: str, symbol: str | None = None):
        if key not in self._series:
            pen = pg.mkPen(color, width=2)
            kw = {"symbol": symbol, "symbolSize": 6, "symbolBrush": color, "symbolPen": None} if symbol else {}
            item = plot.plot([], [], pen=pen, name=name, **kw)
            self._series[key] = ([], [], item)
        return self._series[key]

    def redraw(self) -> None:
        for xs, ys, item in self._series.values():
            item.setData(xs, ys)

    def add(self, stage: str, done: int, total: int | None, info: dict[str, Any], redraw: bool = True) -> None:
        member = str(info.get("member") or "").strip().rstrip(":") or "model"
        idx = sum(1 for k in self._series if k[0] == "loss" and k[1] != member) if ("loss", member) not in self._series else 0
        color = PALETTE[idx % len(PALETTE)]
        if stage == "train" and "loss" in info and total:
            x = done / total * self.epochs  # steps run over all epochs: place the step in epochs
            xs, ys, item = self._curve(self.loss, ("loss", member), member, color)
            xs.append(x)
            ys.append(float(info["loss"]))
            if redraw:
                item.setData(xs, ys)
        elif stage == "epoch":
            epoch = float(info.get("epoch") or done)
            for key, label, col in (("val_accuracy", "validation", COLORS["good"]), ("train_accuracy", "train", COLORS["accent"])):
                v = info.get(key)
                if v is None or (isinstance(v, float) and math.isnan(v)):
                    continue
                name = label if member == "model" else f"{label} {member}"
                xs, ys, item = self._curve(self.acc, (key, member), name, col, symbol="o")
                xs.append(epoch)
                ys.append(float(v))
                if redraw:
                    item.setData(xs, ys)


class InsightsPlots(QWidget):
    """Four small plots side by side; ``show_data`` takes what ``core.insights`` computed."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.note = QLabel("")
        self.note.setObjectName("muted")
        self._grid = QGridLayout()
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(6)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.setSpacing(2)
        lay.addLayout(self._grid, 1)
        lay.addWidget(self.note)

    def build_steps(self):
        """Make the four plots one at a time (each step is one event-loop turn for the caller)."""
        self.hist = _plot("uncertainty histogram")
        self._grid.addWidget(self.hist, 0, 0)
        yield
        self.curve = _plot("accuracy per version")
        self.curve.setYRange(0, 1)
        self._grid.addWidget(self.curve, 0, 1)
        yield
        self.types = _plot("accuracy per answer type")
        self.types.setYRange(0, 1)
        self._grid.addWidget(self.types, 0, 2)
        yield
        self.reliability = _plot("reliability (calibration)", bottom="confidence")
        self.reliability.setXRange(0, 1)
        self.reliability.setYRange(0, 1)
        self._grid.addWidget(self.reliability, 0, 3)

    def show_data(self, data: dict[str, Any]) -> None:
        for _ in self.draw_steps(data):
            pass

    def draw_steps(self, data: dict[str, Any]):
        """Draw the plots one at a time (a step per event-loop turn for the caller)."""
        self._histogram(data.get("histogram"))
        yield
        self._learning_curve(data.get("versions") or [])
        yield
        self._answer_types(*(data.get("answer_types") or ("", {})))
        yield
        self._reliability(data.get("reliability") or {})
        self.note.setText(data.get("note", ""))

    def _histogram(self, h) -> None:
        w = self.hist
        w.clear()
        if h is None or not h.n:
            w.setTitle(f"<span style='color:{COLORS['text']}; font-size:9pt'>uncertainty histogram (no scores)</span>")
            return
        w.setTitle(f"<span style='color:{COLORS['text']}; font-size:9pt'>{h.method.replace('_', ' ')} · "
                   f"{h.version} · {h.n:,} questions</span>")
        edges = np.asarray(h.edges)
        centers = (edges[:-1] + edges[1:]) / 2
        width = float(edges[1] - edges[0]) * 0.92
        w.addItem(pg.BarGraphItem(x=centers, height=h.counts, width=width, brush=pg.mkBrush(COLORS["accent"] + "d0"),
                                  pen=pg.mkPen(None)))
        w.setXRange(float(edges[0]), float(edges[-1]))

    def _learning_curve(self, versions) -> None:
        w = self.curve
        w.clear()
        _legend(w) if w.getPlotItem().legend is None else w.getPlotItem().legend.clear()
        if not versions:
            return
        xs = np.arange(len(versions))
        for attr, name, col in (("val_accuracy", "validation", COLORS["good"]), ("test_accuracy", "test", COLORS["warn"])):
            ys = [getattr(v, attr) for v in versions]
            pts = [(x, y) for x, y in zip(xs, ys) if y is not None]
            if pts:
                w.plot([p[0] for p in pts], [p[1] for p in pts], pen=pg.mkPen(col, width=2), symbol="o", symbolSize=7,
                       symbolBrush=col, symbolPen=None, name=name)
        ax = w.getPlotItem().getAxis("bottom")
        ax.setTicks([[(int(x), v.version + (" *" if v.active else "")) for x, v in zip(xs, versions)]])
        w.setXRange(-0.5, len(versions) - 0.5)

    def _answer_types(self, split: str, by_type: dict[str, float]) -> None:
        w = self.types
        w.clear()
        w.setTitle(f"<span style='color:{COLORS['text']}; font-size:9pt'>accuracy per answer type"
                   f"{' (' + split + ')' if split else ''}</span>")
        if not by_type:
            return
        names = list(by_type)
        xs = np.arange(len(names))
        brushes = [pg.mkBrush(PALETTE[i % len(PALETTE)]) for i in range(len(names))]
        w.addItem(pg.BarGraphItem(x=xs, height=[by_type[n] for n in names], width=0.6, brushes=brushes, pen=pg.mkPen(None)))
        w.getPlotItem().getAxis("bottom").setTicks([[(int(i), n) for i, n in enumerate(names)]])
        w.setXRange(-0.6, len(names) - 0.4)

    def _reliability(self, rel: dict) -> None:
        w = self.reliability
        w.clear()
        _legend(w) if w.getPlotItem().legend is None else w.getPlotItem().legend.clear()
        w.plot([0, 1], [0, 1], pen=pg.mkPen(COLORS["border"], width=1, style=Qt.DashLine))
        if not rel:
            return
        kind, (before, after) = next(iter(rel.items()))
        for r, name, col in ((before, "before", COLORS["bad"]), (after, "after", COLORS["good"])):
            if r is None:
                continue
            ok = np.isfinite(r.accuracy) & np.isfinite(r.confidence) & (r.count > 0)
            if ok.any():
                w.plot(r.confidence[ok], r.accuracy[ok], pen=pg.mkPen(col, width=2), symbol="o", symbolSize=6,
                       symbolBrush=col, symbolPen=None, name=f"{name} calibration")
        w.setTitle(f"<span style='color:{COLORS['text']}; font-size:9pt'>reliability · {kind}</span>")
