"""Handle geometry of the cuboid editor's close-up views (top, side, front): where the handles are,
which one the mouse is on, and what dragging it does to the cuboid. Plain numpy, no Qt, so the
same code paths the mouse uses can be driven (and tested) directly.

A close-up is an orthographic view aligned with the cuboid it shows (the frame is taken from the
cuboid when it is selected or after an edit, and stays fixed during a drag):

========  =====================  ====================  ===========================
view      screen right           screen up             looking along
========  =====================  ====================  ===========================
top       box +x (length)        box +y (width)        -z (from above)
side      box +x (length)        +z (height)           box +y (from the box's right)
front     box +y (width)         +z (height)           box -x (at its front face)
========  =====================  ====================  ===========================

Handles: the four corners and four edge midpoints of the box's outline in the view (drag:
resize, the opposite side stays where it is), the inside (drag: move in the view's plane) and, in
the top view, a rotation handle in front of the box (drag: yaw about the centre).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from ...core.geometry import Cuboid, wrap_angle

__all__ = ["VIEWS", "MIN_SIZE", "ViewFrame", "Handle", "axes_of", "frame_for", "handles", "hit", "drag", "nudge"]

VIEWS = ("top", "side", "front")
#: local axes (0 length / x, 1 width / y, 2 height / z) shown along screen right and screen up
VIEW_AXES = {"top": (0, 1), "side": (0, 2), "front": (1, 2)}
MIN_SIZE = 0.02  # metres: a drag never makes a box thinner than this
ROTATE_OFFSET_PX = 28.0  # the rotation handle's distance in front of the box, in pixels


def axes_of(c: Cuboid) -> np.ndarray:
    """The box's own axes in the world, [3, 3]: rows +x (length), +y (width), +z (height)."""
    cos, sin = math.cos(c.yaw), math.sin(c.yaw)
    return np.array([[cos, sin, 0.0], [-sin, cos, 0.0], [0.0, 0.0, 1.0]])


@dataclass(frozen=True)
class ViewFrame:
    """An orthographic view: the world point at the widget's centre, the world directions of screen
    right / up / into the screen (unit vectors), the scale (world units per pixel) and the size."""

    origin: np.ndarray
    right: np.ndarray
    up: np.ndarray
    forward: np.ndarray
    scale: float
    width: int
    height: int

    def to_px(self, p) -> np.ndarray:
        """World point(s) [..., 3] -> pixel (x, y) [..., 2] (y down, as Qt's widget coordinates)."""
        d = np.asarray(p, dtype=np.float64) - self.origin
        x = self.width / 2.0 + d @ self.right / self.scale
        y = self.height / 2.0 - d @ self.up / self.scale
        return np.stack([x, y], axis=-1)

    def to_world(self, x: float, y: float) -> np.ndarray:
        """Pixel (x, y) -> the world point on the plane through ``origin`` facing the viewer."""
        return (self.origin + self.right * ((x - self.width / 2.0) * self.scale)
                + self.up * ((self.height / 2.0 - y) * self.scale))

    @property
    def half_width(self) -> float:
        return self.scale * self.width / 2.0

    @property
    def half_height(self) -> float:
        return self.scale * self.height / 2.0


def frame_for(view: str, c: Cuboid, half_width: float, width: int, height: int,
              origin: np.ndarray | None = None) -> ViewFrame:
    """The close-up frame of ``view`` aligned with ``c``; ``half_width`` world units from the centre to
    the left and right edges of a ``width`` x ``height`` pixel widget."""
    ax = axes_of(c)
    right, up = ax[VIEW_AXES[view][0]], ax[VIEW_AXES[view][1]]
    forward = np.cross(up, right)  # into the screen (right x up points at the viewer)
    o = c.center if origin is None else np.asarray(origin, dtype=np.float64)
    return ViewFrame(o, right, up, forward, max(half_width, 1e-6) * 2.0 / max(width, 1), max(width, 1), max(height, 1))


@dataclass(frozen=True)
class Handle:
    """``kind``: corner | edge | rotate | move. ``signs``: for each of the view's two axes, -1 / +1
    (the side of the box the handle is on) or 0 (that axis is not changed)."""

    kind: str
    signs: tuple[int, int] = (0, 0)
    pos: np.ndarray | None = None  # world position (None for move)


def handles(view: str, c: Cuboid, frame: ViewFrame) -> list[Handle]:
    """Corner and edge handles of ``c`` in ``view`` (and the rotation handle in the top view), in
    world coordinates (on the box's mid plane along the viewing direction)."""
    ax = axes_of(c)
    a, b = VIEW_AXES[view]
    half = c.size / 2.0
    out = []
    for su, sv in ((1, 1), (-1, 1), (-1, -1), (1, -1)):
        out.append(Handle("corner", (su, sv), c.center + ax[a] * su * half[a] + ax[b] * sv * half[b]))
    for su, sv in ((1, 0), (0, 1), (-1, 0), (0, -1)):
        out.append(Handle("edge", (su, sv), c.center + ax[a] * su * half[a] + ax[b] * sv * half[b]))
    if view == "top":
        out.append(Handle("rotate", (1, 0), rotate_handle_pos(c, frame)))
    return out


def rotate_handle_pos(c: Cuboid, frame: ViewFrame) -> np.ndarray:
    """The rotation handle: in front of the box's front face (+x), a fixed number of pixels out."""
    ax = axes_of(c)
    return c.center + ax[0] * (c.length / 2.0 + ROTATE_OFFSET_PX * frame.scale)


def hit(view: str, c: Cuboid, frame: ViewFrame, x: float, y: float, radius: float = 9.0) -> Handle | None:
    """The handle under pixel (x, y): the rotation handle, a corner, an edge (anywhere along it),
    the inside (move), or None."""
    hs = handles(view, c, frame)
    best, best_d = None, radius
    for h in hs:
        if h.kind in ("rotate", "corner"):
            d = float(np.hypot(*(frame.to_px(h.pos) - (x, y))))
            if d <= best_d + (0.5 if h.kind == "rotate" else 0.0):
                best, best_d = h, d
    if best is not None:
        return best
    # edges: distance to the segment between the two corners on that side
    corners = {h.signs: frame.to_px(h.pos) for h in hs if h.kind == "corner"}
    for h in hs:
        if h.kind != "edge":
            continue
        su, sv = h.signs
        if su:
            p, q = corners[(su, 1)], corners[(su, -1)]
        else:
            p, q = corners[(1, sv)], corners[(-1, sv)]
        d = _segment_distance(np.array([x, y]), p, q)
        if d <= best_d:
            best, best_d = h, d
    if best is not None:
        return best
    quad = np.array([corners[(1, 1)], corners[(-1, 1)], corners[(-1, -1)], corners[(1, -1)]])
    if _inside_quad(np.array([x, y]), quad):
        return Handle("move")
    return None


def _segment_distance(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    ab = b - a
    n = float(ab @ ab)
    t = 0.0 if n == 0 else min(1.0, max(0.0, float((p - a) @ ab) / n))
    return float(np.hypot(*(a + t * ab - p)))


def _inside_quad(p: np.ndarray, quad: np.ndarray) -> bool:
    signs = []
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        signs.append((b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]))
    return all(s >= 0 for s in signs) or all(s <= 0 for s in signs)


def drag(view: str, handle: Handle, start: Cuboid, p0, p1) -> Cuboid:
    """The cuboid after dragging ``handle`` of ``start`` from world point ``p0`` to ``p1`` (both on
    the view's plane, e.g. from ``ViewFrame.to_world``)."""
    p0 = np.asarray(p0, dtype=np.float64)
    p1 = np.asarray(p1, dtype=np.float64)
    d = p1 - p0
    if handle.kind == "move":
        return replace(start, cx=start.cx + d[0], cy=start.cy + d[1], cz=start.cz + d[2])
    if handle.kind == "rotate":
        a0 = math.atan2(p0[1] - start.cy, p0[0] - start.cx)
        a1 = math.atan2(p1[1] - start.cy, p1[0] - start.cx)
        return replace(start, yaw=wrap_angle(start.yaw + a1 - a0))
    ax = axes_of(start)
    size = start.size.copy()
    centre = start.center.copy()
    for axis, sign in zip(VIEW_AXES[view], handle.signs):
        if not sign:
            continue
        grow = float(d @ ax[axis]) * sign
        new = max(MIN_SIZE, size[axis] + grow)
        centre += ax[axis] * sign * (new - size[axis]) / 2.0
        size[axis] = new
    return replace(start, cx=centre[0], cy=centre[1], cz=centre[2], length=size[0], width=size[1], height=size[2])


def nudge(c: Cuboid, what: str, axis: int, amount: float) -> Cuboid:
    """A keyboard step: ``what`` = move (along the box's own axis 0 / 1, or z for 2), resize (the size
    along ``axis`` changes by ``amount``, the centre stays) or rotate (yaw by ``amount`` radians)."""
    if what == "move":
        d = axes_of(c)[axis] * amount
        return replace(c, cx=c.cx + d[0], cy=c.cy + d[1], cz=c.cz + d[2])
    if what == "resize":
        size = c.size.copy()
        size[axis] = max(MIN_SIZE, size[axis] + amount)
        return replace(c, length=size[0], width=size[1], height=size[2])
    if what == "rotate":
        return replace(c, yaw=wrap_angle(c.yaw + amount))
    raise ValueError(f"unknown nudge {what!r}")
