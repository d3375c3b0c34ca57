"""Point-cloud headers that lie about their size are refused from the header, before anything is
allocated (a PCD saying POINTS 1000000000000 once asked numpy for 21.8 TiB)."""
from __future__ import annotations

import pytest

from vqa_studio.core.data import media
from vqa_studio.core.errors import BadInputError

PCD = """# .PCD v0.7
VERSION 0.7
FIELDS x y z
SIZE 4 4 4
TYPE F F F
COUNT 1 1 1
WIDTH {n}
HEIGHT 1
VIEWPOINT 0 0 0 1 0 0 0
POINTS {n}
DATA {kind}
"""


@pytest.mark.parametrize("kind", ["ascii", "binary", "binary_compressed"])
def test_pcd_with_a_trillion_points(kind, tmp_path):
    path = tmp_path / "lying.pcd"
    path.write_bytes(PCD.format(n=10 ** 12, kind=kind).encode() + b"\0" * 64)
    with pytest.raises(BadInputError, match="more than the file"):
        media.probe(path)


def test_ply_with_a_trillion_vertices(tmp_path):
    path = tmp_path / "lying.ply"
    header = ("ply\nformat binary_little_endian 1.0\nelement vertex 1000000000000\n"
              "property float x\nproperty float y\nproperty float z\nend_header\n")
    path.write_bytes(header.encode() + b"\0" * 120)
    with pytest.raises(BadInputError, match="more than the file"):
        media.probe(path)


def test_an_honest_small_cloud_still_loads(tmp_path):
    path = tmp_path / "ok.pcd"
    path.write_text(PCD.format(n=3, kind="ascii") + "0 0 0\n1 0 0\n0 1 0\n")
    assert media.probe(path).n_points == 3
