"""Writing: ``save_cloud`` as PLY, PCD, text or KITTI ``.bin``."""
from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from .base import SAVE_SUFFIXES, Cloud, suffix_of


def save_cloud(path: str | os.PathLike, cloud: Cloud, *, ascii: bool = False) -> Path:
    """Write ``cloud`` as PLY (binary little-endian, or ascii), PCD (binary, or ascii), text or KITTI bin.

    * PLY: float x y z (double when the cloud has an origin), uchar red green blue, float intensity.
    * PCD: x y z, PCL's packed ``rgb`` (float32 bits 0x00RRGGBB), intensity.
    * ``.xyz`` / ``.txt``: x y z [r g b] [intensity], colours as 0..1 floats (what open3d writes);
      ``.xyzrgb`` needs colours.
    * ``.bin``: KITTI float32 x y z reflectance (the intensity, or 0).
    Colours are stored as 8-bit in PLY and PCD. Returns the path.
    """
    path = Path(path)
    suffix = suffix_of(path)
    if len(cloud) == 0:
        raise ValueError("save_cloud: the cloud has no points")
    xyz = cloud.world_xyz() if cloud.origin is not None else cloud.xyz
    rgb8 = None
    if cloud.rgb is not None:
        rgb8 = np.clip(np.rint(cloud.rgb * 255.0), 0, 255).astype(np.uint8)
    if suffix == ".ply":
        _write_ply(path, cloud, xyz, rgb8, ascii)
    elif suffix == ".pcd":
        _write_pcd(path, cloud, xyz, rgb8, ascii)
    elif suffix in (".xyz", ".xyzrgb", ".txt"):
        _write_text(path, cloud, xyz, suffix)
    elif suffix == ".bin":
        out = np.empty((len(cloud), 4), dtype="<f4")
        out[:, :3] = xyz
        out[:, 3] = 0.0 if cloud.intensity is None else cloud.intensity
        out.tofile(path)
    else:
        raise ValueError(f"save_cloud: cannot write '{path.suffix}' (use one of {', '.join(SAVE_SUFFIXES)})")
    return path


def _write_ply(path: Path, cloud: Cloud, xyz: np.ndarray, rgb8: np.ndarray | None, ascii: bool) -> None:
    n = len(cloud)
    ftype, ctype = ("double", "<f8") if xyz.dtype == np.float64 else ("float", "<f4")
    fields = [("x", ctype), ("y", ctype), ("z", ctype)]
    decl = [f"property {ftype} x", f"property {ftype} y", f"property {ftype} z"]
    if rgb8 is not None:
        fields += [("red", "u1"), ("green", "u1"), ("blue", "u1")]
        decl += ["property uchar red", "property uchar green", "property uchar blue"]
    if cloud.intensity is not None:
        fields.append(("intensity", "<f4"))
        decl.append("property float intensity")
    rec = np.empty(n, dtype=np.dtype(fields))
    rec["x"], rec["y"], rec["z"] = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    if rgb8 is not None:
        rec["red"], rec["green"], rec["blue"] = rgb8[:, 0], rgb8[:, 1], rgb8[:, 2]
    if cloud.intensity is not None:
        rec["intensity"] = cloud.intensity
    fmt = "ascii" if ascii else "binary_little_endian"
    head = "\n".join(["ply", f"format {fmt} 1.0", "comment VQA Studio", f"element vertex {n}", *decl, "end_header"]) + "\n"
    with open(path, "wb") as fh:
        fh.write(head.encode("ascii"))
        if ascii:
            _write_table(fh, rec)
        else:
            fh.write(rec.tobytes())


def _write_pcd(path: Path, cloud: Cloud, xyz: np.ndarray, rgb8: np.ndarray | None, ascii: bool) -> None:
    n = len(cloud)
    size = 8 if xyz.dtype == np.float64 else 4
    names, sizes, types, dt = ["x", "y", "z"], [size] * 3, ["F"] * 3, [("x", f"<f{size}"), ("y", f"<f{size}"), ("z", f"<f{size}")]
    if rgb8 is not None:
        names.append("rgb"), sizes.append(4), types.append("F"), dt.append(("rgb", "<u4"))
    if cloud.intensity is not None:
        names.append("intensity"), sizes.append(4), types.append("F"), dt.append(("intensity", "<f4"))
    rec = np.empty(n, dtype=np.dtype(dt))
    rec["x"], rec["y"], rec["z"] = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    if rgb8 is not None:
        rec["rgb"] = (rgb8[:, 0].astype(np.uint32) << 16) | (rgb8[:, 1].astype(np.uint32) << 8) | rgb8[:, 2]
    if cloud.intensity is not None:
        rec["intensity"] = cloud.intensity
    head = "\n".join([
        "# .PCD v0.7 - Point Cloud Data file format (VQA Studio)",
        "VERSION 0.7",
        "FIELDS " + " ".join(names),
        "SIZE " + " ".join(map(str, sizes)),
        "TYPE " + " ".join(types),
        "COUNT " + " ".join("1" for _ in names),
        f"WIDTH {n}",
        "HEIGHT 1",
        "VIEWPOINT 0 0 0 1 0 0 0",
        f"POINTS {n}",
        "DATA " + ("ascii" if ascii else "binary"),
    ]) + "\n"
    with open(path, "wb") as fh:
        fh.write(head.encode("ascii"))
        if ascii:
            if rgb8 is not None:  # ascii PCD holds the packed colour as the float with those bits
                floats = rec["rgb"].view(np.float32)
                rec = _replace_field(rec, "rgb", floats)
            _write_table(fh, rec)
        else:
            fh.write(rec.tobytes())


def _write_text(path: Path, cloud: Cloud, xyz: np.ndarray, suffix: str) -> None:
    cols = [xyz.astype(np.float64)]
    if suffix == ".xyzrgb" and cloud.rgb is None:
        raise ValueError("save_cloud: .xyzrgb needs a cloud with colours")
    if cloud.rgb is not None:
        cols.append(cloud.rgb.astype(np.float64))
    if cloud.intensity is not None and suffix != ".xyzrgb":
        cols.append(cloud.intensity.astype(np.float64)[:, None])
    table = np.concatenate(cols, axis=1)
    np.savetxt(path, table, fmt="%.9g")


def _replace_field(rec: np.ndarray, name: str, values: np.ndarray) -> np.ndarray:
    dt = [(k, values.dtype.str if k == name else rec.dtype[k].str) for k in rec.dtype.names]
    out = np.empty(len(rec), dtype=dt)
    for k in rec.dtype.names:
        out[k] = values if k == name else rec[k]
    return out


def _write_table(fh, rec: np.ndarray) -> None:
    formats = ["%d" if rec.dtype[k].kind in "ui" else "%.9g" for k in rec.dtype.names]
    buf = io.StringIO()
    columns = [rec[k] for k in rec.dtype.names]
    np.savetxt(buf, np.column_stack([c.astype(np.float64) for c in columns]), fmt=formats)
    fh.write(buf.getvalue().encode("ascii"))

