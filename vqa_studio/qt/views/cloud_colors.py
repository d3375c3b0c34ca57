"""Colours of the 3D views: the height and attention ramps (pyqtgraph ``ColorMap``s), point colours
for a colour mode, and a stable colour per cuboid label.

No widgets here: these run in worker threads while a cloud is prepared.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

__all__ = ["HEIGHT_STOPS", "ATTENTION_STOPS", "label_color", "colormap", "rgba", "height_colors",
           "attention_colors"]

# other cuboids: cool, light colours, none of them near the amber of the selection
_PALETTE = [(90, 200, 250), (120, 230, 160), (200, 150, 255), (110, 230, 220), (170, 190, 215), (240, 130, 200),
            (150, 170, 255), (200, 230, 255)]

# (position, r, g, b): perceptually ordered ramps
HEIGHT_STOPS = np.array([
    [0.00, 0.19, 0.07, 0.23], [0.15, 0.27, 0.38, 0.86], [0.35, 0.10, 0.75, 0.85], [0.55, 0.40, 0.95, 0.35],
    [0.75, 0.95, 0.80, 0.15], [0.90, 0.98, 0.45, 0.10], [1.00, 0.80, 0.10, 0.05]])
ATTENTION_STOPS = np.array([
    [0.00, 0.20, 0.24, 0.36], [0.35, 0.42, 0.22, 0.62], [0.65, 0.90, 0.30, 0.35], [0.85, 1.00, 0.62, 0.12],
    [1.00, 1.00, 0.95, 0.45]])


def _color_map(stops: np.ndarray) -> pg.ColorMap:
    """A pyqtgraph ColorMap through ``stops``. QColor.fromRgbF keeps their float precision (16 bits a
    channel); plain float colours would be read as 0..255."""
    return pg.ColorMap(stops[:, 0], [QColor.fromRgbF(*map(float, rgb)) for rgb in stops[:, 1:]])


def label_color(label: str) -> tuple[int, int, int]:
    """A stable colour per label (not the selection colour)."""
    h = sum((i + 1) * ord(ch_) for i, ch_ in enumerate(label or "?"))
    return _PALETTE[h % len(_PALETTE)]


def colormap(t: np.ndarray, stops: np.ndarray = HEIGHT_STOPS) -> np.ndarray:
    """Values in 0..1 (clipped) -> RGB float32 [N, 3] along the piecewise-linear ramp ``stops``."""
    t = np.clip(np.asarray(t, dtype=np.float32).reshape(-1), 0.0, 1.0)
    return _color_map(stops).map(t, mode=pg.ColorMap.FLOAT)[:, :3].astype(np.float32)


def rgba(rgb: np.ndarray) -> np.ndarray:
    """RGB [N, 3] -> opaque RGBA float32 [N, 4] (what the point shader takes)."""
    out = np.empty((len(rgb), 4), dtype=np.float32)
    out[:, :3] = rgb
    out[:, 3] = 1.0
    return out


def height_colors(z: np.ndarray, zrange: tuple[float, float]) -> np.ndarray:
    lo, hi = zrange
    return colormap((np.asarray(z, np.float32) - lo) / max(hi - lo, 1e-6))


def attention_colors(xyz: np.ndarray, centres: np.ndarray, values: np.ndarray, chunk: int = 262_144) -> np.ndarray:
    """Each point coloured by the (normalised) value of its nearest region centre. [N, 3] float32."""
    centres = np.asarray(centres, dtype=np.float32).reshape(-1, 3)
    v = np.asarray(values, dtype=np.float32).reshape(-1)
    if len(v) != len(centres):
        raise ValueError(f"attention: {len(centres)} centres but {len(v)} values")
    lo, hi = float(v.min()), float(v.max())
    t = (v - lo) / (hi - lo) if hi > lo else np.full_like(v, 0.5)
    c2 = (centres * centres).sum(1)
    out = np.empty((len(xyz), 3), dtype=np.float32)
    lut = colormap(t, ATTENTION_STOPS)
    for s in range(0, len(xyz), chunk):
        p = np.asarray(xyz[s:s + chunk], dtype=np.float32)
        # |p - c|^2 = |c|^2 - 2 p.c (+ |p|^2, the same for every centre)
        nearest = np.argmin(c2[None, :] - 2.0 * (p @ centres.T), axis=1)
        out[s:s + chunk] = lut[nearest]
    return out
