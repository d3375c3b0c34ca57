"""Small line charts drawn with OpenCV into PNG files, for reports written by the core and the CLI
(the core does not use Qt or pyqtgraph; the GUI draws its own live plots)."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import numpy as np

PALETTE = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (255, 127, 14), (148, 103, 189), (140, 86, 75),
           (227, 119, 194), (127, 127, 127), (23, 190, 207), (188, 189, 34)]  # RGB


def _nice_ticks(lo: float, hi: float, n: int = 6) -> list[float]:
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / max(1, n)
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=raw)
    start = math.ceil(lo / step) * step
    ticks = []
    v = start
    while v <= hi + 1e-9 * step:
        ticks.append(round(v, 10))
        v += step
    return ticks


def line_chart(path: str | Path, series: dict[str, tuple[Sequence[float], Sequence[float]]], *, title: str = "",
               xlabel: str = "", ylabel: str = "", hline: tuple[float, str] | None = None,
               size: tuple[int, int] = (960, 600)) -> Path:
    """Write a PNG with one line (with markers) per series: ``{name: (xs, ys)}``."""
    import cv2

    w, h = size
    img = np.full((h, w, 3), 255, np.uint8)
    left, right, top, bottom = 90, 220, 84, 70  # the title, then the y label above the plot
    xs_all = [x for xs, _ in series.values() for x in xs]
    ys_all = [y for _, ys in series.values() for y in ys if y is not None and not math.isnan(y)]
    if hline is not None:
        ys_all.append(hline[0])
    if not xs_all or not ys_all:
        xs_all, ys_all = [0, 1], [0, 1]
    x0, x1 = min(xs_all), max(xs_all)
    y0, y1 = min(ys_all), max(ys_all)
    pad = (y1 - y0) * 0.05 or 0.05
    y0, y1 = y0 - pad, y1 + pad
    if x1 == x0:
        x1 = x0 + 1

    def px(x: float, y: float) -> tuple[int, int]:
        return (int(left + (x - x0) / (x1 - x0) * (w - left - right)), int(h - bottom - (y - y0) / (y1 - y0) * (h - top - bottom)))

    font = cv2.FONT_HERSHEY_SIMPLEX
    grey, dark = (225, 225, 225), (60, 60, 60)
    for t in _nice_ticks(y0, y1):
        p = px(x0, t)
        cv2.line(img, (left, p[1]), (w - right, p[1]), grey, 1)
        cv2.putText(img, f"{t:g}", (8, p[1] + 5), font, 0.45, dark, 1, cv2.LINE_AA)
    for t in _nice_ticks(x0, x1):
        p = px(t, y0)
        cv2.line(img, (p[0], top), (p[0], h - bottom), grey, 1)
        cv2.putText(img, f"{t:g}", (p[0] - 12, h - bottom + 20), font, 0.45, dark, 1, cv2.LINE_AA)
    cv2.rectangle(img, (left, top), (w - right, h - bottom), dark, 1)
    if hline is not None:
        a, b = px(x0, hline[0]), px(x1, hline[0])
        for x in range(a[0], b[0], 12):
            cv2.line(img, (x, a[1]), (min(x + 6, b[0]), a[1]), (120, 120, 120), 1, cv2.LINE_AA)
        # its label inside the plot, just above the line's left end (the right margin holds the legend)
        cv2.putText(img, hline[1], (left + 6, a[1] - 6), font, 0.42, (90, 90, 90), 1, cv2.LINE_AA)
    for k, (name, (xs, ys)) in enumerate(series.items()):
        color = PALETTE[k % len(PALETTE)][::-1]  # BGR
        pts = [px(x, y) for x, y in zip(xs, ys) if y is not None and not math.isnan(y)]
        for a, b in zip(pts, pts[1:]):
            cv2.line(img, a, b, color, 2, cv2.LINE_AA)
        for p in pts:
            cv2.circle(img, p, 4, color, -1, cv2.LINE_AA)
        ly = top + 20 + 24 * k
        cv2.line(img, (w - right + 12, ly - 4), (w - right + 36, ly - 4), color, 3, cv2.LINE_AA)
        cv2.putText(img, name[:22], (w - right + 42, ly), font, 0.48, dark, 1, cv2.LINE_AA)
    if title:
        cv2.putText(img, title, (left, 32), font, 0.7, (20, 20, 20), 2, cv2.LINE_AA)
    if xlabel:
        cv2.putText(img, xlabel, ((left + w - right) // 2 - 60, h - 22), font, 0.5, dark, 1, cv2.LINE_AA)
    if ylabel:
        cv2.putText(img, ylabel, (8, top - 14), font, 0.5, dark, 1, cv2.LINE_AA)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, buf = cv2.imencode(".png", img)
    if not ok:
        raise OSError(f"could not encode {path}")
    path.write_bytes(buf.tobytes())
    return path
