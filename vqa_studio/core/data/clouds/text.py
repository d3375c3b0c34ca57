"""Text point lists (XYZ, XYZRGB, XYZN, TXT, PTS): layout sniffing and reader."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ...errors import BadInputError
from .base import Cloud, check_file, find_columns, finish, scale_colour, suffix_of

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(nan|inf|infinity)$", re.IGNORECASE)


def _text_layout(path: Path) -> tuple[int, str | None, list[str] | None, int]:
    """(lines to skip, delimiter, column names or None, columns) from the first lines of a text cloud."""
    skip = 0
    names = None
    with open(path, "r", encoding="latin-1") as fh:
        for line in fh:
            stripped = line.strip()
            if not stripped:
                skip += 1
                continue
            if stripped.startswith(("#", "//")):
                skip += 1
                body = stripped.lstrip("#/").strip()
                tokens = [t for t in re.split(r"[,\s;]+", body) if t]
                if tokens and {"x", "y", "z"} <= {t.lower() for t in tokens}:
                    names = tokens
                continue
            delimiter = "," if "," in stripped else (";" if ";" in stripped else None)
            tokens = [t.strip() for t in (stripped.split(delimiter) if delimiter else stripped.split())]
            if not all(_NUMBER.match(t) for t in tokens):
                # a header line of column names
                if {"x", "y", "z"} <= {t.lower() for t in tokens} and names is None:
                    names = tokens
                    skip += 1
                    continue
                raise BadInputError(path, f"not a point list: '{stripped[:60]}'", f"line {skip + 1}")
            if len(tokens) == 1 and tokens[0].isdigit() and skip == 0 and names is None:
                skip += 1  # Leica PTS (and some XYZ writers) start with the number of points
                continue
            if len(tokens) < 3:
                raise BadInputError(path, f"a point needs at least 3 numbers, found {len(tokens)}", f"line {skip + 1}")
            return skip, delimiter, names, len(tokens)
    raise BadInputError(path, "the cloud has no points (no data lines)")


def load_text(path: Path) -> Cloud:
    check_file(path)
    skip, delimiter, names, ncols = _text_layout(path)
    try:
        table = np.loadtxt(path, dtype=np.float64, delimiter=delimiter, skiprows=skip, comments=("#", "//"), ndmin=2)
    except ValueError as exc:
        raise BadInputError(path, f"malformed point list: {exc}") from None
    if names is not None and len(names) == table.shape[1]:
        xyz_idx, rgb_idx, inten_idx = find_columns(names)
    else:
        xyz_idx, rgb_idx, inten_idx = [0, 1, 2], None, None
        suffix = suffix_of(path)
        ncols = table.shape[1]
        if ncols == 4:
            inten_idx = 3
        elif suffix == ".pts" and ncols >= 7:  # Leica PTS: x y z intensity r g b
            inten_idx, rgb_idx = 3, [4, 5, 6]
        elif ncols >= 6 and suffix != ".xyzn":  # .xyzn: x y z nx ny nz (normals are not kept)
            c = table[:, 3:6]
            # x y z r g b [intensity]; normals (negative values) are not colours
            if suffix == ".xyzrgb" or (c.size and c.min() >= 0.0 and c.max() <= 65535.0):
                rgb_idx = [3, 4, 5]
                if ncols == 7:
                    inten_idx = 6
    xyz = table[:, xyz_idx]
    rgb = None
    if rgb_idx is not None:
        rgb = scale_colour(table[:, rgb_idx])
    intensity = None if inten_idx is None else table[:, inten_idx]
    return finish(path, xyz, rgb, intensity)


def count_text(path: Path, size: int) -> int:
    """Data lines (comments and blank lines left out) after the header lines."""
    skip, _, _, _ = _text_layout(path)
    n = 0
    with open(path, "rb") as fh:
        for i, line in enumerate(fh):
            if i < skip:
                continue
            s = line.strip()
            if s and not s.startswith((b"#", b"//")):
                n += 1
    return n
