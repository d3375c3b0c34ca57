"""A plain folder of images (and point clouds): every media file becomes an item with no questions.

Sub-folders named ``train``, ``val`` (or ``validation``) and ``test`` set the split of what is in
them; everything else gets ``split``. Files are taken in sorted order; other files are ignored.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterable, Iterator

from ..data.media import kind_of
from ..errors import BadInputError
from .base import BadRecord, Record, safe_name

_SPLIT_DIRS = {"train": "train", "training": "train", "val": "val", "validation": "val", "test": "test"}


def read(folder: str | Path, split: str | None = "train") -> Iterator[Record | BadRecord]:
    split = split or "train"
    root = Path(folder).resolve()
    if not root.is_dir():
        raise BadInputError(root, "not a folder")
    found = False
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel = Path(dirpath).relative_to(root)
        part_split = next((_SPLIT_DIRS[p.lower()] for p in rel.parts if p.lower() in _SPLIT_DIRS), split)
        for name in sorted(filenames):
            p = Path(dirpath) / name
            if kind_of(p) is None or name.startswith("."):
                continue
            found = True
            yield Record(media_path=p, question=None, split=part_split, where=str(rel / name), source=str(root))
    if not found:
        raise BadInputError(root, "no images or point clouds in this folder")


def write(items: Iterable[tuple[str, int, Path]], out_dir: str | Path) -> list[Path]:
    """Copy each item's media file (given as ``(split, item_id, path)``) into ``{out}/{split}/``."""
    out = Path(out_dir)
    paths = []
    for split, item_id, path in items:
        dst = out / safe_name(split) / f"{item_id:06d}_{safe_name(path.name)}"
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dst)
        paths.append(dst)
    return paths
