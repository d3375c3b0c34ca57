"""PLY (ascii, binary little / big endian): header, reader and record count."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...errors import BadInputError
from .base import Cloud, check_file, find_columns, finish, load_with_open3d, read_header_bytes, scale_colour

_PLY_TYPES = {
    "char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1", "short": "i2", "int16": "i2",
    "ushort": "u2", "uint16": "u2", "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
    "float": "f4", "float32": "f4", "double": "f8", "float64": "f8",
}


@dataclass
class _PlyElement:
    name: str
    count: int
    props: list[tuple[str, str]] = field(default_factory=list)  # (name, numpy type) or (name, "list")

    @property
    def has_list(self) -> bool:
        return any(t == "list" for _, t in self.props)

    def dtype(self, endian: str) -> np.dtype:
        return np.dtype([(n, endian + t) for n, t in self.props])


@dataclass
class _PlyHeader:
    fmt: str  # ascii | binary_little_endian | binary_big_endian
    elements: list[_PlyElement]
    data_offset: int

    @property
    def vertex(self) -> _PlyElement:
        return next(e for e in self.elements if e.name == "vertex")


def _parse_ply_header(path: Path) -> _PlyHeader:
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic.rstrip(b"\r\n") != b"ply" and not magic.startswith(b"ply\n") and not magic.startswith(b"ply\r"):
        raise BadInputError(path, "not a PLY file (it does not start with 'ply')")
    raw, offset = read_header_bytes(path, b"end_header", "PLY")
    lines = raw.decode("latin-1").splitlines()
    fmt = None
    elements: list[_PlyElement] = []
    for lineno, line in enumerate(lines[1:], start=2):
        words = line.split()
        if not words or words[0] in ("comment", "obj_info"):
            continue
        key = words[0]
        where = f"header line {lineno}"
        if key == "format":
            if len(words) < 2 or words[1] not in ("ascii", "binary_little_endian", "binary_big_endian"):
                raise BadInputError(path, f"unknown PLY format line '{line.strip()}'", where)
            fmt = words[1]
        elif key == "element":
            if len(words) != 3 or not re.fullmatch(r"\d+", words[2]):
                raise BadInputError(path, f"malformed element line '{line.strip()}'", where)
            count = int(words[2])
            if count > path.stat().st_size:  # every record takes at least one byte of the file
                raise BadInputError(path, f"the header declares {count:,} {words[1]} records, more than the file's "
                                          f"{path.stat().st_size:,} bytes can hold", where)
            elements.append(_PlyElement(words[1], count))
        elif key == "property":
            if not elements:
                raise BadInputError(path, "a property before any element", where)
            if len(words) == 5 and words[1] == "list":
                if words[2] not in _PLY_TYPES or words[3] not in _PLY_TYPES:
                    raise BadInputError(path, f"unknown list type in '{line.strip()}'", where)
                elements[-1].props.append((words[4], "list"))
            elif len(words) == 3 and words[1] in _PLY_TYPES:
                elements[-1].props.append((words[2], _PLY_TYPES[words[1]]))
            else:
                raise BadInputError(path, f"malformed property line '{line.strip()}'", where)
        elif key == "end_header":
            break
        else:
            raise BadInputError(path, f"unexpected PLY header line '{line.strip()[:60]}'", where)
    if fmt is None:
        raise BadInputError(path, "the PLY header has no 'format' line")
    names = [e.name for e in elements]
    if "vertex" not in names:
        raise BadInputError(path, "the PLY header has no 'vertex' element")
    header = _PlyHeader(fmt, elements, offset)
    vnames = [n for n, _ in header.vertex.props]
    missing = [c for c in "xyz" if c not in vnames]
    if missing:
        raise BadInputError(path, f"the PLY vertices have no {'/'.join(missing)} property")
    return header


def _ply_columns(path: Path, data: np.ndarray, header: _PlyHeader):
    """x y z, colours and intensity from a structured (binary) or plain (ascii) vertex array."""
    props = header.vertex.props
    names = [n for n, _ in props]
    types = {n: t for n, t in props}
    _, rgb_idx, inten_idx = find_columns(names)

    def col(name):
        return data[name] if data.dtype.names else data[:, names.index(name)]

    xyz_dtype = np.float64 if any(types[c] == "f8" for c in "xyz") else np.float32
    xyz = np.empty((len(data), 3), dtype=xyz_dtype)
    for k, c in enumerate("xyz"):
        xyz[:, k] = col(c)
    rgb = None
    if rgb_idx is not None:
        cols = [names[i] for i in rgb_idx]
        rgb = scale_colour([col(c) for c in cols], np.dtype(types[cols[0]]))
    intensity = None if inten_idx is None else np.asarray(col(names[inten_idx]), dtype=np.float32)
    return xyz, rgb, intensity


def load_ply(path: Path) -> Cloud:
    size = check_file(path)
    header = _parse_ply_header(path)
    vertex = header.vertex
    if vertex.count == 0:
        raise BadInputError(path, "the cloud has no points (the PLY header says 0 vertices)")
    before = _body_before(header)
    if vertex.has_list or any(e.has_list for e in before):
        return load_with_open3d(path)
    if header.fmt == "ascii":
        skip = sum(e.count for e in before)
        with open(path, "rb") as fh:
            fh.seek(header.data_offset)
            text = io.TextIOWrapper(fh, encoding="latin-1")
            for _ in range(skip):
                text.readline()
            try:
                data = np.loadtxt(text, dtype=np.float64, max_rows=vertex.count, ndmin=2, comments=None)
            except ValueError as exc:
                raise BadInputError(path, f"malformed vertex data: {exc}") from None
        if len(data) < vertex.count:
            raise BadInputError(
                path, f"truncated: the header promises {vertex.count} vertices, the file has {len(data)}"
            )
        if data.shape[1] != len(vertex.props):
            raise BadInputError(
                path, f"the vertices have {data.shape[1]} values a line, the header declares {len(vertex.props)}"
            )
        xyz, rgb, intensity = _ply_columns(path, data, header)
        return finish(path, xyz, rgb, intensity)
    endian = "<" if header.fmt == "binary_little_endian" else ">"
    offset = header.data_offset + sum(e.count * e.dtype(endian).itemsize for e in before)
    dtype = vertex.dtype(endian)
    need = vertex.count * dtype.itemsize
    if size - offset < need:
        raise BadInputError(
            path,
            f"truncated: the header promises {vertex.count} vertices ({need} bytes) "
            f"but only {max(0, size - offset)} bytes follow",
        )
    data = np.fromfile(path, dtype=dtype, count=vertex.count, offset=offset)
    xyz, rgb, intensity = _ply_columns(path, data, header)
    return finish(path, xyz, rgb, intensity)


def _body_before(header: _PlyHeader) -> list[_PlyElement]:
    """The elements stored before the vertices."""
    return header.elements[: header.elements.index(header.vertex)]


def count_ply(path: Path, size: int) -> int:
    """Vertices the header declares; a binary body too short for them is refused."""
    header = _parse_ply_header(path)
    n = header.vertex.count
    before = _body_before(header)
    if header.fmt != "ascii" and not header.vertex.has_list and not any(e.has_list for e in before):
        endian = "<" if header.fmt == "binary_little_endian" else ">"
        end = header.data_offset + sum(e.count * e.dtype(endian).itemsize for e in before + [header.vertex])
        if size < end:
            raise BadInputError(path, f"truncated: the header promises {n} vertices, the file is too short")
    return n
