"""KITTI object labels (``label_2/*.txt``) and calibration files (``calib/*.txt``) <-> cuboids.

A label line is ``type truncated occluded alpha x1 y1 x2 y2 h w l x y z rotation_y [score]``.

Frames. KITTI labels live in the **rectified camera frame**: x right, y down, z forward; ``x y z``
is the **bottom centre** of the box; ``h w l`` are height, width, length; ``rotation_y`` turns the
box about the camera's y axis (pointing down), 0 meaning the length runs along camera +x.
Our ``Cuboid`` lives in the **LiDAR / world frame**: x forward, y left, z up; its centre is the
**geometric centre**; ``yaw`` is about +z. Dimensions map directly (length = l, width = w,
height = h).

Conversion. A calibration gives ``Tr_velo_to_cam`` (3x4) and ``R0_rect`` (3x3): a LiDAR point p maps
to ``R0_rect @ (R p + t)`` in the rectified camera frame. The centre moves by h/2 along LiDAR z
(bottom centre <-> geometric centre) before / after that transform, and the heading is carried
through the rotation's ground-plane part, so reading then writing with the same calibration is exact.
**Without a calibration** we use the bare axis permutation, cam = (-y_lidar, -z_lidar, x_lidar),
with no translation: exact for data that was written the same way, approximate (the sensors' offset,
about 0.3 m in real KITTI, is ignored) for real KITTI labels. Under the permutation
``yaw = -(rotation_y + pi/2)``, the usual formula.

Writing: ``truncated`` 0, ``occluded`` 0, ``alpha`` from the position and heading, and the 2D box
from the corners projected with the calibration's ``P2`` when it has one (else ``0 0 0 0``).
``type`` is the cuboid's label with spaces made underscores (``Misc`` when empty). Angles are
wrapped to (-pi, pi]. ``DontCare`` lines are skipped on reading; a malformed line raises
``BadInputError`` naming the file and the line.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from ..errors import BadInputError
from ..geometry import Cuboid, corners, wrap_angle

__all__ = ["KittiCalib", "read_kitti_calib", "read_kitti_labels", "write_kitti_labels", "to_kitti_line",
           "from_kitti_fields", "AXIS_PERMUTATION"]

#: LiDAR (x fwd, y left, z up) -> camera (x right, y down, z fwd), without translation
AXIS_PERMUTATION = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]])


@dataclass(frozen=True, eq=False)
class KittiCalib:
    """The parts of a KITTI calibration that the labels need."""

    tr_velo_to_cam: np.ndarray  # 3x4
    r0_rect: np.ndarray  # 3x3
    p2: np.ndarray | None = None  # 3x4, left colour camera projection (for the 2D boxes)

    @classmethod
    def permutation(cls) -> "KittiCalib":
        """The calibration-free convention: the axis permutation, no translation."""
        return cls(np.hstack([AXIS_PERMUTATION, np.zeros((3, 1))]), np.eye(3), None)

    @property
    def rotation(self) -> np.ndarray:
        """LiDAR -> rectified camera rotation (3x3)."""
        return self.r0_rect @ self.tr_velo_to_cam[:, :3]

    @property
    def translation(self) -> np.ndarray:
        return self.r0_rect @ self.tr_velo_to_cam[:, 3]

    def lidar_to_cam(self, p: np.ndarray) -> np.ndarray:
        return self.rotation @ np.asarray(p, dtype=np.float64) + self.translation

    def cam_to_lidar(self, q: np.ndarray) -> np.ndarray:
        return np.linalg.solve(self.rotation, np.asarray(q, dtype=np.float64) - self.translation)


_CALIB_KEYS = {
    "tr_velo_to_cam": "tr_velo_to_cam", "tr_velo_cam": "tr_velo_to_cam",
    "r0_rect": "r0_rect", "r_rect": "r0_rect", "r0": "r0_rect",
    "p2": "p2",
}


def read_kitti_calib(path: str | os.PathLike) -> KittiCalib:
    """Read a KITTI calibration (object benchmark ``P0..P3, R0_rect, Tr_velo_to_cam, Tr_imu_to_velo``;
    the tracking benchmark's ``R_rect`` / ``Tr_velo_cam`` spellings are accepted too)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInputError(path, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(path, f"cannot read the file ({exc})") from None
    found: dict[str, np.ndarray] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        words = line.split()
        if not words:
            continue
        # "P2: 1 2 3 ..." (object benchmark) or "R_rect 1 2 3 ..." (tracking benchmark)
        key, _, first = words[0].partition(":")
        rest = ([first] if first else []) + words[1:]
        key = key.lower()
        if key not in _CALIB_KEYS:
            continue
        try:
            values = np.array([float(v) for v in rest], dtype=np.float64)
        except ValueError:
            raise BadInputError(path, f"non-numeric value in '{key}'", f"line {lineno}") from None
        name = _CALIB_KEYS[key]
        want = 9 if name == "r0_rect" else 12
        if len(values) != want:
            raise BadInputError(path, f"'{key}' should have {want} numbers, found {len(values)}", f"line {lineno}")
        found[name] = values.reshape(3, 3) if want == 9 else values.reshape(3, 4)
    if "tr_velo_to_cam" not in found:
        raise BadInputError(path, "no Tr_velo_to_cam line: not a KITTI calibration file")
    return KittiCalib(found["tr_velo_to_cam"], found.get("r0_rect", np.eye(3)), found.get("p2"))


def _resolve_calib(calib) -> KittiCalib:
    if calib is None:
        return KittiCalib.permutation()
    if isinstance(calib, KittiCalib):
        return calib
    return read_kitti_calib(calib)


def _ground_block(calib: KittiCalib) -> np.ndarray:
    """The 2x2 map from a LiDAR ground-plane direction (cos yaw, sin yaw) to the camera's (x, z)."""
    r = calib.rotation
    return np.array([[r[0, 0], r[0, 1]], [r[2, 0], r[2, 1]]])


def _yaw_to_ry(yaw: float, calib: KittiCalib) -> float:
    dx, dz = _ground_block(calib) @ np.array([math.cos(yaw), math.sin(yaw)])
    # a heading of rotation_y in the camera frame is (cos ry, 0, -sin ry)
    return wrap_angle(math.atan2(-dz, dx))


def _ry_to_yaw(ry: float, calib: KittiCalib) -> float:
    c, s = np.linalg.solve(_ground_block(calib), np.array([math.cos(ry), -math.sin(ry)]))
    return wrap_angle(math.atan2(s, c))


def from_kitti_fields(h: float, w: float, l: float, x: float, y: float, z: float, ry: float,
                      label: str, calib: KittiCalib) -> Cuboid:
    """One KITTI box (camera frame, bottom centre) as a LiDAR-frame cuboid."""
    bottom = calib.cam_to_lidar(np.array([x, y, z]))
    return Cuboid(float(bottom[0]), float(bottom[1]), float(bottom[2] + h / 2.0), float(l), float(w), float(h),
                  _ry_to_yaw(ry, calib), label)


def to_kitti_line(c: Cuboid, calib=None) -> str:
    """One label line for cuboid ``c`` (LiDAR frame) in the camera frame of ``calib``."""
    calib = _resolve_calib(calib)
    bottom = calib.lidar_to_cam(np.array([c.cx, c.cy, c.cz - c.height / 2.0]))
    ry = _yaw_to_ry(c.yaw, calib)
    alpha = wrap_angle(ry - math.atan2(bottom[0], bottom[2]))
    box2d = (0.0, 0.0, 0.0, 0.0)
    if calib.p2 is not None:
        cam = np.array([calib.lidar_to_cam(p) for p in corners(c)])
        if (cam[:, 2] > 1e-3).all():  # in front of the camera
            uvw = np.hstack([cam, np.ones((8, 1))]) @ calib.p2.T
            uv = uvw[:, :2] / uvw[:, 2:3]
            box2d = (uv[:, 0].min(), uv[:, 1].min(), uv[:, 0].max(), uv[:, 1].max())
    kind = "_".join(c.label.split()) or "Misc"
    nums = [*box2d, c.height, c.width, c.length, *bottom, ry]
    return f"{kind} 0.00 0 {alpha:.6f} " + " ".join(f"{v:.9f}" for v in nums)


def read_kitti_labels(path: str | os.PathLike, calib=None) -> list[Cuboid]:
    """Cuboids (LiDAR frame) from a KITTI label file. ``calib``: a ``KittiCalib``, a calibration file's
    path, or None for the axis permutation (see the module docstring). DontCare lines are skipped."""
    path = Path(path)
    calib = _resolve_calib(calib)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInputError(path, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(path, f"cannot read the file ({exc})") from None
    out = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        where = f"line {lineno}"
        if fields[0] == "DontCare":
            continue
        if len(fields) not in (15, 16):
            raise BadInputError(path, f"expected 15 or 16 fields (type ... rotation_y [score]), found {len(fields)}", where)
        try:
            values = [float(v) for v in fields[1:]]
        except ValueError:
            bad = next(v for v in fields[1:] if not _is_float(v))
            raise BadInputError(path, f"not a number: '{bad[:30]}'", where) from None
        if not all(math.isfinite(v) for v in values):
            raise BadInputError(path, "NaN or infinite value", where)
        h, w, l, x, y, z, ry = values[7:14]
        if h < 0 or w < 0 or l < 0:
            raise BadInputError(path, f"negative box size (h {h}, w {w}, l {l})", where)
        out.append(from_kitti_fields(h, w, l, x, y, z, ry, fields[0], calib))
    return out


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def write_kitti_labels(path: str | os.PathLike, cuboids: Iterable[Cuboid], calib=None) -> Path:
    """Write ``cuboids`` (LiDAR frame) as a KITTI label file; see the module docstring."""
    path = Path(path)
    calib = _resolve_calib(calib)
    lines = [to_kitti_line(c, calib) for c in cuboids]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path
