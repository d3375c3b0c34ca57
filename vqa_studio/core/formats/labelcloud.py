"""labelCloud's centroid JSON (one label file per point cloud) <-> cuboids.

::

    {"folder": "pointclouds", "filename": "scene.ply", "path": "pointclouds/scene.ply",
     "objects": [{"name": "chair",
                  "centroid": {"x": 1.0, "y": 2.0, "z": 0.5},
                  "dimensions": {"length": 1.0, "width": 0.6, "height": 1.0},
                  "rotations": {"x": 0, "y": 0, "z": 90.0}}]}

The centroid is the box's centre; length runs along the box's own x, width along y, height along z
(labelCloud's ``BBox``); rotations are Euler angles in **degrees**, counter-clockwise (labelCloud
keeps them in 0..360). We read ``z`` as yaw (wrapped to (-pi, pi] radians) and write yaw as degrees
in [0, 360). A box tilted about x or y by more than :data:`MAX_TILT_DEG` raises ``BadInputError``;
smaller tilts are dropped. labelCloud reads the three values of each group in file order, so the
writer keeps the keys in the order above.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..errors import BadInputError
from ..geometry import Cuboid, wrap_angle
from .base import load_json, require

__all__ = ["LabelCloudFile", "read_labelcloud", "write_labelcloud", "MAX_TILT_DEG"]

MAX_TILT_DEG = 0.05


@dataclass
class LabelCloudFile:
    """The cuboids of one labelCloud file and the point cloud it names (as written)."""

    cuboids: list[Cuboid] = field(default_factory=list)
    folder: str = ""
    filename: str = ""
    path: str = ""


def _numbers(obj: Any, key: str, names: tuple[str, ...], path: Path, where: str) -> list[float]:
    group = require(obj, key, dict, path, where)
    out = []
    for name in names:
        value = require(group, name, (int, float), path, f"{where}.{key}")
        if not math.isfinite(value):
            raise BadInputError(path, f"field '{name}' is NaN or infinite", f"{where}.{key}")
        out.append(float(value))
    return out


def read_labelcloud(path: str | os.PathLike) -> LabelCloudFile:
    """Read one labelCloud centroid label file."""
    path = Path(path)
    data = load_json(path)
    if not isinstance(data, dict):
        raise BadInputError(path, f"expected a JSON object at the top, found {type(data).__name__}")
    objects = require(data, "objects", list, path, "top level")
    meta = {}
    for key in ("folder", "filename", "path"):
        value = data.get(key, "")
        if not isinstance(value, str):
            raise BadInputError(path, f"field '{key}' should be a string, found {type(value).__name__}", "top level")
        meta[key] = value
    cuboids = []
    for i, obj in enumerate(objects):
        where = f"objects[{i}]"
        name = require(obj, "name", str, path, where)
        where = f"objects[{i}] ({name!r})"
        centre = _numbers(obj, "centroid", ("x", "y", "z"), path, where)
        size = _numbers(obj, "dimensions", ("length", "width", "height"), path, where)
        rot = _numbers(obj, "rotations", ("x", "y", "z"), path, where)
        if min(size) < 0:
            raise BadInputError(path, f"negative dimensions {size}", where)
        tilt = max(abs(_wrap_deg(rot[0])), abs(_wrap_deg(rot[1])))
        if tilt > MAX_TILT_DEG:
            raise BadInputError(
                path, f"the box is tilted (rotation x {rot[0]}, y {rot[1]} degrees); only z rotation is supported", where
            )
        cuboids.append(Cuboid(*centre, *size, wrap_angle(math.radians(rot[2])), name))
    return LabelCloudFile(cuboids, meta["folder"], meta["filename"], meta["path"])


def _wrap_deg(angle: float) -> float:
    return (angle + 180.0) % 360.0 - 180.0


def write_labelcloud(
    path: str | os.PathLike, cuboids: Iterable[Cuboid], cloud_path: str | os.PathLike | None = None
) -> Path:
    """Write ``cuboids`` as a labelCloud centroid file; ``cloud_path`` fills folder / filename / path."""
    path = Path(path)
    cp = Path(cloud_path) if cloud_path is not None else None
    objects = []
    for c in cuboids:
        yaw_deg = math.degrees(c.yaw) % 360.0
        if yaw_deg >= 360.0:  # -tiny % 360 rounds to 360.0
            yaw_deg = 0.0
        objects.append({
            "name": c.label,
            "centroid": {"x": float(c.cx), "y": float(c.cy), "z": float(c.cz)},
            "dimensions": {"length": float(c.length), "width": float(c.width), "height": float(c.height)},
            "rotations": {"x": 0.0, "y": 0.0, "z": yaw_deg},
        })
    data = {
        "folder": cp.parent.name if cp is not None else "",
        "filename": cp.name if cp is not None else "",
        "path": str(cp) if cp is not None else "",
        "objects": objects,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path
