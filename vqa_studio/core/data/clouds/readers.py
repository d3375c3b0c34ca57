"""Reading by suffix: ``load_cloud`` and ``probe_cloud`` pick the format module for a file."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable

from ...errors import BadInputError
from .base import TEXT_SUFFIXES, Cloud, check_file, suffix_of, unknown_format
from .lidar import count_kitti_bin, count_las, load_kitti_bin, load_las
from .pcd import count_pcd, load_pcd
from .ply import count_ply, load_ply
from .text import count_text, load_text

#: suffix -> (reader, point counter ``count(path, size)``)
_FORMATS: dict[str, tuple[Callable[[Path], Cloud], Callable[[Path, int], int]]] = {
    ".ply": (load_ply, count_ply),
    ".pcd": (load_pcd, count_pcd),
    ".bin": (load_kitti_bin, count_kitti_bin),
    ".las": (load_las, count_las),
    ".laz": (load_las, count_las),
    **{suffix: (load_text, count_text) for suffix in TEXT_SUFFIXES},
}


def load_cloud(path: str | os.PathLike) -> Cloud:
    """Read a point cloud (see the package docstring for the formats).

    Raises ``BadInputError`` naming the file and the problem; warns ``CloudWarning`` when NaN / inf
    points were dropped.
    """
    path = Path(path)
    entry = _FORMATS.get(suffix_of(path))
    if entry is None:
        raise unknown_format(path)
    return entry[0](path)


def probe_cloud(path: str | os.PathLike) -> tuple[int, str]:
    """(number of points, sha256 of the file) without loading the points where the format allows.

    The count is the number of records the file declares (PLY / PCD header, LAS header, file size
    for KITTI, data lines for text), NaN points included: ``len(load_cloud(path))`` can be smaller.
    Raises ``BadInputError`` for a missing, empty, unknown or broken file.
    """
    path = Path(path)
    size = check_file(path)
    entry = _FORMATS.get(suffix_of(path))
    if entry is None:
        raise unknown_format(path)
    n = entry[1](path, size)
    if n == 0:
        raise BadInputError(path, "the cloud has no points")
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return n, digest.hexdigest()
