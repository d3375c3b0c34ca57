"""Point clouds: load, save, probe, and thin out for display.

The package is split by format family: ``base`` (the ``Cloud`` type and what readers share), ``ply``,
``pcd``, ``text``, ``lidar`` (KITTI ``.bin``, LAS / LAZ), ``readers`` (``load_cloud`` and
``probe_cloud`` by suffix), ``writer`` (``save_cloud``) and ``lod`` (level of detail). Import the
public names from here.

``load_cloud(path)`` reads PLY (ascii / binary), PCD (ascii / binary / binary_compressed), XYZ / XYZRGB /
XYZN / TXT / PTS text, KITTI velodyne ``.bin`` and LAS / LAZ into a ``Cloud``:

* ``xyz``: float32 [N, 3]; ``rgb``: float32 [N, 3] in 0..1 or None; ``intensity``: float32 [N] or None,
  as stored in the file (KITTI reflectance 0..1, LAS intensity 0..65535, ...).
* ``origin``: float64 [3] or None. Files with large (georeferenced) coordinates, typically LAS, lose
  centimetres in float32; when a coordinate exceeds ``LARGE_COORDINATE`` the cloud is shifted so
  that ``xyz + origin`` gives the file's coordinates. Clouds with ordinary coordinates have no origin.
* Points with NaN / inf coordinates are dropped with a ``CloudWarning`` naming the file and the count
  (``n_dropped``). A file with no (finite) points, a broken header, a truncated body or an unknown
  format raises ``BadInputError(path, problem)``.

PLY, PCD (ascii / binary), text and KITTI are parsed here with numpy: the header is checked line by
line (so a broken file gives a clear message, never an empty cloud) and the body is read in one call,
which is also much faster than going through open3d (its import alone takes a second or two). open3d
(imported inside the function) is the fallback for layouts the numpy path does not cover: PCD
``binary_compressed`` and PLY files whose vertex element has list properties or comes after an element
with list properties.

``downsample_for_display`` and ``LevelOfDetail`` pick subsets for drawing: the points are ordered once
along a Morton (Z-order) curve on a cubic grid; each power-of-two voxel size is then a run-length
count over that order, so picking a level costs O(N) after one sort (1M points ~0.2 s, 5M ~1 s).
"""
from __future__ import annotations

from .base import CLOUD_SUFFIXES, LARGE_COORDINATE, SAVE_SUFFIXES, Cloud, CloudWarning
from .lod import LevelOfDetail, downsample_for_display
from .readers import load_cloud, probe_cloud
from .writer import save_cloud

__all__ = [
    "Cloud",
    "CloudWarning",
    "CLOUD_SUFFIXES",
    "SAVE_SUFFIXES",
    "LARGE_COORDINATE",
    "load_cloud",
    "save_cloud",
    "probe_cloud",
    "downsample_for_display",
    "LevelOfDetail",
]
