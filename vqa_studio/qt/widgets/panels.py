"""Dock panels: similar items, training (live curves), insights, answers changed between versions.

The plot panels build their pyqtgraph widgets the first time they are shown (pyqtgraph takes a
moment to import, and the window must open fast).
"""
from __future__ import annotations

import sys
import time
from typing import Any, Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QStackedLayout,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..style import COLORS, STATUS_STYLE
from .stable import StableLabel, muted_label


class SimilarPanel(QWidget):
    """The nearest labelled items in the model's embedding space, with their answers."""

    open_question = Signal(int)

    def __init__(self, images, parent=None):
        super().__init__(parent)
        self.images = images
        self.header = StableLabel("", width=200, lines=2, expand=True)
        self.header.setObjectName("muted")
        self.header.setWordWrap(True)
        self.list = QListWidget()
        self.list.setIconSize(QSize(40, 40))
        self.list.setSpacing(1)
        self.list.setFocusPolicy(Qt.NoFocus)
        self.list.setUniformItemSizes(True)
        self.list.itemDoubleClicked.connect(lambda it: self.open_question.emit(int(it.data(Qt.UserRole))))
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 2, 4, 6)
        lay.setSpacing(4)
        lay.addWidget(self.header)
        lay.addWidget(self.list, 1)
        self._paths: dict[str, list[QListWidgetItem]] = {}
        images.thumb_ready.connect(self._thumb)
        self.set_message("No item selected")

    def set_message(self, text: str) -> None:
        self.list.clear()
        self._paths.clear()
        self.header.setText(text)

    def set_items(self, found: Sequence[Any], media_path) -> None:
        self.list.clear()
        self._paths.clear()
        if not found:
            self.header.setText("No labelled neighbours yet.")
            return
        self.header.setText("Nearest labelled questions (cosine similarity of the fused features) — double-click to open")
        for s in found:
            label, col = STATUS_STYLE.get(s.status.value, (s.status.value, COLORS["muted"]))
            it = QListWidgetItem(f"{s.answer or '—'}   ·   {s.text}\n{s.similarity:.2f} similar · {label}")
            it.setData(Qt.UserRole, s.question_id)
            it.setToolTip(f"{s.text}\nanswer: {s.answer}\nsimilarity {s.similarity:.3f}")
            path = str(media_path(s.media_uri))
            thumb = self.images.thumbnail(path)
            it.setIcon(QIcon(QPixmap.fromImage(thumb)) if thumb is not None else _blank_icon())
            self._paths.setdefault(path, []).append(it)
            self.list.addItem(it)

    def _thumb(self, path: str) -> None:
        for it in self._paths.pop(path, []):
            img = self.images.thumbnail(path, request=False)
            if img is not None:
                it.setIcon(QIcon(QPixmap.fromImage(img)))


_BLANK: QIcon | None = None


def _blank_icon() -> QIcon:
    global _BLANK
    if _BLANK is None:
        pix = QPixmap(40, 40)
        pix.fill(QColor(COLORS["raised"]))
        _BLANK = QIcon(pix)
    return _BLANK


def pyqtgraph_ready() -> bool:
    return "pyqtgraph" in sys.modules and "pyqtgraph.graphicsItems.PlotItem" in sys.modules


def import_pyqtgraph() -> None:
    """Import pyqtgraph (about a second on a slow machine) on the GUI thread: Qt's bindings are not
    safe to import from another thread. The main window does it while a project opens, when the
    GUI thread would otherwise wait for the first rows anyway."""
    import pyqtgraph  # noqa: F401


class _LazyPlots(QWidget):
    """A placeholder that builds its pyqtgraph content once allowed (after the project's first item
    is on screen) and visible, and once pyqtgraph has been imported in the background; the plots are
    made one per event-loop turn, so building never holds the GUI for long."""

    def __init__(self, placeholder: str, parent=None):
        super().__init__(parent)
        self.plots = None
        self._allowed = False
        self._steps = None
        self._ticker = QTimer(self)
        self._ticker.setInterval(15)
        self._ticker.timeout.connect(self._tick)
        self._stack = QStackedLayout()
        self._placeholder = muted_label(placeholder)
        self._placeholder.setAlignment(Qt.AlignCenter)
        self._stack.addWidget(self._placeholder)

    def _make(self):
        """The plots widget, not yet built (``build_steps()`` builds it)."""
        raise NotImplementedError

    def allow_build(self) -> None:
        self._allowed = True
        self._maybe_start()

    def _maybe_start(self) -> None:
        if self.plots is None and self._allowed and self.isVisible() and not self._ticker.isActive():
            self._ticker.start()

    def _tick(self) -> None:
        if not pyqtgraph_ready():
            import_pyqtgraph()
            return
        if self._steps is None:
            self._pending_widget = self._make()
            self._steps = iter(self._pending_widget.build_steps())
            return
        try:
            next(self._steps)
        except StopIteration:
            self._ticker.stop()
            self._finish(self._pending_widget)

    def _finish(self, w) -> None:
        self.plots = w
        self._steps = None
        self._stack.addWidget(w)
        self._stack.setCurrentWidget(w)
        self.plots_ready()

    def ensure_plots(self):
        """Build now, all at once (tests, screenshots, benchmarks)."""
        if self.plots is None:
            self._ticker.stop()
            import_pyqtgraph()
            w = self._pending_widget if self._steps is not None else self._make()
            for _ in (self._steps if self._steps is not None else w.build_steps()):
                pass
            self._finish(w)
        return self.plots

    def plots_ready(self) -> None:
        pass

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self._maybe_start()


class TrainingPanel(_LazyPlots):
    cancel_requested = Signal()

    def __init__(self, parent=None):
        super().__init__("Training curves appear here while a model trains (Model ▸ Train / fine-tune…)", parent)
        self.title = QLabel("No training running")
        self.title.setStyleSheet("font-weight: 600")
        self.detail = muted_label("")
        self.bar = QProgressBar()
        self.bar.setVisible(False)
        self.cancel = QPushButton("Cancel training")
        self.cancel.setVisible(False)
        self.cancel.clicked.connect(self.cancel_requested)
        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addWidget(self.detail, 1)
        head.addWidget(self.bar)
        head.addWidget(self.cancel)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 4)
        lay.addLayout(head)
        lay.addLayout(self._stack, 1)
        self._epochs = 1
        self._pending: list[tuple] = []
        self._drawn = 0.0

    def _make(self):
        from ..views.plots import TrainingPlots

        return TrainingPlots(epochs=self._epochs)

    def plots_ready(self) -> None:
        for args in self._pending:
            self.plots.add(*args, redraw=False)
        self._pending.clear()
        self.plots.redraw()
        self._drawn = time.monotonic()

    def started(self, title: str, epochs: int) -> None:
        self._epochs = epochs
        self._pending.clear()
        if self.plots is not None:
            self.plots.reset(epochs)
        self.title.setText(title)
        self.detail.setText("starting the training process…")
        self.bar.setVisible(True)
        self.bar.setRange(0, 0)
        self.cancel.setVisible(True)
        self.cancel.setEnabled(True)

    def progress(self, p) -> None:
        if p.total:
            self.bar.setRange(0, p.total)
            self.bar.setValue(min(p.done, p.total))
        else:
            self.bar.setRange(0, 0)
        extra = []
        for key, fmt in (("loss", "loss {:.3f}"), ("accuracy", "acc {:.2f}"), ("items_per_s", "{:.0f} items/s"),
                         ("eta_s", "ETA {:.0f} s")):
            v = p.info.get(key)
            if isinstance(v, (int, float)):
                extra.append(fmt.format(v))
        self.detail.setText(f"{p.stage}: {p.message}" + (f"  ·  {' · '.join(extra)}" if extra else ""))
        if p.stage in ("train", "epoch"):
            self._pending.append((p.stage, p.done, p.total, dict(p.info)))
            # redraw the curves at most twice a second: each redraw lays out the axes again
            if self.plots is not None and (p.stage == "epoch" or time.monotonic() - self._drawn >= 0.5):
                self.plots_ready()

    def ended(self, text: str) -> None:
        self.title.setText(text)
        self.bar.setVisible(False)
        self.cancel.setVisible(False)


class InsightsPanel(_LazyPlots):
    needs_data = Signal()

    def __init__(self, parent=None):
        super().__init__("Insights appear once a model has scored the pool", parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(self._stack)
        self._data: dict | None = None
        self._draw_steps = iter(())
        self._drawer = QTimer(self)
        self._drawer.setInterval(10)
        self._drawer.timeout.connect(self._draw_tick)

    def _make(self):
        from ..views.plots import InsightsPlots

        return InsightsPlots()

    def plots_ready(self) -> None:
        if self._data is not None:
            self._draw()
        else:
            self.needs_data.emit()

    def show_data(self, data: dict) -> None:
        self._data = data
        if self.plots is not None:
            self._draw()

    def _draw(self) -> None:
        """Redraw the four plots one per event-loop turn (each takes a few tens of ms)."""
        self._draw_steps = iter(self.plots.draw_steps(self._data))
        self._drawer.start()

    def _draw_tick(self) -> None:
        try:
            next(self._draw_steps)
        except StopIteration:
            self._drawer.stop()


class ChangesModel(QAbstractTableModel):
    """Answer changes as a table model: any number of rows, nothing made per row up front."""

    HEADERS = ["Question", "Before", "Now", "Status"]

    def __init__(self, parent=None):
        super().__init__(parent)
        self.changes: list[Any] = []
        self._muted = QColor(COLORS["muted"])

    def set_changes(self, changes: Sequence[Any]) -> None:
        self.beginResetModel()
        self.changes = list(changes)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.changes)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else 4

    def headerData(self, section, orientation, role=Qt.DisplayRole):  # noqa: N802
        if orientation == Qt.Horizontal and int(role) == int(Qt.DisplayRole):
            return self.HEADERS[section]
        return None

    def data(self, index, role=Qt.DisplayRole):
        role = int(role)
        if not index.isValid():
            return None
        c = self.changes[index.row()]
        col = index.column()
        if role == int(Qt.DisplayRole):
            if col == 0:
                return c.text
            if col == 1:
                return f"{c.old_answer}" + (f" ({c.old_confidence * 100:.0f}%)" if c.old_confidence is not None else "")
            if col == 2:
                return f"{c.new_answer}" + (f" ({c.new_confidence * 100:.0f}%)" if c.new_confidence is not None else "")
            return STATUS_STYLE.get(c.status.value, (c.status.value,))[0]
        if role == int(Qt.ForegroundRole) and col == 3:
            return QColor(STATUS_STYLE.get(c.status.value, ("", COLORS["muted"]))[1])
        if role == int(Qt.UserRole):
            return c.question_id
        return None


class ChangesPanel(QWidget):
    """Answers that changed between the previous and the new model version."""

    open_question = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.header = muted_label("Answers that changed since the previous model version appear here after training.")
        self.model = ChangesModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setFocusPolicy(Qt.NoFocus)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.Stretch)
        for c, w in ((1, 150), (2, 150), (3, 110)):
            hh.setSectionResizeMode(c, QHeaderView.Interactive)
            self.table.setColumnWidth(c, w)
        self.table.doubleClicked.connect(lambda idx: self.open_question.emit(int(idx.data(Qt.UserRole))))
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 4)
        lay.addWidget(self.header)
        lay.addWidget(self.table, 1)

    def set_changes(self, old: str | None, new: str | None, changes: Sequence[Any]) -> None:
        if not old or not new:
            self.model.set_changes([])
            self.header.setText("No previous model version to compare with.")
            return
        self.model.set_changes(changes)
        self.header.setText(f"{len(changes):,} questions answered differently by {new} than by {old}"
                            " — double-click to open")
