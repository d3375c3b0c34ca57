"""PCD (ascii, binary; binary_compressed through open3d): header and reader."""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import BadInputError
from .base import (
    INTENSITY_NAMES, Cloud, check_file, find_columns, finish, load_with_open3d, read_header_bytes,
    scale_colour,
)

_PCD_TYPES = {("F", 4): "f4", ("F", 8): "f8", ("I", 1): "i1", ("I", 2): "i2", ("I", 4): "i4", ("I", 8): "i8",
              ("U", 1): "u1", ("U", 2): "u2", ("U", 4): "u4", ("U", 8): "u8"}


@dataclass
class _PcdHeader:
    fields: list[str]
    types: list[str]  # numpy type strings
    counts: list[int]
    points: int
    data: str
    data_offset: int


def _parse_pcd_header(path: Path) -> _PcdHeader:
    raw, offset = read_header_bytes(path, b"\nDATA", "PCD")
    lines = raw.decode("latin-1").splitlines()
    entries: dict[str, list[str]] = {}
    for lineno, line in enumerate(lines, start=1):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        key = words[0].upper()
        if key not in ("VERSION", "FIELDS", "COLUMNS", "SIZE", "TYPE", "COUNT", "WIDTH", "HEIGHT",
                       "VIEWPOINT", "POINTS", "DATA"):
            raise BadInputError(path, f"unexpected PCD header line '{line.strip()[:60]}'", f"header line {lineno}")
        entries["FIELDS" if key == "COLUMNS" else key] = words[1:]
    if "FIELDS" not in entries or not entries["FIELDS"]:
        raise BadInputError(path, "the PCD header has no FIELDS line (not a PCD file?)")
    fields = entries["FIELDS"]
    n = len(fields)
    try:
        sizes = [int(s) for s in entries.get("SIZE", [])]
        counts = [int(s) for s in entries.get("COUNT", ["1"] * n)]
    except ValueError:
        raise BadInputError(path, "non-integer SIZE or COUNT in the PCD header") from None
    kinds = [t.upper() for t in entries.get("TYPE", [])]
    if len(sizes) != n or len(kinds) != n or len(counts) != n:
        raise BadInputError(
            path, f"the PCD header declares {n} FIELDS but {len(sizes)} SIZE, {len(kinds)} TYPE, {len(counts)} COUNT"
        )
    types = []
    for f, k, s in zip(fields, kinds, sizes):
        if (k, s) not in _PCD_TYPES:
            raise BadInputError(path, f"PCD field '{f}' has an unknown TYPE {k} / SIZE {s}")
        types.append(_PCD_TYPES[(k, s)])
    try:
        if "POINTS" in entries:
            points = int(entries["POINTS"][0])
        else:
            points = int(entries["WIDTH"][0]) * int(entries.get("HEIGHT", ["1"])[0])
    except (KeyError, IndexError, ValueError):
        raise BadInputError(path, "the PCD header has no valid POINTS (or WIDTH and HEIGHT)") from None
    data = (entries.get("DATA") or [""])[0].lower()
    # a point takes at least one byte (compressed: LZF gains at most about 100x on a point cloud)
    room = path.stat().st_size * (100 if data == "binary_compressed" else 1)
    if points < 0 or points > room:
        raise BadInputError(path, f"the header declares {points:,} points, more than the file's "
                                  f"{path.stat().st_size:,} bytes can hold")
    if data not in ("ascii", "binary", "binary_compressed"):
        raise BadInputError(path, f"unknown PCD DATA kind '{data}'")
    lower = [f.lower() for f in fields]
    if not all(c in lower for c in "xyz"):
        raise BadInputError(path, "the PCD file has no x, y and z fields")
    return _PcdHeader(fields, types, counts, points, data, offset)


def _unpack_rgb(packed: np.ndarray) -> np.ndarray:
    """PCL's packed colour (the bytes of a float32 / uint32: 0x00RRGGBB) -> float32 [N, 3] 0..1."""
    u = np.ascontiguousarray(packed).view(np.uint32) if packed.dtype.itemsize == 4 else packed.astype(np.uint32)
    out = np.empty((len(u), 3), dtype=np.float32)
    out[:, 0] = (u >> 16) & 255
    out[:, 1] = (u >> 8) & 255
    out[:, 2] = u & 255
    return out / 255.0


def load_pcd(path: Path) -> Cloud:
    size = check_file(path)
    header = _parse_pcd_header(path)
    if header.points == 0:
        raise BadInputError(path, "the cloud has no points (the PCD header says POINTS 0)")
    if header.data == "binary_compressed":
        return load_with_open3d(path)
    fields, types, counts = header.fields, header.types, header.counts
    if header.data == "binary":
        dtype = np.dtype(
            [(f"{f}__{i}", "<" + t, (c,)) if c > 1 else (f"{f}__{i}", "<" + t)
             for i, (f, t, c) in enumerate(zip(fields, types, counts))]
        )
        need = header.points * dtype.itemsize
        if size - header.data_offset < need:
            raise BadInputError(
                path,
                f"truncated: the header promises {header.points} points ({need} bytes) "
                f"but only {size - header.data_offset} bytes follow",
            )
        rec = np.fromfile(path, dtype=dtype, count=header.points, offset=header.data_offset)
        columns = {f.lower(): rec[f"{f}__{i}"] for i, f in enumerate(fields) if f != "_"}
    else:
        with open(path, "rb") as fh:
            fh.seek(header.data_offset)
            try:
                table = np.loadtxt(
                    io.TextIOWrapper(fh, encoding="latin-1"), dtype=np.float64, max_rows=header.points,
                    ndmin=2, comments=None,
                )
            except ValueError as exc:
                raise BadInputError(path, f"malformed point data: {exc}") from None
        if len(table) < header.points:
            raise BadInputError(path, f"truncated: the header promises {header.points} points, the file has {len(table)}")
        if table.shape[1] != sum(counts):
            raise BadInputError(path, f"the points have {table.shape[1]} values a line, the header declares {sum(counts)}")
        columns = {}
        start = 0
        for f, t, c in zip(fields, types, counts):
            block = table[:, start:start + c]
            start += c
            if f == "_":
                continue
            if f.lower() in ("rgb", "rgba"):
                # packed colour: ascii holds the float (or integer) whose bits are 0x00RRGGBB
                block = block[:, 0].astype(np.float32) if t == "f4" else block[:, 0].astype(np.uint32)
            elif c == 1:
                block = block[:, 0]
            columns[f.lower()] = block.astype(t) if f.lower() not in ("rgb", "rgba") else block
    xyz_dtype = np.float64 if any(columns[c].dtype == np.float64 for c in "xyz") else np.float32
    xyz = np.stack([columns[c] for c in "xyz"], axis=1).astype(xyz_dtype, copy=False)
    rgb = None
    packed = columns.get("rgb", columns.get("rgba"))
    if packed is not None:
        rgb = _unpack_rgb(packed.reshape(-1))
    else:
        _, rgb_idx, _ = find_columns(list(columns))
        if rgb_idx is not None:
            names = list(columns)
            rgb = scale_colour([columns[names[i]] for i in rgb_idx])
    intensity = next((columns[n] for n in INTENSITY_NAMES if n in columns), None)
    return finish(path, xyz, rgb, intensity)


def count_pcd(path: Path, size: int) -> int:
    """Points the PCD header declares."""
    return _parse_pcd_header(path).points
