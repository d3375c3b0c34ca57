"""OpenGL building blocks of the cuboid editor (``cloud_view.CloudView``): point and line items that
survive several GL contexts, the free orbit view, the orthographic close-up views with their handles,
and box outlines. The colour maps are in ``cloud_colors``.

pyqtgraph's GL items keep ONE compiled shader program per item class for the whole process, which
breaks as soon as a second, non-sharing context draws (a second editor window, a view moved into
another top-level window). ``PointsItem`` / ``LinesItem`` keep one program per context instead and
re-upload their buffers when their view's context is recreated.
"""
from __future__ import annotations

import time
from typing import Callable

import numpy as np
import pyqtgraph.opengl as gl
from OpenGL import GL
from PySide6.QtCore import QEvent, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QCursor, QFont, QMatrix4x4, QVector3D

from ...core.geometry import Cuboid, corners
from . import cuboid_handles as ch
from .gl_items import LinesItem, PointsItem

__all__ = [
    "BACKGROUND", "SELECTED_COLOR", "OVERLAY", "box_lines", "PointsItem", "LinesItem", "FreeView", "CloseUpView",
]

BACKGROUND = (18, 21, 26)  # the views' clear colour (a little darker than the app's panels)
SELECTED_COLOR = (255, 196, 42)  # the selected cuboid: amber, far from every demo colour and the ground
HANDLE_COLOR = (255, 255, 255)
EDGE_HANDLE_COLOR = (120, 200, 255)
ROTATE_COLOR = (255, 92, 200)
# pyqtgraph GL options: drawn over the points, never hidden by them
OVERLAY = {GL.GL_DEPTH_TEST: False, GL.GL_BLEND: True, GL.GL_CULL_FACE: False,
           "glBlendFunc": (GL.GL_SRC_ALPHA, GL.GL_ONE_MINUS_SRC_ALPHA)}


# --- box outlines -------------------------------------------------------------------------------------------

# the 12 edges as corner index pairs (corners(): 0-3 bottom, 4-7 top, front face 0, 3, 7, 4)
_EDGES = np.array([[0, 1], [1, 2], [2, 3], [3, 0], [4, 5], [5, 6], [6, 7], [7, 4], [0, 4], [1, 5], [2, 6], [3, 7]])


def box_lines(c: Cuboid, front_marker: bool = True) -> np.ndarray:
    """Vertex pairs for GL_LINES [M, 3]: the 12 edges, plus (with ``front_marker``) the two diagonals
    of the front face (own +x), so the heading is visible from every side."""
    k = corners(c)
    segs = [k[_EDGES].reshape(-1, 3)]
    if front_marker:
        segs.append(k[[0, 7, 3, 4]])
    return np.concatenate(segs).astype(np.float32)


def _rgbf(c, alpha: float = 1.0) -> tuple[float, float, float, float]:
    return (c[0] / 255.0, c[1] / 255.0, c[2] / 255.0, alpha)


# --- the views ---------------------------------------------------------------------------------------------

class _ViewBase(gl.GLViewWidget):
    """Shared by the free view and the close-ups: key routing to the editor, GL context recovery."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackgroundColor(QColor(*BACKGROUND))
        self.setFocusPolicy(Qt.StrongFocus)
        self.key_handler: Callable | None = None  # (QKeyEvent) -> bool, set by the editor
        self.key_claims: Callable | None = None  # (QKeyEvent) -> bool: keys taken before shortcuts
        self._gl_ready = False
        self.frames = 0  # paintGL calls, for tests and the benchmark

    def initializeGL(self):
        if self._gl_ready:  # a new context (the widget moved to another window): upload again
            for item in self.items:
                if hasattr(item, "reset_gl"):
                    item.reset_gl()
        super().initializeGL()
        self._gl_ready = True

    def paintGL(self):
        super().paintGL()
        self.frames += 1

    def has_gl(self) -> bool:
        ctx = self.context()
        return ctx is not None and ctx.isValid()

    def event(self, ev):
        if ev.type() == QEvent.ShortcutOverride and self.key_claims is not None and self.key_claims(ev):
            ev.accept()
            return True
        return super().event(ev)

    def focusNextPrevChild(self, next_):  # let Tab reach keyPressEvent (next / previous cuboid)
        return False

    def keyPressEvent(self, ev):
        if self.key_handler is not None and self.key_handler(ev):
            ev.accept()
            return
        super().keyPressEvent(ev)

    # projections for picking (logical pixels, y down)
    def mvp(self) -> np.ndarray:
        w, h = max(self.width(), 1), max(self.height(), 1)
        m = self.projectionMatrix((0, 0, w, h), (0, 0, w, h)) * self.viewMatrix()
        return np.array(m.data(), dtype=np.float64).reshape(4, 4).T  # row-major [4, 4]

    def project(self, xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World points [N, 3] -> (pixel xy [N, 2], clip w [N]: > 0 in front of the camera)."""
        m = self.mvp()
        p = np.asarray(xyz, dtype=np.float32)
        m32 = m.astype(np.float32)
        clip = p @ m32[:, :3].T + m32[:, 3]
        w = clip[:, 3]
        safe = np.where(np.abs(w) < 1e-9, 1e-9, w)
        x = (clip[:, 0] / safe + 1.0) * 0.5 * self.width()
        y = (1.0 - clip[:, 1] / safe) * 0.5 * self.height()
        return np.stack([x, y], axis=1), w

    def ray(self, x: float, y: float) -> tuple[np.ndarray, np.ndarray]:
        """The world ray (origin, unit direction) through pixel (x, y)."""
        inv = np.linalg.inv(self.mvp())
        nx = 2.0 * x / max(self.width(), 1) - 1.0
        ny = 1.0 - 2.0 * y / max(self.height(), 1)
        a = inv @ np.array([nx, ny, -1.0, 1.0])
        b = inv @ np.array([nx, ny, 1.0, 1.0])
        a, b = a[:3] / a[3], b[:3] / b[3]
        d = b - a
        return a, d / max(np.linalg.norm(d), 1e-12)


class FreeView(_ViewBase):
    """The orbit view: left drag orbits, right / middle / Ctrl+left drag pans, wheel zooms; a click
    (no drag) is reported with ``clicked``. Shows the coarse point level while the camera moves and
    the fine one when it rests (``settle_ms`` after the last movement)."""

    clicked = Signal(float, float, object)  # x, y, keyboard modifiers
    moving_changed = Signal(bool)
    SLOW_FRAME_S = 0.04

    def __init__(self, parent=None, settle_ms: int = 220):
        super().__init__(parent)
        self.opts["fov"] = 50
        self.coarse: PointsItem | None = None
        self.fine: PointsItem | None = None
        self.moving = False
        self.fine_paint_s = 0.0  # how long the last paint with the fine level took (CPU side)
        self.place_mode = False
        self._press: QPointF | None = None
        self._dragged = False
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(settle_ms)
        self._settle.timeout.connect(self._stop_moving)

    # level of detail
    def set_levels(self, coarse: PointsItem | None, fine: PointsItem | None) -> None:
        for old in (self.coarse, self.fine):
            if old is not None and old in self.items and old not in (coarse, fine):
                self.removeItem(old)
        self.coarse, self.fine = coarse, fine
        for it in (coarse, fine):
            if it is not None and it not in self.items:
                self.addItem(it)
        self._apply_lod()

    def _apply_lod(self) -> None:
        if self.fine is None:
            return
        coarse = self.coarse if self.coarse is not None else self.fine
        show_coarse = self.moving and coarse is not self.fine
        coarse.setVisible(show_coarse)
        self.fine.setVisible(not show_coarse)
        self.update()

    @property
    def shown_points(self) -> int:
        item = self.coarse if (self.moving and self.coarse is not None) else self.fine
        return 0 if item is None else item.n_points

    def paintGL(self):
        t0 = time.perf_counter()
        super().paintGL()
        if self.fine is not None and self.fine.visible():
            self.fine_paint_s = time.perf_counter() - t0

    def start_moving(self, edit: bool = False) -> None:
        """The camera moves: coarse level now, fine again ``settle_ms`` after the last call. For an
        ``edit`` (a cuboid dragged in a close-up, a key nudge) only when drawing the fine level took
        longer than ``SLOW_FRAME_S`` (a software renderer); a GPU keeps the fine level."""
        if edit and self.fine_paint_s < self.SLOW_FRAME_S:
            return
        self._settle.start()
        if not self.moving:
            self.moving = True
            self._apply_lod()
            self.moving_changed.emit(True)

    def _stop_moving(self) -> None:
        if self.moving:
            self.moving = False
            self._apply_lod()
            self.moving_changed.emit(False)

    def orbit(self, azim, elev):
        self.start_moving()
        super().orbit(azim, elev)

    def pan(self, dx, dy, dz, relative="global"):
        self.start_moving()
        super().pan(dx, dy, dz, relative)

    # mouse
    def mousePressEvent(self, ev):
        self._press = ev.position()
        self.mousePos = ev.position()
        self._dragged = False
        self.setFocus(Qt.MouseFocusReason)

    def mouseMoveEvent(self, ev):
        if self._press is None or ev.buttons() == Qt.NoButton:
            return
        pos = ev.position()
        if not self._dragged and (pos - self._press).manhattanLength() < 4:
            return
        self._dragged = True
        diff = pos - self.mousePos
        self.mousePos = pos
        buttons = ev.buttons()
        if buttons & Qt.LeftButton and not ev.modifiers() & Qt.ControlModifier:
            self.orbit(-diff.x() * 0.6, diff.y() * 0.6)
        else:
            self.pan(diff.x(), diff.y(), 0, relative="view-upright")

    def mouseReleaseEvent(self, ev):
        if self._press is not None and not self._dragged and ev.button() == Qt.LeftButton:
            self.clicked.emit(float(ev.position().x()), float(ev.position().y()), ev.modifiers())
        self._press = None
        self._dragged = False

    def wheelEvent(self, ev):
        self.start_moving()
        super().wheelEvent(ev)

    def set_place_mode(self, on: bool) -> None:
        self.place_mode = on
        self.setCursor(QCursor(Qt.CrossCursor if on else Qt.ArrowCursor))


class CloseUpView(_ViewBase):
    """An orthographic close-up of the selected cuboid (top, side or front), aligned with it.

    Mouse: drag a corner or an edge to resize, the inside to move, the pink handle (top view) to
    rotate; drag outside the box to pan; wheel zooms; double-click re-frames. The drag only previews
    (``on_preview``); the edit is committed once, on release (``on_commit(cuboid, kind)``).
    """

    def __init__(self, name: str, parent=None):
        super().__init__(parent)
        if name not in ch.VIEWS:
            raise ValueError(f"unknown close-up {name!r}")
        self.name = name
        self.anchor: Cuboid | None = None  # the cuboid the frame is aligned with
        self.cuboid: Cuboid | None = None  # the cuboid drawn (the preview during a drag)
        self.half_width = 2.0
        self.offset = np.zeros(3)  # pan, world units
        self.on_preview: Callable[[Cuboid], None] | None = None
        self.on_commit: Callable[[Cuboid, str], None] | None = None
        self.on_view_changed: Callable[[], None] | None = None  # zoom / pan: the editor re-crops the points
        self.editable = True
        self._drag: tuple | None = None  # (handle, start cuboid, frame, p0) or ("pan", frame, x, y, offset)
        self.setMouseTracking(True)
        self.points = PointsItem(pos=np.zeros((0, 3), np.float32), size=3, color=(1, 1, 1, 1), glOptions="opaque")
        self.outline = LinesItem(pos=np.zeros((0, 3), np.float32), mode="lines", width=2.0, glOptions=OVERLAY,
                                 color=_rgbf(SELECTED_COLOR))
        self.rotor = LinesItem(pos=np.zeros((0, 3), np.float32), mode="lines", width=2.0, glOptions=OVERLAY,
                               color=_rgbf(ROTATE_COLOR))
        self.knobs = PointsItem(pos=np.zeros((0, 3), np.float32), size=9, color=(1, 1, 1, 1), glOptions=OVERLAY)
        for depth, item in enumerate((self.points, self.outline, self.rotor, self.knobs)):
            item.setDepthValue(depth)
            self.addItem(item)

    # --- camera: orthographic, aligned with the anchor ---------------------------------------------------
    def frame(self) -> ch.ViewFrame | None:
        if self.anchor is None:
            return None
        return ch.frame_for(self.name, self.anchor, self.half_width, self.width(), self.height(),
                            origin=self.anchor.center + self.offset)

    def fit(self, c: Cuboid | None = None, margin: float = 1.7) -> None:
        """Zoom so that the box (and some of its surroundings) fills the view."""
        c = c or self.anchor
        if c is None:
            return
        a, b = ch.VIEW_AXES[self.name]
        size = c.size
        aspect = max(self.height(), 1) / max(self.width(), 1)
        need_w = size[a] / 2.0 * margin + 0.3
        need_h = size[b] / 2.0 * margin + 0.3
        self.half_width = max(need_w, need_h / aspect, 0.3)
        self.offset = np.zeros(3)
        self.update()

    def set_cuboid(self, c: Cuboid | None, realign: bool = True, refit: bool = False) -> None:
        """Show ``c`` (None: nothing selected). ``realign``: align the frame with it (after an edit)."""
        if self._drag is not None and c is not None and realign:
            self._drag = None  # an edit from elsewhere (undo) ends a drag
        self.cuboid = c
        if c is None:
            self.anchor = None
        elif realign or self.anchor is None:
            first = self.anchor is None
            self.anchor = c
            self.offset = np.zeros(3)
            if refit or first:
                self.fit(c)
            else:
                self._ensure_visible(c)
        self._redraw()

    def _ensure_visible(self, c: Cuboid) -> None:
        a, b = ch.VIEW_AXES[self.name]
        aspect = max(self.height(), 1) / max(self.width(), 1)
        if c.size[a] / 2.0 > self.half_width * 0.9 or c.size[b] / 2.0 > self.half_width * aspect * 0.9:
            self.fit(c)

    def set_points(self, xyz: np.ndarray, colors: np.ndarray, size: float) -> None:
        self.points.setData(pos=xyz, color=colors, size=float(size))

    def _redraw(self) -> None:
        c, fr = self.cuboid, self.frame()
        if c is None or fr is None:
            for it in (self.outline, self.rotor, self.knobs):
                it.setData(pos=np.zeros((0, 3), np.float32))
            self.update()
            return
        self.outline.setData(pos=box_lines(c))
        hs = ch.handles(self.name, c, fr) if self.editable else []
        if hs:
            pos = np.array([h.pos for h in hs], dtype=np.float32)
            cols = np.array([_rgbf(ROTATE_COLOR if h.kind == "rotate" else
                                   HANDLE_COLOR if h.kind == "corner" else EDGE_HANDLE_COLOR) for h in hs],
                            dtype=np.float32)
            self.knobs.setData(pos=pos, color=cols, size=10.0 if self.width() > 220 else 8.0)
        else:
            self.knobs.setData(pos=np.zeros((0, 3), np.float32))
        if self.name == "top" and self.editable:
            front = c.center + ch.axes_of(c)[0] * (c.length / 2.0)
            self.rotor.setData(pos=np.array([c.center, front, front, ch.rotate_handle_pos(c, fr)], dtype=np.float32))
        else:
            self.rotor.setData(pos=np.zeros((0, 3), np.float32))
        self.update()

    def resizeGL(self, w, h):
        super().resizeGL(w, h)
        self._redraw()  # the rotation handle sits a fixed number of pixels out

    def viewMatrix(self):
        fr = self.frame()
        m = QMatrix4x4()
        if fr is None:
            m.lookAt(QVector3D(0, 0, 10), QVector3D(0, 0, 0), QVector3D(0, 1, 0))
            return m
        depth = 100.0
        eye = fr.origin - fr.forward * depth
        m.lookAt(QVector3D(*eye), QVector3D(*fr.origin), QVector3D(*fr.up))
        return m

    def projectionMatrix(self, region, viewport):
        x0, y0, w, h = viewport
        hw = self.half_width
        hh = hw * h / max(w, 1)
        left = -hw + 2 * hw * (region[0] - x0) / w
        right = -hw + 2 * hw * (region[0] + region[2] - x0) / w
        bottom = -hh + 2 * hh * (region[1] - y0) / h
        top = -hh + 2 * hh * (region[1] + region[3] - y0) / h
        m = QMatrix4x4()
        m.ortho(left, right, bottom, top, 0.1, 1000.0)
        return m

    # --- mouse: handles ---------------------------------------------------------------------------------
    def handle_at(self, x: float, y: float) -> ch.Handle | None:
        fr = self.frame()
        if self.cuboid is None or fr is None or not self.editable:
            return None
        return ch.hit(self.name, self.cuboid, fr, x, y)

    def begin_drag(self, x: float, y: float) -> ch.Handle | None:
        """What a left press at (x, y) does: start a handle drag (returned), or a pan (None)."""
        fr = self.frame()
        h = self.handle_at(x, y)
        if h is not None and fr is not None:
            self._drag = (h, self.cuboid, fr, fr.to_world(x, y))
        elif fr is not None:
            self._drag = ("pan", fr, x, y, self.offset.copy())
        return h

    def drag_to(self, x: float, y: float) -> Cuboid | None:
        if self._drag is None:
            return None
        if self._drag[0] == "pan":
            _, fr, x0, y0, off = self._drag
            self.offset = off - (fr.to_world(x, y) - fr.to_world(x0, y0))
            self._redraw()
            return None
        h, start, fr, p0 = self._drag
        new = ch.drag(self.name, h, start, p0, fr.to_world(x, y))
        self.cuboid = new
        self._redraw()
        if self.on_preview is not None:
            self.on_preview(new)
        return new

    def end_drag(self, x: float, y: float) -> Cuboid | None:
        if self._drag is None:
            return None
        if self._drag[0] == "pan":
            self.drag_to(x, y)
            self._drag = None
            self._view_changed()
            return None
        h, start = self._drag[0], self._drag[1]
        new = self.drag_to(x, y)
        self._drag = None
        if new is not None and new != start and self.on_commit is not None:
            self.on_commit(new, {"move": "move", "rotate": "rotate"}.get(h.kind, "resize"))
        return new

    def cancel_drag(self) -> None:
        if self._drag is not None and self._drag[0] != "pan":
            start = self._drag[1]
            self._drag = None
            self.cuboid = start
            self._redraw()
            if self.on_preview is not None:
                self.on_preview(start)
        self._drag = None

    @property
    def dragging(self) -> bool:
        return self._drag is not None

    def mousePressEvent(self, ev):
        self.setFocus(Qt.MouseFocusReason)
        if ev.button() == Qt.LeftButton:
            self.begin_drag(ev.position().x(), ev.position().y())
        elif ev.button() in (Qt.RightButton, Qt.MiddleButton):
            fr = self.frame()
            if fr is not None:
                self._drag = ("pan", fr, ev.position().x(), ev.position().y(), self.offset.copy())

    def mouseMoveEvent(self, ev):
        x, y = ev.position().x(), ev.position().y()
        if self._drag is not None and ev.buttons() != Qt.NoButton:
            self.drag_to(x, y)
            return
        h = self.handle_at(x, y)
        self.setCursor(QCursor(_cursor_for(self.name, h, self.cuboid, self.anchor)))

    def mouseReleaseEvent(self, ev):
        self.end_drag(ev.position().x(), ev.position().y())

    def mouseDoubleClickEvent(self, ev):
        self.fit(self.cuboid)
        self._redraw()
        self._view_changed()

    def wheelEvent(self, ev):
        delta = ev.angleDelta().y() or ev.angleDelta().x()
        self.half_width = float(np.clip(self.half_width * 0.999 ** delta, 0.05, 500.0))
        self._redraw()
        self._view_changed()

    def _view_changed(self) -> None:
        if self.on_view_changed is not None:
            self.on_view_changed()


def _cursor_for(view: str, h: ch.Handle | None, c: Cuboid | None, anchor: Cuboid | None):
    if h is None:
        return Qt.ArrowCursor
    if h.kind == "move":
        return Qt.SizeAllCursor
    if h.kind == "rotate":
        return Qt.PointingHandCursor
    su, sv = h.signs
    if su and sv:
        return Qt.SizeBDiagCursor if su * sv > 0 else Qt.SizeFDiagCursor
    return Qt.SizeHorCursor if su else Qt.SizeVerCursor


def text_item(text: str, pos, color=(230, 235, 240), size: int = 10) -> gl.GLTextItem:
    f = QFont()
    f.setPointSize(size)
    f.setBold(True)
    return gl.GLTextItem(pos=np.asarray(pos, dtype=np.float64), text=text, color=QColor(*color), font=f,
                         alignment=Qt.AlignHCenter | Qt.AlignBottom)
