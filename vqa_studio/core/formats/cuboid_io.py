"""The cuboid formats at project level: the point-cloud items of a project and their cuboids <->
KITTI, Datumaro 3D and labelCloud folders (the file-level readers and writers are in ``kitti.py``,
``datumaro.py`` and ``labelcloud.py``).

Export writes, for every point-cloud item (of ``splits``) with its current cuboids:

* ``kitti``: ``OUT/label_2/<name>.txt`` (no calibration: the axis permutation) and the clouds in
  ``OUT/velodyne/``;
* ``datumaro``: ``OUT/annotations/<split>.json`` (one subset per split) and the clouds in
  ``OUT/point_clouds/<split>/``;
* ``labelcloud``: ``OUT/labels/<name>.json`` and the clouds in ``OUT/pointclouds/``.

``<name>`` is the cloud's file stem (with the item id added where two items share a stem). With
``copy_images=False`` the clouds are not copied (Datumaro and labelCloud files then name the original
files; KITTI labels need a cloud of the same stem next to them on import).

Import reads such a folder (or one label file), pairs each label file with its point cloud, adds the
cloud as an item (the existing item when it is already in the project) and its cuboids with source
``import``, replacing the cuboids an earlier import of the same item gave it. Every file is read and
checked before anything is written; a bad file raises ``BadInputError`` naming it. Items are
written one transaction each: a cancelled import keeps the items done, and running it again
completes it without duplicates.
"""
from __future__ import annotations

import os
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..data.media import CLOUD_EXTS
from ..errors import BadInputError
from ..geometry import Cuboid
from ..types import ItemKind, Progress
from .base import place_file, safe_name

if TYPE_CHECKING:  # pragma: no cover
    from ..project import Project

__all__ = [
    "CuboidImport",
    "export_datumaro",
    "export_kitti",
    "export_labelcloud",
    "import_datumaro",
    "import_kitti",
    "import_labelcloud",
]


@dataclass
class CuboidImport:
    """What a cuboid import did."""

    items: int = 0
    cuboids: int = 0
    new_items: int = 0

    def summary(self) -> str:
        return f"imported {self.cuboids} cuboids on {self.items} point clouds ({self.new_items} new items)"


@dataclass
class _Cloud:
    split: str
    item_id: int
    path: Path
    name: str
    cuboids: list[Cuboid]


def _clouds(project: Project, splits: Sequence[str] | None) -> list[_Cloud]:
    from .. import cuboids as cuboids_mod

    rows = list(project.export_items(splits))
    items = project.items([iid for _, iid, _ in rows])
    out, seen = [], set()
    for split, iid, path in rows:
        if items[iid].kind is not ItemKind.CLOUD:
            continue
        stem = safe_name(path.stem)
        name = stem if stem not in seen else f"{stem}_{iid}"
        seen.add(name)
        boxes = [c.cuboid for c in cuboids_mod.list_cuboids(project, iid)]
        out.append(_Cloud(split, iid, path, name, boxes))
    return out


def _place(cloud: _Cloud, folder: Path, copy: bool) -> Path:
    if not copy:
        return cloud.path
    dst = folder / f"{cloud.name}{cloud.path.suffix}"
    place_file(cloud.path, dst)
    return dst


# --- export ------------------------------------------------------------------------------------------

def export_kitti(project: Project, out: str | os.PathLike, splits: Sequence[str] | None = None,
                 copy_images: bool = True) -> list[Path]:
    from .kitti import write_kitti_labels

    root = Path(out)
    (root / "label_2").mkdir(parents=True, exist_ok=True)
    paths = []
    for c in _clouds(project, splits):
        paths.append(write_kitti_labels(root / "label_2" / f"{c.name}.txt", c.cuboids))
        if copy_images:
            paths.append(_place(c, root / "velodyne", True))
    return paths


def export_datumaro(project: Project, out: str | os.PathLike, splits: Sequence[str] | None = None,
                    copy_images: bool = True) -> list[Path]:
    from .datumaro import DatumaroItem, write_datumaro

    root = Path(out)
    by_split: dict[str, dict[str, DatumaroItem]] = {}
    paths = []
    for c in _clouds(project, splits):
        placed = _place(c, root / "point_clouds" / safe_name(c.split), copy_images)
        if copy_images:
            paths.append(placed)
        ref = placed.name if copy_images else str(placed)
        by_split.setdefault(c.split, {})[c.name] = DatumaroItem(c.cuboids, ref)
    for split, items in by_split.items():
        paths.append(write_datumaro(root / "annotations" / f"{safe_name(split)}.json", items))
    return paths


def export_labelcloud(project: Project, out: str | os.PathLike, splits: Sequence[str] | None = None,
                      copy_images: bool = True) -> list[Path]:
    from .labelcloud import write_labelcloud

    root = Path(out)
    paths = []
    for c in _clouds(project, splits):
        placed = _place(c, root / "pointclouds", copy_images)
        ref = Path("pointclouds") / placed.name if copy_images else placed
        paths.append(write_labelcloud(root / "labels" / f"{c.name}.json", c.cuboids, ref))
        if copy_images:
            paths.append(placed)
    return paths


# --- import ------------------------------------------------------------------------------------------

def _label_files(source: Path, subdir: str, suffix: str) -> list[Path]:
    """One label file, or the ``suffix`` files of ``source/subdir`` (else of ``source`` itself)."""
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise BadInputError(source, "no such file or folder")
    folder = source / subdir if (source / subdir).is_dir() else source
    files = sorted(p for p in folder.glob(f"*{suffix}") if p.is_file())
    if not files:
        raise BadInputError(folder, f"no {suffix} label files in this folder")
    return files


def _cloud_by_stem(folders: Sequence[Path], stem: str, label: Path) -> Path:
    for folder in folders:
        for ext in sorted(CLOUD_EXTS):
            p = folder / f"{stem}{ext}"
            if p.is_file():
                return p
    where = ", ".join(str(f) for f in folders)
    raise BadInputError(label, f"no point cloud named {stem}.* (looked in {where}); give the folder with --images")


def _write(project: Project, pairs: list[tuple[Path, list[Cuboid], str]], copy_media: bool
           ) -> Generator[Progress, None, CuboidImport]:
    from .. import cuboids as cuboids_mod

    report = CuboidImport()
    before = project.stats().n_items
    for k, (cloud, boxes, split) in enumerate(pairs):
        item_id = project.add_item(cloud, split=split, copy=copy_media)
        cuboids_mod.import_cuboids(project, item_id, boxes, replace=True)
        report.items += 1
        report.cuboids += len(boxes)
        yield Progress("importing cuboids", k + 1, len(pairs), cloud.name)
    report.new_items = project.stats().n_items - before
    return report


def import_kitti(project: Project, source: str | os.PathLike, clouds: str | os.PathLike | None = None,
                 split: str | None = None, copy_media: bool = False) -> Generator[Progress, None, CuboidImport]:
    from .kitti import read_kitti_labels

    source = Path(source)
    files = _label_files(source, "label_2", ".txt")
    root = files[0].parent.parent if files[0].parent.name == "label_2" else files[0].parent
    folders = [Path(clouds)] if clouds else [root / "velodyne", files[0].parent]
    pairs = []
    for f in files:
        calib = root / "calib" / f.name
        boxes = read_kitti_labels(f, calib if calib.is_file() else None)
        pairs.append((_cloud_by_stem(folders, f.stem, f), boxes, split or "train"))
    yield Progress("reading", len(files), len(files), f"{len(files)} KITTI label files read")
    return (yield from _write(project, pairs, copy_media))


def import_datumaro(project: Project, source: str | os.PathLike, clouds: str | os.PathLike | None = None,
                    split: str | None = None, copy_media: bool = False) -> Generator[Progress, None, CuboidImport]:
    from .datumaro import point_cloud_path, read_datumaro

    files = _label_files(Path(source), "annotations", ".json")
    pairs = []
    for f in files:
        for item_id, item in read_datumaro(f).items():
            if clouds:
                cloud = Path(clouds) / Path(item.point_cloud or item_id).name
                if not item.point_cloud:
                    cloud = _cloud_by_stem([Path(clouds)], item_id, f)
            elif item.point_cloud:
                cloud = point_cloud_path(f, item.point_cloud)
            else:
                cloud = _cloud_by_stem([f.parent], item_id, f)
            if not cloud.is_file():
                raise BadInputError(f, f"item {item_id}: point cloud {cloud} not found; give the folder with --images")
            pairs.append((cloud, item.cuboids, split or f.stem))
    yield Progress("reading", len(files), len(files), f"{len(files)} Datumaro files read")
    return (yield from _write(project, pairs, copy_media))


def import_labelcloud(project: Project, source: str | os.PathLike, clouds: str | os.PathLike | None = None,
                      split: str | None = None, copy_media: bool = False
                      ) -> Generator[Progress, None, CuboidImport]:
    from .labelcloud import read_labelcloud

    files = _label_files(Path(source), "labels", ".json")
    pairs = []
    for f in files:
        lc = read_labelcloud(f)
        root = f.parent.parent if f.parent.name == "labels" else f.parent
        name = lc.filename or Path(lc.path).name
        if clouds:
            candidates = [Path(clouds) / name]
        else:
            candidates = [Path(lc.path) if Path(lc.path).is_absolute() else root / lc.path,
                          root / lc.folder / name, f.parent / name]
        cloud = next((c for c in candidates if name and c.is_file()), None)
        if cloud is None:
            cloud = _cloud_by_stem([Path(clouds)] if clouds else [root / "pointclouds", f.parent], f.stem, f)
        pairs.append((cloud, lc.cuboids, split or "train"))
    yield Progress("reading", len(files), len(files), f"{len(files)} labelCloud files read")
    return (yield from _write(project, pairs, copy_media))
