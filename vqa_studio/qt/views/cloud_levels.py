"""A cloud made ready for the 3D views: loaded, thinned to a coarse level (drawn while the camera
moves) and a fine one (at rest) by the core's level of detail, and coloured for a colour mode.

No widgets here: ``prepare_cloud``, ``add_coarse_level`` and ``compute_colors`` run in worker
threads (``CloudView`` submits them to its ``TaskRunner``).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...core.data.clouds import Cloud, LevelOfDetail, load_cloud
from .cloud_colors import attention_colors, height_colors, rgba

__all__ = ["CloudLevels", "prepare_cloud", "add_coarse_level", "compute_colors", "COLOR_MODES"]

COLOR_MODES = ("rgb", "height", "attention")


@dataclass
class CloudLevels:
    """What the view draws of one cloud: a coarse level (while the camera moves) and a fine one (at
    rest), each with positions (relative to ``origin``), file colours and display colours."""

    n_points: int
    coarse_xyz: np.ndarray
    fine_xyz: np.ndarray
    coarse_rgb: np.ndarray | None
    fine_rgb: np.ndarray | None
    zrange: tuple[float, float]
    ground_z: float
    origin: np.ndarray
    path: Path | None = None
    lod_sizes: list[int] = field(default_factory=list)
    coarse_rgba: np.ndarray | None = None
    fine_rgba: np.ndarray | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    coarse_pending: bool = False  # the coarse level is still to be computed (``add_coarse_level``)
    color_mode: str = "rgb"  # what the display colours were computed for
    color_attention: Any = None

    @property
    def same_level(self) -> bool:
        return self.coarse_xyz is self.fine_xyz


def add_coarse_level(levels: CloudLevels, moving_budget: int, mode: str = "rgb", attention=None
                     ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, list[int]]:
    """The coarse level of a cloud prepared with ``defer_coarse`` (its fine level is the whole
    cloud): (xyz, rgb, rgba colours, level sizes). Does not change ``levels``."""
    lod = LevelOfDetail(levels.fine_xyz, budgets=[moving_budget])
    idx = lod.indices(moving_budget)
    xyz = np.ascontiguousarray(levels.fine_xyz[idx])
    rgb = None if levels.fine_rgb is None else np.ascontiguousarray(levels.fine_rgb[idx])
    tmp = CloudLevels(levels.n_points, xyz, xyz, rgb, rgb, levels.zrange, levels.ground_z, levels.origin)
    rgba = compute_colors(tmp, mode, attention)[1]
    return xyz, rgb, rgba, lod.sizes


def prepare_cloud(source: str | Path | Cloud | np.ndarray, moving_budget: int | None = 250_000,
                  still_budget: int | None = 1_500_000, mode: str = "rgb", attention=None,
                  defer_coarse: bool = False) -> CloudLevels:
    """Load (if a path) and thin a cloud for display, and colour it. ``moving_budget`` None: no
    coarse level; ``still_budget`` None: every point at rest.

    With ``defer_coarse``, a cloud that fits ``still_budget`` is returned at once with its fine level
    only (``coarse_pending``): the first frame does not wait for the level of detail, and
    ``add_coarse_level`` computes the coarse one afterwards."""
    t0 = time.perf_counter()
    path = None
    if isinstance(source, (str, Path)):
        path = Path(source)
        cloud = load_cloud(path)
    elif isinstance(source, Cloud):
        cloud = source
        path = source.path
    else:
        cloud = Cloud(np.asarray(source, dtype=np.float32)[:, :3])
    t1 = time.perf_counter()
    n = len(cloud)
    budgets = [b for b in (moving_budget, still_budget) if b is not None and b < n]
    pending = False
    if defer_coarse and (still_budget is None or n <= still_budget) and budgets:
        budgets, pending = [], True
    if budgets:
        lod = LevelOfDetail(cloud, budgets=budgets)
        fine_idx = lod.indices(still_budget) if still_budget is not None else lod.indices(None)
        coarse_idx = lod.indices(moving_budget) if moving_budget is not None else fine_idx
        sizes = lod.sizes
    else:
        fine_idx = coarse_idx = None
        sizes = [n]
    t2 = time.perf_counter()

    def take(a, idx):
        if a is None:
            return None
        return a if idx is None else np.ascontiguousarray(a[idx])

    fine_xyz = take(cloud.xyz, fine_idx)
    fine_rgb = take(cloud.rgb, fine_idx)
    if coarse_idx is fine_idx or (coarse_idx is not None and fine_idx is not None and len(coarse_idx) == len(fine_idx)):
        coarse_xyz, coarse_rgb = fine_xyz, fine_rgb
    else:
        coarse_xyz, coarse_rgb = take(cloud.xyz, coarse_idx), take(cloud.rgb, coarse_idx)
    z = fine_xyz[:, 2]
    sample = z if len(z) <= 200_000 else z[:: max(1, len(z) // 200_000)]
    lo, ground, hi = np.percentile(sample, [1.0, 0.5, 99.0])
    levels = CloudLevels(
        n_points=n, coarse_xyz=coarse_xyz, fine_xyz=fine_xyz, coarse_rgb=coarse_rgb, fine_rgb=fine_rgb,
        zrange=(float(lo), float(hi) if hi > lo else float(lo) + 1.0), ground_z=float(ground),
        origin=np.zeros(3) if cloud.origin is None else np.asarray(cloud.origin, dtype=np.float64),
        path=path, lod_sizes=sizes, coarse_pending=pending,
    )
    levels.coarse_rgba, levels.fine_rgba = compute_colors(levels, mode, attention)
    levels.color_mode, levels.color_attention = mode, attention
    t3 = time.perf_counter()
    levels.seconds = {"load": t1 - t0, "lod": t2 - t1, "colour": t3 - t2}
    return levels


def compute_colors(levels: CloudLevels, mode: str, attention=None) -> tuple[np.ndarray, np.ndarray]:
    """RGBA float32 colours of the coarse and the fine level for a colour mode. Attention without
    attention values shows RGB; RGB without colours in the file shows height."""

    def one(xyz, rgb):
        if mode == "attention" and attention is not None:
            centres, values = attention  # in the file's coordinates
            shifted = np.asarray(centres, dtype=np.float64).reshape(-1, 3) - levels.origin
            return rgba(attention_colors(xyz, shifted, values))
        if mode in ("rgb", "attention") and rgb is not None:
            return rgba(rgb)
        return rgba(height_colors(xyz[:, 2], levels.zrange))

    fine = one(levels.fine_xyz, levels.fine_rgb)
    coarse = fine if levels.same_level else one(levels.coarse_xyz, levels.coarse_rgb)
    return coarse, fine
