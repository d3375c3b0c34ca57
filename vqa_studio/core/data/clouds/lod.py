"""Level of detail: display subsets of a cloud picked along a Morton (Z-order) curve.

The points are ordered once along a Morton curve on a cubic grid; each power-of-two voxel size is
then a run-length count over that order, so picking a level costs O(N) after one sort (1M points
~0.2 s, 5M ~1 s).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .base import Cloud, axis_bounds

_MAX_GRID_BITS = 16  # at most 65536 cells along the longest side at the finest level


def _spread_table() -> np.ndarray:
    """For each byte, its 8 bits spread to every third bit (bit i -> bit 3i)."""
    v = np.arange(256, dtype=np.uint64)
    out = np.zeros(256, dtype=np.uint64)
    for i in range(8):
        out |= ((v >> np.uint64(i)) & np.uint64(1)) << np.uint64(3 * i)
    return out


def _morton_order(xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, int]:
    """(order, coarseness, finest voxel size, top level).

    ``order`` sorts the points along a Morton curve of a cubic 2^bits grid over the bounding box
    (bits = 16, fewer for clouds over 4M points: the point index shares the 64-bit sort key, so one
    plain ``np.sort`` replaces a much slower ``argsort``). ``coarseness[j]`` (for sorted position j) is
    the largest level k at which point order[j] is the first of its voxel of side 2^k finest cells
    (-1: it shares its finest voxel with the point before).
    """
    xyz = np.asarray(xyz, dtype=np.float32)
    n = len(xyz)
    index_bits = max(1, int(n - 1).bit_length())
    bits = min(_MAX_GRID_BITS, (64 - index_bits) // 3)
    if bits < 8:
        raise ValueError(f"too many points for the level-of-detail index ({n})")
    cols = np.ascontiguousarray(xyz.T)  # one copy, then every pass below is contiguous
    lo, hi = axis_bounds(xyz)
    extent = float((hi - lo).max())
    cells = (1 << bits) - 1
    scale = np.float32(cells / extent if extent > 0 else 0.0)
    table = _spread_table()
    key = np.zeros(n, dtype=np.uint64)
    for axis in range(3):
        q = ((cols[axis] - lo[axis]) * scale).astype(np.int64)
        np.clip(q, 0, cells, out=q)
        q = q.view(np.uint64)
        spread = table[q & np.uint64(255)] | (table[q >> np.uint64(8)] << np.uint64(24))
        key |= spread << np.uint64(axis)
    key <<= np.uint64(index_bits)
    key |= np.arange(n, dtype=np.uint64)
    key.sort()
    order = (key & np.uint64((1 << index_bits) - 1)).astype(np.int64)
    code = key >> np.uint64(index_bits)
    del key
    coarse = np.empty(n, dtype=np.int8)
    coarse[0] = bits
    if n > 1:
        diff = code[1:] ^ code[:-1]
        # floor(log2(diff)) from the float64 exponent (exact: codes have at most 48 bits < 2^53)
        high = (diff.astype(np.float64).view(np.int64) >> 52) - 1023  # -1023 where diff == 0
        coarse[1:] = np.maximum(high // 3, -1)
    finest = extent / cells if extent > 0 else 0.0
    return order, coarse, finest, bits


def _select(order: np.ndarray, coarse: np.ndarray, top: int, max_points: int) -> tuple[np.ndarray, int]:
    """Indices (sorted) of at most ``max_points`` points, and the voxel level used."""
    n = len(order)
    if max_points >= n:
        return np.arange(n, dtype=np.int64), -1
    # cells at level k = number of positions with coarseness >= k
    hist = np.bincount(coarse.astype(np.int64) + 1, minlength=top + 2)  # index 0: coarseness -1
    at_least = np.cumsum(hist[::-1])[::-1]  # at_least[k + 1] = #positions with coarseness >= k
    level = next(k for k in range(-1, top + 1) if at_least[k + 1] <= max_points)
    keep = coarse >= level
    chosen = np.flatnonzero(keep)
    need = max_points - len(chosen)
    if need > 0:
        # top up with an even spread (in Morton order, so also in space) of the next finer level
        finer = np.flatnonzero(coarse == level - 1)
        pick = finer[np.linspace(0, len(finer) - 1, need).round().astype(np.int64)]
        chosen = np.concatenate([chosen, pick])
    out = order[chosen]
    out.sort()
    return out.astype(np.int64, copy=False), level


def _as_xyz(cloud_or_xyz) -> np.ndarray:
    xyz = cloud_or_xyz.xyz if isinstance(cloud_or_xyz, Cloud) else np.asarray(cloud_or_xyz)
    if xyz.ndim != 2 or xyz.shape[1] < 3:
        raise ValueError(f"expected a Cloud or [N, 3] points, got shape {xyz.shape}")
    return xyz[:, :3]


def downsample_for_display(cloud: Cloud | np.ndarray, max_points: int) -> np.ndarray:
    """Indices (ascending, int64) of at most ``max_points`` points spread evenly in space.

    Voxel level of detail: the voxel size is the finest power-of-two subdivision of the bounding
    cube whose occupied voxels number at most ``max_points``; one point per occupied voxel is kept,
    and the rest of the budget is filled evenly from the next finer voxel size, so the result has
    exactly ``min(max_points, N)`` points. Deterministic (no randomness).
    """
    if max_points < 1:
        raise ValueError("max_points must be at least 1")
    xyz = _as_xyz(cloud)
    if len(xyz) <= max_points:
        return np.arange(len(xyz), dtype=np.int64)
    order, coarse, _, top = _morton_order(xyz)
    return _select(order, coarse, top, int(max_points))[0]


class LevelOfDetail:
    """A few precomputed display subsets of one cloud, so a viewer can switch while orbiting.

    ``LevelOfDetail(cloud, budgets=(100_000, 300_000, 1_000_000))`` sorts the points once and keeps
    one index array per budget smaller than the cloud, plus the full cloud. ``indices(max_points)``
    returns the largest precomputed subset that fits the budget (the smallest one if none does).
    """

    DEFAULT_BUDGETS = (100_000, 300_000, 1_000_000)

    def __init__(self, cloud: Cloud | np.ndarray, budgets: Sequence[int] = DEFAULT_BUDGETS):
        xyz = _as_xyz(cloud)
        n = len(xyz)
        self.n_points = n
        self.budgets = sorted({int(b) for b in budgets if int(b) >= 1})
        self.levels: list[np.ndarray] = []
        self.voxel_sizes: list[float] = []
        needed = [b for b in self.budgets if b < n]
        if needed:
            order, coarse, finest, top = _morton_order(xyz)
            for b in needed:
                idx, level = _select(order, coarse, top, b)
                self.levels.append(idx)
                self.voxel_sizes.append(finest * (2 ** level) if level >= 0 else 0.0)
        self.levels.append(np.arange(n, dtype=np.int64))
        self.voxel_sizes.append(0.0)

    @property
    def sizes(self) -> list[int]:
        """Number of points of each level, coarse to fine (the last is the whole cloud)."""
        return [len(ix) for ix in self.levels]

    def indices(self, max_points: int | None = None) -> np.ndarray:
        """The finest level with at most ``max_points`` points (None: the whole cloud)."""
        if max_points is None:
            return self.levels[-1]
        fitting = [ix for ix in self.levels if len(ix) <= max_points]
        return fitting[-1] if fitting else self.levels[0]

    def __len__(self) -> int:
        return len(self.levels)
