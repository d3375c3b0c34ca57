"""Datumaro 1.0 JSON (``annotations/<subset>.json``) with ``cuboid_3d`` annotations <-> cuboids.

The layout, as CVAT's "Datumaro 3D" export writes it::

    {"dm_format_version": "1.0", "media_type": 6, "info": {},
     "categories": {"label": {"labels": [{"name": "car", "parent": "", "attributes": []}], "attributes": []}},
     "items": [{"id": "frame_000", "attr": {"frame": 0},
                "annotations": [{"id": 0, "type": "cuboid_3d", "group": 0, "label_id": 0, "attributes": {},
                                 "position": [x, y, z], "rotation": [rx, ry, rz], "scale": [sx, sy, sz]}],
                "point_cloud": {"path": "frame_000.pcd"}}]}

``position`` is the box's centre, ``scale`` its size along its own x, y, z (our length, width,
height), ``rotation`` Euler angles in radians; ``rz`` is our yaw. Cuboids tilted about x or y (more
than :data:`MAX_TILT` radians) cannot be represented and raise ``BadInputError``; smaller tilts are
dropped. Annotations of other types (bbox, label, ...) are ignored. The point-cloud path is kept as
written; Datumaro resolves it against ``point_clouds/<subset>/`` next to the ``annotations`` folder,
see :func:`point_cloud_path`.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..errors import BadInputError
from ..geometry import Cuboid, wrap_angle
from .base import load_json, require

__all__ = ["DatumaroItem", "read_datumaro", "write_datumaro", "point_cloud_path", "MAX_TILT", "POINT_CLOUD_MEDIA_TYPE"]

MAX_TILT = 1e-3  # radians of rotation about x or y that are silently dropped
POINT_CLOUD_MEDIA_TYPE = 6  # Datumaro's MediaType.POINT_CLOUD


@dataclass
class DatumaroItem:
    """One item: its cuboids, its point cloud's path as written in the file, and its ``attr``."""

    cuboids: list[Cuboid] = field(default_factory=list)
    point_cloud: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


def _vector(ann: Any, key: str, path: Path, where: str) -> list[float]:
    value = require(ann, key, list, path, where)
    if len(value) != 3 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        raise BadInputError(path, f"field '{key}' should be a list of 3 numbers, found {json.dumps(value)[:60]}", where)
    if not all(math.isfinite(v) for v in value):
        raise BadInputError(path, f"field '{key}' holds NaN or infinity", where)
    return [float(v) for v in value]


def read_datumaro(path: str | os.PathLike) -> dict[str, DatumaroItem]:
    """Item id -> ``DatumaroItem`` (cuboids in file order), in the file's item order."""
    path = Path(path)
    data = load_json(path)
    if not isinstance(data, dict):
        raise BadInputError(path, f"expected a JSON object at the top, found {type(data).__name__}")
    version = data.get("dm_format_version")
    if version is not None and not str(version).startswith("1."):
        raise BadInputError(path, f"unsupported dm_format_version {version!r} (this reader knows 1.x)")
    items = require(data, "items", list, path, "top level")
    categories = data.get("categories", {})
    labels: list[str] = []
    if categories:
        if not isinstance(categories, dict):
            raise BadInputError(path, "field 'categories' should be an object", "top level")
        label_cat = categories.get("label")
        if label_cat is not None:
            entries = require(label_cat, "labels", list, path, "categories.label")
            for k, entry in enumerate(entries):
                labels.append(require(entry, "name", str, path, f"categories.label.labels[{k}]"))
    out: dict[str, DatumaroItem] = {}
    for i, item in enumerate(items):
        where = f"items[{i}]"
        if not isinstance(item, dict):
            raise BadInputError(path, f"expected an object, found {type(item).__name__}", where)
        item_id = item.get("id")
        if not isinstance(item_id, (str, int)) or isinstance(item_id, bool):
            raise BadInputError(path, "missing or non-string field 'id'", where)
        item_id = str(item_id)
        where = f"items[{i}] (id {item_id!r})"
        if item_id in out:
            raise BadInputError(path, "the item id appears twice", where)
        anns = require(item, "annotations", list, path, where)
        cloud = None
        if item.get("point_cloud") is not None:
            cloud = require(require(item, "point_cloud", dict, path, where), "path", str, path, f"{where}.point_cloud")
        attr = item.get("attr") or {}
        if not isinstance(attr, dict):
            raise BadInputError(path, "field 'attr' should be an object", where)
        cuboids = []
        for j, ann in enumerate(anns):
            aw = f"{where}.annotations[{j}]"
            kind = require(ann, "type", str, path, aw)
            if kind != "cuboid_3d":
                continue
            label_id = ann.get("label_id")
            if label_id is None:
                label = ""
            elif isinstance(label_id, bool) or not isinstance(label_id, int):
                raise BadInputError(path, f"field 'label_id' should be an integer, found {label_id!r:.40}", aw)
            elif not 0 <= label_id < len(labels):
                raise BadInputError(path, f"label_id {label_id} is not in categories.label ({len(labels)} labels)", aw)
            else:
                label = labels[label_id]
            position = _vector(ann, "position", path, aw)
            rotation = _vector(ann, "rotation", path, aw)
            scale = _vector(ann, "scale", path, aw)
            if min(scale) < 0:
                raise BadInputError(path, f"negative scale {scale}", aw)
            tilt = max(abs(wrap_angle(rotation[0])), abs(wrap_angle(rotation[1])))
            if tilt > MAX_TILT:
                raise BadInputError(
                    path, f"the cuboid is tilted (rotation about x / y {rotation[:2]}); only yaw (z) is supported", aw
                )
            cuboids.append(Cuboid(*position, *scale, wrap_angle(rotation[2]), label))
        out[item_id] = DatumaroItem(cuboids, cloud, dict(attr))
    return out


def write_datumaro(
    path: str | os.PathLike,
    items: Mapping[str, DatumaroItem | Sequence[Cuboid]],
    labels: Sequence[str] = (),
) -> Path:
    """Write items (id -> ``DatumaroItem`` or a list of cuboids) as one Datumaro 1.0 JSON file.

    The label list is ``labels`` followed by every other cuboid label in first-seen order; a cuboid
    with an empty label is written with ``label_id`` null.
    """
    path = Path(path)
    names: list[str] = [str(n) for n in labels]
    index = {n: k for k, n in enumerate(names)}
    out_items = []
    for item_id, value in items.items():
        item = value if isinstance(value, DatumaroItem) else DatumaroItem(list(value))
        anns = []
        for j, c in enumerate(item.cuboids):
            label_id = None
            if c.label:
                if c.label not in index:
                    index[c.label] = len(names)
                    names.append(c.label)
                label_id = index[c.label]
            anns.append({
                "id": j,
                "type": "cuboid_3d",
                "attributes": {},
                "group": 0,
                "label_id": label_id,
                "position": [float(c.cx), float(c.cy), float(c.cz)],
                "rotation": [0.0, 0.0, float(wrap_angle(c.yaw))],
                "scale": [float(c.length), float(c.width), float(c.height)],
            })
        desc: dict[str, Any] = {"id": str(item_id), "annotations": anns}
        if item.attributes:
            desc["attr"] = dict(item.attributes)
        if item.point_cloud is not None:
            desc["point_cloud"] = {"path": str(item.point_cloud)}
        out_items.append(desc)
    data = {
        "dm_format_version": "1.0",
        "media_type": POINT_CLOUD_MEDIA_TYPE,
        "info": {},
        "categories": {
            "label": {
                "labels": [{"name": n, "parent": "", "attributes": []} for n in names],
                "attributes": [],
            }
        },
        "items": out_items,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path


def point_cloud_path(json_path: str | os.PathLike, relative: str) -> Path:
    """Where a Datumaro point-cloud path points: ``<root>/point_clouds/<subset>/<relative>`` when the
    JSON lies in ``<root>/annotations/<subset>.json`` (or ``<root>/point_clouds/<relative>``),
    else next to the JSON file. The first existing candidate, or the first candidate."""
    json_path = Path(json_path)
    rel = Path(relative)
    if rel.is_absolute():
        return rel
    candidates = []
    if json_path.parent.name == "annotations":
        root = json_path.parent.parent
        candidates += [root / "point_clouds" / json_path.stem / rel, root / "point_clouds" / rel]
    candidates.append(json_path.parent / rel)
    return next((c for c in candidates if c.exists()), candidates[0])
