"""A small picture of a point cloud for lists (the review queue): seen from above.

``cloud_thumbnail(cloud or path, size)`` projects the points onto the ground plane (x right, y up),
fitting the middle 98 % of their extent into a ``size`` x ``size`` square with the aspect kept. Each
pixel takes the highest point that falls in it: its own colour where the cloud has RGB (darker the
lower it is, so shapes stand out from the ground), else a height ramp (dark blue low, yellow high);
pixels no point falls in keep ``background``. Plain numpy, no Qt: the GUI turns the array into an
image in a worker thread and caches it like an image's thumbnail.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .base import Cloud
from .readers import load_cloud

__all__ = ["cloud_thumbnail", "height_colours"]

#: the height ramp's stops (0 = lowest, 1 = highest), RGB 0..255
_RAMP = np.array([[40, 60, 140], [40, 150, 170], [120, 200, 90], [250, 220, 60]], np.float32)


def height_colours(t: np.ndarray) -> np.ndarray:
    """Colours [N, 3] float32 0..255 for heights ``t`` in 0..1 along the ramp."""
    t = np.clip(np.asarray(t, np.float32), 0.0, 1.0) * (len(_RAMP) - 1)
    i = np.minimum(t.astype(np.int64), len(_RAMP) - 2)
    f = (t - i)[:, None]
    return _RAMP[i] * (1.0 - f) + _RAMP[i + 1] * f


def cloud_thumbnail(cloud: Cloud | np.ndarray | str | Path, size: int = 44, *, max_points: int = 400_000,
                    background: tuple[int, int, int] = (22, 25, 31), seed: int = 0) -> np.ndarray:
    """A top-down picture of ``cloud`` (a ``Cloud``, xyz [N, 3], or a file ``load_cloud`` reads) as
    RGB uint8 [size, size, 3]. At most ``max_points`` points are drawn (a fixed random subset of
    larger clouds). Raises ``BadInputError`` for a file that cannot be read."""
    if size < 1:
        raise ValueError(f"thumbnail size must be at least 1, not {size}")
    if isinstance(cloud, (str, Path)):
        cloud = load_cloud(cloud)
    xyz = np.asarray(cloud.xyz if isinstance(cloud, Cloud) else cloud, np.float32).reshape(-1, 3)
    rgb = cloud.rgb if isinstance(cloud, Cloud) else None
    out = np.empty((size, size, 3), np.uint8)
    out[:] = background
    if len(xyz) == 0:
        return out
    if len(xyz) > max_points:
        keep = np.random.default_rng(seed).choice(len(xyz), max_points, replace=False)
        xyz = xyz[keep]
        rgb = rgb[keep] if rgb is not None else None
    lo, hi = np.percentile(xyz, [1, 99], axis=0)
    span = float(max(hi[0] - lo[0], hi[1] - lo[1], 1e-6))
    scale = (size - 1) / span
    # centre the fitted extent in the square
    off = ((size - 1) - (hi[:2] - lo[:2]) * scale) / 2.0
    px = np.round((xyz[:, 0] - lo[0]) * scale + off[0]).astype(np.int64)
    py = np.round((hi[1] - xyz[:, 1]) * scale + off[1]).astype(np.int64)  # y up on the picture
    inside = (px >= 0) & (px < size) & (py >= 0) & (py < size)
    z = xyz[:, 2]
    zt = (z - lo[2]) / max(float(hi[2] - lo[2]), 1e-6)
    px, py, zt = px[inside], py[inside], zt[inside]
    if rgb is not None:
        col = np.asarray(rgb, np.float32)[inside] * 255.0 * (0.55 + 0.45 * np.clip(zt, 0, 1))[:, None]
    else:
        col = height_colours(zt)
    # the highest point of each pixel: sort by height, keep the last occurrence of each pixel
    flat = py * size + px
    order = np.argsort(zt, kind="stable")[::-1]
    pixels, first = np.unique(flat[order], return_index=True)
    top = order[first]
    out.reshape(-1, 3)[pixels] = np.clip(col[top], 0, 255).astype(np.uint8)
    return out
