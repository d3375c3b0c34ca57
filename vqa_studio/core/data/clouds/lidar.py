"""Lidar formats: KITTI velodyne ``.bin`` (float32 x y z reflectance) and LAS / LAZ (laspy)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import BadInputError
from .base import Cloud, check_file, finish, scale_colour


def _check_kitti_size(path: Path, size: int) -> None:
    if size % 16:
        raise BadInputError(
            path, f"the file size ({size} bytes) is not a multiple of 16: not KITTI float32 x y z reflectance"
        )


def load_kitti_bin(path: Path) -> Cloud:
    _check_kitti_size(path, check_file(path))
    data = np.fromfile(path, dtype="<f4").reshape(-1, 4)
    return finish(path, data[:, :3], None, data[:, 3])


def load_las(path: Path) -> Cloud:
    _check_las_header(path, check_file(path))
    import laspy

    try:
        las = laspy.read(str(path))
    except laspy.errors.LaspyException as exc:
        hint = ""
        if "backend" in str(exc).lower() or "laz" in str(exc).lower():
            hint = " (LAZ needs a decompressor: pip install 'laspy[lazrs]')"
        raise BadInputError(path, f"cannot read it as LAS/LAZ: {exc}{hint}") from None
    except (OSError, ValueError, EOFError) as exc:
        raise BadInputError(path, f"cannot read it as LAS/LAZ: {exc}") from None
    if len(las.points) == 0:
        raise BadInputError(path, "the cloud has no points (the LAS header says 0)")
    xyz = np.stack([np.asarray(las.x), np.asarray(las.y), np.asarray(las.z)], axis=1)  # scaled, float64
    dims = set(las.point_format.dimension_names)
    rgb = None
    if {"red", "green", "blue"} <= dims:
        rgb = scale_colour([np.asarray(las.red), np.asarray(las.green), np.asarray(las.blue)])
    intensity = np.asarray(las.intensity, dtype=np.float32) if "intensity" in dims else None
    return finish(path, xyz, rgb, intensity)


def count_kitti_bin(path: Path, size: int) -> int:
    """Points in a KITTI file of ``size`` bytes (16 bytes a point)."""
    _check_kitti_size(path, size)
    return size // 16


def _check_las_header(path: Path, size: int) -> None:
    """The LAS public header's counts against the file's size, before laspy reads anything: a damaged
    header declaring billions of variable-length records or points would keep it busy for hours."""
    import struct

    with open(path, "rb") as fh:
        head = fh.read(375)
    if len(head) < 227 or head[:4] != b"LASF":
        raise BadInputError(path, "not a LAS/LAZ file (no LASF signature and header)")
    header_size, offset, n_vlrs = struct.unpack_from("<HII", head, 94)
    record_len = struct.unpack_from("<H", head, 105)[0]
    points = struct.unpack_from("<I", head, 107)[0]
    if len(head) >= 255 and head[25] >= 4:  # LAS 1.4: the 64-bit count
        points = max(points, struct.unpack_from("<Q", head, 247)[0])
    compressed = bool(head[104] & 0x80)  # LAZ sets the top bit of the point format
    if header_size > size or offset > size or n_vlrs * 54 > size:
        raise BadInputError(path, f"damaged LAS header: {n_vlrs:,} records / data at byte {offset:,} "
                                  f"in a file of {size:,} bytes")
    room = (size - offset) * (50 if compressed else 1)
    if record_len and points * record_len > room:
        raise BadInputError(path, f"the LAS header declares {points:,} points, more than the file's "
                                  f"{size:,} bytes can hold")


def count_las(path: Path, size: int) -> int:
    """Points the LAS / LAZ header declares."""
    import laspy

    _check_las_header(path, size)

    try:
        with laspy.open(str(path)) as reader:
            return int(reader.header.point_count)
    except Exception as exc:  # laspy raises several kinds
        raise BadInputError(path, f"cannot read it as LAS/LAZ: {exc}") from None
