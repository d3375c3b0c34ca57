"""3D cuboids (oriented boxes) and the geometry the viewer, the formats and the scoring need.

Frame: right-handed, **z is up**; the ground is the plane z = const. A ``Cuboid`` is given by its
geometric centre (cx, cy, cz), its size (``length`` along the box's own x axis, ``width`` along its
own y axis, ``height`` along z) and ``yaw``, the rotation about +z in radians, counter-clockwise
seen from above, measured from +x (yaw 0: length along +x). Boxes never tilt (no roll, no pitch),
as in KITTI, nuScenes and the CVAT/labelCloud tools we read.

Everything here is plain numpy; a function that "changes" a cuboid returns a new one.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

__all__ = [
    "Cuboid",
    "wrap_angle",
    "corners",
    "bev_corners",
    "points_in_cuboid",
    "ray_box_entry",
    "iou_3d",
    "iou_bev",
    "intersection_volume",
    "polygon_area",
    "clip_convex_polygon",
    "translate",
    "rotate",
    "resize",
    "cuboid_from_points",
]


def wrap_angle(angle: float) -> float:
    """``angle`` mapped to (-pi, pi]."""
    a = math.fmod(angle + math.pi, 2.0 * math.pi)
    if a <= 0.0:
        a += 2.0 * math.pi
    return a - math.pi


@dataclass(frozen=True)
class Cuboid:
    """An oriented 3D box: centre, size (length along its own x, width along its own y, height
    along z) and yaw about +z (radians, counter-clockwise from +x). ``label`` is its class name."""

    cx: float
    cy: float
    cz: float
    length: float
    width: float
    height: float
    yaw: float = 0.0
    label: str = ""

    def __post_init__(self) -> None:
        values = (self.cx, self.cy, self.cz, self.length, self.width, self.height, self.yaw)
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"a cuboid needs finite numbers, got {values}")
        if self.length < 0 or self.width < 0 or self.height < 0:
            raise ValueError(
                f"a cuboid's size cannot be negative (length {self.length}, width {self.width}, "
                f"height {self.height})"
            )

    @property
    def center(self) -> np.ndarray:
        return np.array([self.cx, self.cy, self.cz], dtype=np.float64)

    @property
    def size(self) -> np.ndarray:
        """(length, width, height)."""
        return np.array([self.length, self.width, self.height], dtype=np.float64)

    @property
    def volume(self) -> float:
        return self.length * self.width * self.height

    @property
    def bottom(self) -> float:
        """z of the bottom face."""
        return self.cz - self.height / 2.0

    @property
    def top(self) -> float:
        """z of the top face."""
        return self.cz + self.height / 2.0

    def as_array(self) -> np.ndarray:
        """[cx, cy, cz, length, width, height, yaw] as float64."""
        return np.array(
            [self.cx, self.cy, self.cz, self.length, self.width, self.height, self.yaw], dtype=np.float64
        )

    @classmethod
    def from_array(cls, values, label: str = "") -> "Cuboid":
        """The inverse of ``as_array``."""
        v = [float(x) for x in values]
        if len(v) != 7:
            raise ValueError(f"expected 7 values (cx cy cz length width height yaw), got {len(v)}")
        return cls(*v, label=label)


# --- corners and containment ---------------------------------------------------------------------------

# local (length, width) signs of the four ground-plane corners, counter-clockwise seen from above,
# starting at the front-left corner (+x, +y in the box's own frame)
_BEV_SIGNS = np.array([[1.0, 1.0], [-1.0, 1.0], [-1.0, -1.0], [1.0, -1.0]])


def bev_corners(c: Cuboid) -> np.ndarray:
    """The box's footprint in the ground plane: [4, 2] (x, y), counter-clockwise seen from above,
    starting at the front-left corner (own +x, +y), then rear-left, rear-right, front-right."""
    local = _BEV_SIGNS * np.array([c.length / 2.0, c.width / 2.0])
    cos, sin = math.cos(c.yaw), math.sin(c.yaw)
    rot = np.array([[cos, -sin], [sin, cos]])
    return local @ rot.T + np.array([c.cx, c.cy])


def corners(c: Cuboid) -> np.ndarray:
    """The 8 corners, [8, 3].

    Order: 0-3 the bottom face, 4-7 the top face; within each face counter-clockwise seen from above,
    starting at the front-left corner (own +x, +y): front-left, rear-left, rear-right, front-right.
    So corner i and corner i + 4 share an edge, and the front face (own +x) is 0, 3, 7, 4.
    """
    xy = bev_corners(c)
    out = np.empty((8, 3), dtype=np.float64)
    out[:4, :2] = xy
    out[4:, :2] = xy
    out[:4, 2] = c.cz - c.height / 2.0
    out[4:, 2] = c.cz + c.height / 2.0
    return out


def points_in_cuboid(points: np.ndarray, c: Cuboid, tol: float = 1e-6) -> np.ndarray:
    """Boolean mask [N]: which points lie inside the cuboid or on its faces (within ``tol``)."""
    pts = np.asarray(points)
    if pts.ndim != 2 or pts.shape[1] < 3:
        raise ValueError(f"points should be [N, 3], got shape {pts.shape}")
    cos, sin = math.cos(c.yaw), math.sin(c.yaw)
    dx = pts[:, 0] - c.cx
    dy = pts[:, 1] - c.cy
    # into the box's own frame (rotate by -yaw)
    lx = dx * cos + dy * sin
    ly = -dx * sin + dy * cos
    mask = np.abs(lx) <= c.length / 2.0 + tol
    mask &= np.abs(ly) <= c.width / 2.0 + tol
    mask &= np.abs(pts[:, 2] - c.cz) <= c.height / 2.0 + tol
    return mask


# --- polygons -------------------------------------------------------------------------------------------


def ray_box_entry(origin: np.ndarray, direction: np.ndarray, c: Cuboid) -> float | None:
    """Distance along the ray ``origin + t * direction`` (t >= 0) to where it enters box ``c`` (0
    when it starts inside), or None when it misses. A slab test in the box's own frame."""
    cos, sin = math.cos(c.yaw), math.sin(c.yaw)
    axes = np.array([[cos, sin, 0.0], [-sin, cos, 0.0], [0.0, 0.0, 1.0]])  # rows: the box's +x, +y, +z
    local_o = axes @ (np.asarray(origin, dtype=np.float64) - c.center)
    local_d = axes @ np.asarray(direction, dtype=np.float64)
    half = c.size / 2.0
    t0, t1 = -math.inf, math.inf
    for k in range(3):
        if abs(local_d[k]) < 1e-12:
            if abs(local_o[k]) > half[k]:
                return None
            continue
        a = (-half[k] - local_o[k]) / local_d[k]
        b = (half[k] - local_o[k]) / local_d[k]
        if a > b:
            a, b = b, a
        t0, t1 = max(t0, a), min(t1, b)
        if t0 > t1:
            return None
    if t1 < 0:
        return None
    return max(t0, 0.0)


def polygon_area(poly: np.ndarray) -> float:
    """Signed area (shoelace) of a polygon [K, 2]; positive when counter-clockwise."""
    p = np.asarray(poly, dtype=np.float64)
    if len(p) < 3:
        return 0.0
    x, y = p[:, 0], p[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def clip_convex_polygon(subject: np.ndarray, clip: np.ndarray) -> np.ndarray:
    """Sutherland-Hodgman: the part of polygon ``subject`` inside the convex polygon ``clip``.

    Both are [K, 2]; ``clip`` must be counter-clockwise. Returns [M, 2] (M may be 0).
    """
    output = [tuple(p) for p in np.asarray(subject, dtype=np.float64)]
    clip = np.asarray(clip, dtype=np.float64)
    n = len(clip)
    for i in range(n):
        if not output:
            break
        ax, ay = clip[i]
        bx, by = clip[(i + 1) % n]
        ex, ey = bx - ax, by - ay
        scale = math.hypot(ex, ey)
        if scale == 0.0:
            continue

        def side(p, ax=ax, ay=ay, ex=ex, ey=ey, scale=scale):
            # signed distance to the edge's line; >= 0 is inside (left of a counter-clockwise edge)
            return (ex * (p[1] - ay) - ey * (p[0] - ax)) / scale

        inputs, output = output, []
        prev = inputs[-1]
        d_prev = side(prev)
        for cur in inputs:
            d_cur = side(cur)
            if d_cur >= 0.0:
                if d_prev < 0.0:
                    t = d_prev / (d_prev - d_cur)
                    output.append((prev[0] + t * (cur[0] - prev[0]), prev[1] + t * (cur[1] - prev[1])))
                output.append(cur)
            elif d_prev >= 0.0:
                t = d_prev / (d_prev - d_cur)
                output.append((prev[0] + t * (cur[0] - prev[0]), prev[1] + t * (cur[1] - prev[1])))
            prev, d_prev = cur, d_cur
    return np.array(output, dtype=np.float64).reshape(-1, 2)


def _bev_intersection_area(a: Cuboid, b: Cuboid) -> float:
    # quick reject by bounding circles
    ra = 0.5 * math.hypot(a.length, a.width)
    rb = 0.5 * math.hypot(b.length, b.width)
    if math.hypot(a.cx - b.cx, a.cy - b.cy) > ra + rb:
        return 0.0
    pa, pb = bev_corners(a), bev_corners(b)
    if polygon_area(pa) <= 0.0 or polygon_area(pb) <= 0.0:  # a degenerate footprint
        return 0.0
    return max(0.0, polygon_area(clip_convex_polygon(pa, pb)))


def _z_overlap(a: Cuboid, b: Cuboid) -> float:
    return max(0.0, min(a.top, b.top) - max(a.bottom, b.bottom))


def intersection_volume(a: Cuboid, b: Cuboid) -> float:
    """Exact volume shared by two (yaw-rotated) cuboids."""
    dz = _z_overlap(a, b)
    if dz <= 0.0:
        return 0.0
    return _bev_intersection_area(a, b) * dz


def iou_3d(a: Cuboid, b: Cuboid) -> float:
    """Exact 3D intersection over union: the footprints' intersection polygon (convex clipping)
    times the overlap in z, over the union of the volumes. 0 when both boxes are empty."""
    inter = intersection_volume(a, b)
    union = a.volume + b.volume - inter
    if union <= 0.0:
        return 0.0
    return float(min(1.0, max(0.0, inter / union)))


def iou_bev(a: Cuboid, b: Cuboid) -> float:
    """Bird's-eye-view IoU: the footprints' intersection area over their union (z ignored)."""
    inter = _bev_intersection_area(a, b)
    union = a.length * a.width + b.length * b.width - inter
    if union <= 0.0:
        return 0.0
    return float(min(1.0, max(0.0, inter / union)))


# --- edits (each returns a new cuboid) ------------------------------------------------------------------


def translate(c: Cuboid, dx: float = 0.0, dy: float = 0.0, dz: float = 0.0) -> Cuboid:
    """The cuboid moved by (dx, dy, dz)."""
    return replace(c, cx=c.cx + dx, cy=c.cy + dy, cz=c.cz + dz)


def rotate(c: Cuboid, angle: float, about: tuple[float, float] | None = None) -> Cuboid:
    """The cuboid turned by ``angle`` radians about the vertical axis through its centre, or through
    the point ``about`` = (x, y). The new yaw is wrapped to (-pi, pi]."""
    cx, cy = c.cx, c.cy
    if about is not None:
        ox, oy = float(about[0]), float(about[1])
        cos, sin = math.cos(angle), math.sin(angle)
        dx, dy = cx - ox, cy - oy
        cx, cy = ox + cos * dx - sin * dy, oy + sin * dx + cos * dy
    return replace(c, cx=cx, cy=cy, yaw=wrap_angle(c.yaw + angle))


def resize(
    c: Cuboid,
    length: float | None = None,
    width: float | None = None,
    height: float | None = None,
    keep_bottom: bool = False,
) -> Cuboid:
    """The cuboid with a new size (None keeps that dimension). The centre stays where it is, or,
    with ``keep_bottom``, the bottom face stays (the box grows upwards from the ground)."""
    new_h = c.height if height is None else float(height)
    cz = c.bottom + new_h / 2.0 if keep_bottom else c.cz
    return replace(
        c,
        cz=cz,
        length=c.length if length is None else float(length),
        width=c.width if width is None else float(width),
        height=new_h,
    )


def cuboid_from_points(points: np.ndarray, yaw: float = 0.0, label: str = "") -> Cuboid:
    """The tightest cuboid with the given yaw that holds all ``points`` [N, 3] (N >= 1)."""
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] < 3 or len(pts) == 0:
        raise ValueError(f"cuboid_from_points needs [N, 3] points with N >= 1, got shape {pts.shape}")
    pts = pts[:, :3]
    if not np.isfinite(pts).all():
        raise ValueError("cuboid_from_points: the points contain NaN or inf")
    cos, sin = math.cos(yaw), math.sin(yaw)
    lx = pts[:, 0] * cos + pts[:, 1] * sin
    ly = -pts[:, 0] * sin + pts[:, 1] * cos
    lo = np.array([lx.min(), ly.min(), pts[:, 2].min()])
    hi = np.array([lx.max(), ly.max(), pts[:, 2].max()])
    mid = (lo + hi) / 2.0
    size = hi - lo
    # the centre back into the world frame (rotate by +yaw)
    cx = mid[0] * cos - mid[1] * sin
    cy = mid[0] * sin + mid[1] * cos
    return Cuboid(cx, cy, float(mid[2]), float(size[0]), float(size[1]), float(size[2]), float(yaw), label)
