"""The point-cloud type and what every reader shares: finishing a cloud (NaN points, far origins),
colour scaling, column naming, file checks and header reading."""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ...errors import BadInputError

#: the suffixes ``load_cloud`` understands (lower case)
CLOUD_SUFFIXES = (".ply", ".pcd", ".xyz", ".xyzrgb", ".xyzn", ".txt", ".pts", ".bin", ".las", ".laz")
#: the suffixes ``save_cloud`` writes
SAVE_SUFFIXES = (".ply", ".pcd", ".xyz", ".xyzrgb", ".txt", ".bin")
#: beyond this absolute coordinate (metres) the cloud is stored relative to an ``origin``
LARGE_COORDINATE = 1.0e5

TEXT_SUFFIXES = (".xyz", ".xyzrgb", ".xyzn", ".txt", ".pts")
_MAX_HEADER = 1 << 20  # a PLY / PCD header longer than 1 MiB is not a header


class CloudWarning(UserWarning):
    """Something in a point-cloud file was skipped (NaN / inf points)."""


@dataclass(eq=False)
class Cloud:
    """A point cloud: float32 coordinates, optional colours (0..1) and intensities."""

    xyz: np.ndarray
    rgb: np.ndarray | None = None
    intensity: np.ndarray | None = None
    path: Path | None = None
    n_dropped: int = 0  # NaN / inf points dropped on load
    origin: np.ndarray | None = None  # float64 [3]: file coordinates = xyz + origin

    def __post_init__(self) -> None:
        self.xyz = np.ascontiguousarray(self.xyz, dtype=np.float32)
        if self.xyz.ndim != 2 or self.xyz.shape[1] != 3:
            raise ValueError(f"Cloud.xyz should be [N, 3], got shape {self.xyz.shape}")
        n = len(self.xyz)
        if self.rgb is not None:
            self.rgb = np.ascontiguousarray(self.rgb, dtype=np.float32)
            if self.rgb.shape != (n, 3):
                raise ValueError(f"Cloud.rgb should be [{n}, 3], got shape {self.rgb.shape}")
        if self.intensity is not None:
            self.intensity = np.ascontiguousarray(self.intensity, dtype=np.float32).reshape(-1)
            if self.intensity.shape != (n,):
                raise ValueError(f"Cloud.intensity should be [{n}], got shape {self.intensity.shape}")
        if self.origin is not None:
            self.origin = np.asarray(self.origin, dtype=np.float64).reshape(3)
        if self.path is not None:
            self.path = Path(self.path)

    def __len__(self) -> int:
        return len(self.xyz)

    @property
    def n_points(self) -> int:
        return len(self.xyz)

    def take(self, indices: np.ndarray) -> "Cloud":
        """A new cloud with only the points at ``indices`` (same path and origin)."""
        return Cloud(
            self.xyz[indices],
            None if self.rgb is None else self.rgb[indices],
            None if self.intensity is None else self.intensity[indices],
            self.path,
            self.n_dropped,
            self.origin,
        )

    def world_xyz(self) -> np.ndarray:
        """The file's coordinates as float64 (xyz + origin)."""
        if self.origin is None:
            return self.xyz.astype(np.float64)
        return self.xyz.astype(np.float64) + self.origin


# --- helpers ---------------------------------------------------------------------------------------------


def finish(path: Path, xyz: np.ndarray, rgb=None, intensity=None, what: str = "points") -> Cloud:
    """Drop non-finite points (with a CloudWarning), refuse empty clouds, move far-away clouds to an
    origin, and build the Cloud."""
    xyz = np.asarray(xyz)
    n = len(xyz)
    if n == 0:
        raise BadInputError(path, f"the cloud has no {what}")
    n_bad = 0
    if not np.isfinite(xyz).all():  # the flat check is fast; the per-point mask only when needed
        finite = np.isfinite(xyz).all(axis=1)
        n_bad = int(n - np.count_nonzero(finite))
    if n_bad:
        if n_bad == n:
            raise BadInputError(path, f"all {n} points have NaN or infinite coordinates")
        warnings.warn(
            f"{path}: dropped {n_bad} of {n} points with NaN or infinite coordinates",
            CloudWarning,
            stacklevel=3,
        )
        xyz = xyz[finite]
        rgb = None if rgb is None else rgb[finite]
        intensity = None if intensity is None else intensity[finite]
    origin = None
    if xyz.dtype != np.float32:
        lo, hi = axis_bounds(xyz)
        if max(np.abs(lo).max(), np.abs(hi).max()) > LARGE_COORDINATE:
            origin = np.floor((lo.astype(np.float64) + hi) / 2.0)
            xyz = xyz - origin
    if intensity is not None:
        intensity = np.asarray(intensity, dtype=np.float32)
        if not np.isfinite(intensity).all():
            intensity = np.nan_to_num(intensity, nan=0.0, posinf=0.0, neginf=0.0)
    return Cloud(xyz, rgb, intensity, path, n_bad, origin)


def axis_bounds(xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-axis min and max of [N, 3] (column by column: much faster than ``min(axis=0)``)."""
    lo = np.array([xyz[:, k].min() for k in range(3)])
    hi = np.array([xyz[:, k].max() for k in range(3)])
    return lo, hi


def scale_colour(values: np.ndarray | Sequence[np.ndarray], dtype: np.dtype | None = None) -> np.ndarray:
    """Colours ([N, 3], or three [N] columns) of any integer / float type -> float32 [N, 3] in 0..1.

    Integer types are divided by their range (uint8 255, uint16 65535; 16-bit values that never
    exceed 255 are taken as 8-bit, as many LAS writers store them). Floats already in 0..1 are kept,
    floats up to 255 are divided by 255, larger ones by 65535; NaN becomes 0.
    """
    columns = [values[:, k] for k in range(3)] if isinstance(values, np.ndarray) else list(values)
    dtype = np.dtype(dtype if dtype is not None else columns[0].dtype)
    out = np.empty((len(columns[0]), 3), dtype=np.float32)
    for k in range(3):
        out[:, k] = columns[k]
    if dtype.kind in "ui":
        if dtype.itemsize == 1:
            top = 255.0
        else:
            top = 255.0 if (out.size == 0 or float(out.max()) <= 255.0) else 65535.0
        out *= np.float32(1.0 / top)
        return out
    if not np.isfinite(out).all():
        np.nan_to_num(out, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    top = float(out.max()) if out.size else 0.0
    if top > 1.0:
        out *= np.float32(1.0 / (255.0 if top <= 255.0 else 65535.0))
    np.clip(out, 0.0, 1.0, out=out)
    return out


_COLOUR_NAMES = (
    ("red", "green", "blue"),
    ("r", "g", "b"),
    ("diffuse_red", "diffuse_green", "diffuse_blue"),
)
INTENSITY_NAMES = ("intensity", "scalar_intensity", "reflectance", "remission", "i")


def find_columns(names: Sequence[str]) -> tuple[list[int] | None, list[int] | None, int | None]:
    """Indices of x y z, of the colour columns and of the intensity column among ``names``."""
    lower = [n.lower() for n in names]
    try:
        xyz = [lower.index("x"), lower.index("y"), lower.index("z")]
    except ValueError:
        xyz = None
    rgb = None
    for trio in _COLOUR_NAMES:
        if all(t in lower for t in trio):
            rgb = [lower.index(t) for t in trio]
            break
    inten = next((lower.index(n) for n in INTENSITY_NAMES if n in lower), None)
    return xyz, rgb, inten


def suffix_of(path: Path) -> str:
    return path.suffix.lower()


def check_file(path: Path) -> int:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise BadInputError(path, "file not found") from None
    except OSError as exc:
        raise BadInputError(path, f"cannot read the file ({exc.strerror or exc})") from None
    if path.is_dir():
        raise BadInputError(path, "is a folder, not a point-cloud file")
    if size == 0:
        raise BadInputError(path, "the file is empty")
    return size


def unknown_format(path: Path) -> BadInputError:
    return BadInputError(
        path,
        f"unknown point-cloud format '{path.suffix or '(no suffix)'}' "
        f"(known: {', '.join(CLOUD_SUFFIXES)})",
    )


def read_header_bytes(path: Path, end_marker: bytes, what: str) -> tuple[bytes, int]:
    """The header up to and including the line holding ``end_marker``, and the body's offset."""
    with open(path, "rb") as fh:
        head = fh.read(65536)
        while True:
            pos = head.find(end_marker)
            if pos >= 0:
                nl = head.find(b"\n", pos + len(end_marker))
                if nl >= 0:
                    return head[:nl], nl + 1
            if len(head) > _MAX_HEADER:
                break
            more = fh.read(65536)
            if not more:
                if pos >= 0:  # marker on the last line, nothing after it
                    return head, len(head)
                break
            head += more
    raise BadInputError(path, f"the {what} header has no '{end_marker.decode()}' line (truncated or not a {what} file)")


def load_with_open3d(path: Path) -> Cloud:
    """The fallback for layouts the numpy readers leave alone (PCD binary_compressed, PLY lists)."""
    try:
        import open3d as o3d  # heavy: only here (the packaged app leaves it out)
    except ImportError as exc:
        raise BadInputError(path, "this layout (PCD binary_compressed, or PLY with list properties) is read "
                            f"through open3d, which is not installed here ({exc}); save it as binary PCD or "
                            "PLY, or pip install open3d") from None
    try:
        pcd = o3d.t.io.read_point_cloud(str(path))
    except Exception as exc:  # open3d raises RuntimeError with its own wording
        raise BadInputError(path, f"open3d cannot read it ({exc})") from None
    if "positions" not in pcd.point or len(pcd.point["positions"]) == 0:
        raise BadInputError(path, "the cloud has no points (or open3d could not read them)")
    xyz = pcd.point["positions"].numpy().reshape(-1, 3)
    rgb = None
    if "colors" in pcd.point:
        c = pcd.point["colors"].numpy().reshape(-1, 3)
        rgb = scale_colour(c)
    intensity = pcd.point["intensity"].numpy().reshape(-1) if "intensity" in pcd.point else None
    return finish(path, xyz, rgb, intensity)
