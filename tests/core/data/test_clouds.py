import hashlib
import warnings

import numpy as np
import pytest

from vqa_studio.core.data.clouds import (
    Cloud,
    CloudWarning,
    LevelOfDetail,
    downsample_for_display,
    load_cloud,
    probe_cloud,
    save_cloud,
)
from vqa_studio.core.errors import BadInputError


def _cloud(n=500, rgb=True, intensity=True, seed=0):
    rng = np.random.default_rng(seed)
    xyz = rng.normal(scale=5.0, size=(n, 3)).astype(np.float32)
    colours = (rng.integers(0, 256, size=(n, 3)) / 255.0).astype(np.float32) if rgb else None
    inten = rng.random(n).astype(np.float32) if intensity else None
    return Cloud(xyz, colours, inten)


@pytest.mark.parametrize(
    "name, ascii",
    [("c.ply", False), ("c.ply", True), ("c.pcd", False), ("c.pcd", True), ("c.xyz", False), ("c.txt", False)],
)
def test_round_trip(tmp_path, name, ascii):
    cloud = _cloud()
    path = save_cloud(tmp_path / name, cloud, ascii=ascii)
    back = load_cloud(path)
    assert back.path == path and back.n_dropped == 0 and back.origin is None
    assert back.xyz.dtype == np.float32 and back.rgb.dtype == np.float32 and back.intensity.dtype == np.float32
    np.testing.assert_array_equal(back.xyz, cloud.xyz)  # 9 significant digits: exact for float32
    np.testing.assert_allclose(back.rgb, cloud.rgb, atol=1e-6)
    np.testing.assert_array_equal(back.intensity, cloud.intensity)


def test_round_trip_xyzrgb_and_kitti_bin(tmp_path):
    cloud = _cloud(rgb=True, intensity=False)
    back = load_cloud(save_cloud(tmp_path / "c.xyzrgb", cloud))
    np.testing.assert_array_equal(back.xyz, cloud.xyz)
    np.testing.assert_allclose(back.rgb, cloud.rgb, atol=1e-6)
    assert back.intensity is None
    with pytest.raises(ValueError):
        save_cloud(tmp_path / "d.xyzrgb", _cloud(rgb=False))
    kitti = _cloud(rgb=False)
    back = load_cloud(save_cloud(tmp_path / "000001.bin", kitti))
    np.testing.assert_array_equal(back.xyz, kitti.xyz)
    np.testing.assert_array_equal(back.intensity, kitti.intensity)
    assert back.rgb is None


def test_xyz_only_and_colourless(tmp_path):
    cloud = _cloud(rgb=False, intensity=False)
    for name in ("a.ply", "a.pcd", "a.xyz"):
        back = load_cloud(save_cloud(tmp_path / name, cloud))
        np.testing.assert_array_equal(back.xyz, cloud.xyz)
        assert back.rgb is None and back.intensity is None


def test_text_variants(tmp_path):
    # comma separated, a header of names, colours 0..255
    p = tmp_path / "named.txt"
    p.write_text("x,y,z,red,green,blue,intensity\n1,2,3,255,0,128,0.5\n4, 5, 6, 0, 255, 0, 0.25\n")
    c = load_cloud(p)
    np.testing.assert_allclose(c.xyz, [[1, 2, 3], [4, 5, 6]])
    np.testing.assert_allclose(c.rgb, [[1, 0, 128 / 255], [0, 1, 0]], atol=1e-6)
    np.testing.assert_allclose(c.intensity, [0.5, 0.25])
    # XYZRGB with colours in 0..1, comments
    p = tmp_path / "unit.xyzrgb"
    p.write_text("# made by hand\n0 0 0 1 0.5 0\n1 1 1 0 0 1\n")
    c = load_cloud(p)
    np.testing.assert_allclose(c.rgb, [[1, 0.5, 0], [0, 0, 1]])
    # XYZRGB with colours in 0..255
    p = tmp_path / "bytes.xyzrgb"
    p.write_text("0 0 0 255 51 0\n1 1 1 0 0 255\n")
    np.testing.assert_allclose(load_cloud(p).rgb, [[1, 0.2, 0], [0, 0, 1]], atol=1e-6)
    # normals are not colours
    p = tmp_path / "normals.xyz"
    p.write_text("0 0 0 0 0 1\n1 1 1 0 -1 0\n")
    assert load_cloud(p).rgb is None
    p = tmp_path / "normals.xyzn"
    p.write_text("0 0 0 0 0 1\n1 1 1 0 1 0\n")
    c = load_cloud(p)
    assert c.rgb is None and len(c) == 2
    p = tmp_path / "scan.pts"  # Leica PTS: a count line, then x y z intensity r g b
    p.write_text("2\n1 2 3 -500 255 0 0\n4 5 6 100 0 0 255\n")
    c = load_cloud(p)
    np.testing.assert_allclose(c.xyz, [[1, 2, 3], [4, 5, 6]])
    np.testing.assert_allclose(c.intensity, [-500, 100])
    np.testing.assert_allclose(c.rgb, [[1, 0, 0], [0, 0, 1]])
    assert probe_cloud(p)[0] == 2
    # x y z intensity
    p = tmp_path / "four.xyz"
    p.write_text("0 0 0 7\n1 1 1 9\n")
    c = load_cloud(p)
    assert c.rgb is None and c.intensity.tolist() == [7, 9]


def test_kitti_bin_size_must_be_a_multiple_of_16(tmp_path):
    p = tmp_path / "bad.bin"
    p.write_bytes(np.zeros(9, dtype=np.float32).tobytes()[:-1] + b"")  # 35 bytes
    with pytest.raises(BadInputError, match="multiple of 16") as info:
        load_cloud(p)
    assert info.value.path == str(p)
    with pytest.raises(BadInputError, match="multiple of 16"):
        probe_cloud(p)


def test_nan_points_are_dropped_with_a_warning(tmp_path):
    cloud = _cloud(n=10)
    cloud.xyz[2, 0] = np.nan
    cloud.xyz[5, 2] = np.inf
    path = save_cloud(tmp_path / "nan.pcd", cloud)
    with pytest.warns(CloudWarning, match=r"nan\.pcd: dropped 2 of 10 points"):
        back = load_cloud(path)
    assert len(back) == 8 and back.n_dropped == 2
    keep = np.ones(10, bool)
    keep[[2, 5]] = False
    np.testing.assert_array_equal(back.xyz, cloud.xyz[keep])
    np.testing.assert_allclose(back.rgb, cloud.rgb[keep], atol=1e-6)
    np.testing.assert_array_equal(back.intensity, cloud.intensity[keep])


def test_all_nan_and_empty_clouds_are_errors(tmp_path):
    cloud = Cloud(np.full((3, 3), np.nan, dtype=np.float32))
    path = save_cloud(tmp_path / "allnan.ply", cloud)
    with pytest.raises(BadInputError, match="all 3 points have NaN"):
        load_cloud(path)
    empty = tmp_path / "empty.ply"
    empty.write_bytes(b"ply\nformat binary_little_endian 1.0\nelement vertex 0\nproperty float x\n"
                      b"property float y\nproperty float z\nend_header\n")
    with pytest.raises(BadInputError, match="no points") as info:
        load_cloud(empty)
    assert str(empty) in str(info.value)
    zero = tmp_path / "zero.xyz"
    zero.write_bytes(b"")
    with pytest.raises(BadInputError, match="empty"):
        load_cloud(zero)
    comments = tmp_path / "comments.xyz"
    comments.write_text("# nothing here\n\n")
    with pytest.raises(BadInputError, match="no points"):
        load_cloud(comments)


def test_unknown_missing_and_broken_files(tmp_path):
    with pytest.raises(BadInputError, match="unknown point-cloud format '.obj'"):
        load_cloud(tmp_path / "mesh.obj")
    with pytest.raises(BadInputError, match="file not found"):
        load_cloud(tmp_path / "missing.ply")
    p = tmp_path / "garbage.ply"
    p.write_bytes(b"\x00\x01 not a ply file at all")
    with pytest.raises(BadInputError, match="not a PLY file"):
        load_cloud(p)
    p = tmp_path / "noend.ply"
    p.write_bytes(b"ply\nformat ascii 1.0\nelement vertex 2\nproperty float x\n")
    with pytest.raises(BadInputError, match="end_header"):
        load_cloud(p)
    p = tmp_path / "badprop.ply"
    p.write_bytes(b"ply\nformat ascii 1.0\nelement vertex 1\nproperty quux x\nend_header\n1\n")
    with pytest.raises(BadInputError, match="malformed property") as info:
        load_cloud(p)
    assert info.value.record == "header line 4"
    p = tmp_path / "noz.ply"
    p.write_bytes(b"ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\nend_header\n1 2\n")
    with pytest.raises(BadInputError, match="no z property"):
        load_cloud(p)
    p = tmp_path / "garbage.pcd"
    p.write_text("hello\nworld\n")
    with pytest.raises(BadInputError, match="PCD"):
        load_cloud(p)
    p = tmp_path / "words.xyz"
    p.write_text("1 2 3\nfour five six\n")
    with pytest.raises(BadInputError, match="malformed point list"):
        load_cloud(p)


def test_truncated_binary_files(tmp_path):
    for name in ("t.ply", "t.pcd"):
        path = save_cloud(tmp_path / name, _cloud(n=100))
        data = path.read_bytes()
        path.write_bytes(data[:-10])
        with pytest.raises(BadInputError, match="truncated"):
            load_cloud(path)
    path = save_cloud(tmp_path / "t2.ply", _cloud(n=100), ascii=True)
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-5]) + "\n")
    with pytest.raises(BadInputError, match="truncated: the header promises 100 vertices, the file has 95"):
        load_cloud(path)


def test_ply_big_endian_double_uint16_and_mesh(tmp_path):
    xyz = np.array([[1.5, -2.0, 3.25], [0.0, 1.0, 2.0]])
    rgb16 = np.array([[65535, 0, 32768], [0, 65535, 0]], dtype=">u2")
    rec = np.empty(2, dtype=[("x", ">f8"), ("y", ">f8"), ("z", ">f8"), ("red", ">u2"), ("green", ">u2"),
                             ("blue", ">u2"), ("scalar_intensity", ">f4")])
    rec["x"], rec["y"], rec["z"] = xyz.T
    rec["red"], rec["green"], rec["blue"] = rgb16.T
    rec["scalar_intensity"] = [0.5, 2.0]
    faces = b"\x03" + np.array([0, 1, 1], dtype=">i4").tobytes()
    head = (b"ply\nformat binary_big_endian 1.0\ncomment hand made\nelement vertex 2\n"
            b"property double x\nproperty double y\nproperty double z\n"
            b"property ushort red\nproperty ushort green\nproperty ushort blue\nproperty float scalar_intensity\n"
            b"element face 1\nproperty list uchar int vertex_indices\nend_header\n")
    p = tmp_path / "be.ply"
    p.write_bytes(head + rec.tobytes() + faces)
    c = load_cloud(p)
    np.testing.assert_allclose(c.xyz, xyz)
    np.testing.assert_allclose(c.rgb, [[1, 0, 32768 / 65535], [0, 1, 0]], atol=1e-6)
    np.testing.assert_allclose(c.intensity, [0.5, 2.0])
    assert probe_cloud(p)[0] == 2


def test_large_coordinates_get_an_origin(tmp_path):
    xyz = np.array([[500_000.125, 4_000_000.25, 100.5], [500_010.5, 4_000_020.75, 101.0]])
    p = tmp_path / "utm.xyz"
    np.savetxt(p, xyz, fmt="%.3f")
    c = load_cloud(p)
    assert c.origin is not None
    np.testing.assert_allclose(c.world_xyz(), xyz, atol=1e-3)
    assert np.abs(c.xyz).max() < 100
    back = load_cloud(save_cloud(tmp_path / "utm.ply", c))  # PLY stores doubles for such clouds
    np.testing.assert_allclose(back.world_xyz(), xyz, atol=1e-3)


def _write_las(path, xyz, rgb16=None, offsets=(0.0, 0.0, 0.0)):
    laspy = pytest.importorskip("laspy")
    header = laspy.LasHeader(point_format=3 if rgb16 is not None else 1, version="1.2")
    header.scales = np.array([0.001, 0.001, 0.001])
    header.offsets = np.array(offsets)
    las = laspy.LasData(header)
    las.x, las.y, las.z = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    las.intensity = np.arange(len(xyz), dtype=np.uint16) * 100
    if rgb16 is not None:
        las.red, las.green, las.blue = rgb16[:, 0], rgb16[:, 1], rgb16[:, 2]
    las.write(str(path))


def test_las_and_laz(tmp_path):
    rng = np.random.default_rng(2)
    xyz = rng.uniform(-50, 50, size=(300, 3))
    rgb16 = rng.integers(0, 65536, size=(300, 3)).astype(np.uint16)
    p = tmp_path / "c.las"
    _write_las(p, xyz, rgb16)
    c = load_cloud(p)
    np.testing.assert_allclose(c.xyz, xyz, atol=1.5e-3)
    np.testing.assert_allclose(c.rgb, rgb16 / 65535.0, atol=1e-6)
    np.testing.assert_allclose(c.intensity, np.arange(300) * 100)
    assert probe_cloud(p)[0] == 300
    laspy = pytest.importorskip("laspy")
    if not laspy.LazBackend.detect_available():
        pytest.skip("no LAZ backend (pip install 'laspy[lazrs]')")
    z = tmp_path / "c.laz"
    _write_las(z, xyz, None)
    c = load_cloud(z)
    np.testing.assert_allclose(c.xyz, xyz, atol=1.5e-3)
    assert c.rgb is None


def test_las_georeferenced(tmp_path):
    xyz = np.array([[600_000.0, 5_200_000.0, 300.0], [600_100.5, 5_200_050.25, 310.125]])
    p = tmp_path / "geo.las"
    _write_las(p, xyz, None, offsets=(600_000.0, 5_200_000.0, 0.0))
    c = load_cloud(p)
    np.testing.assert_allclose(c.world_xyz(), xyz, atol=1e-3)
    assert c.origin is not None and np.abs(c.xyz).max() < 1000


def test_broken_las(tmp_path):
    p = tmp_path / "broken.las"
    p.write_bytes(b"LASF" + b"\x00" * 50)
    with pytest.raises(BadInputError, match="LAS"):
        load_cloud(p)


def test_open3d_reads_what_we_write_and_we_read_what_it_writes(tmp_path):
    o3d = pytest.importorskip("open3d")
    cloud = _cloud(n=200, intensity=False)
    for name in ("ours.ply", "ours.pcd"):
        pc = o3d.io.read_point_cloud(str(save_cloud(tmp_path / name, cloud)))
        np.testing.assert_allclose(np.asarray(pc.points), cloud.xyz, atol=1e-6)
        np.testing.assert_allclose(np.asarray(pc.colors), cloud.rgb, atol=1e-6)
    pc = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(cloud.xyz.astype(np.float64)))
    pc.colors = o3d.utility.Vector3dVector(cloud.rgb.astype(np.float64))
    for name, ascii, compressed in (("o.ply", False, False), ("oa.ply", True, False), ("o.pcd", False, False),
                                    ("oa.pcd", True, False), ("oc.pcd", False, True)):
        path = tmp_path / name
        assert o3d.io.write_point_cloud(str(path), pc, write_ascii=ascii, compressed=compressed)
        back = load_cloud(path)
        # open3d's ascii PLY keeps 6 significant digits
        np.testing.assert_allclose(back.xyz, cloud.xyz, atol=1e-4 if ascii else 1e-6)
        np.testing.assert_allclose(back.rgb, cloud.rgb, atol=1.0 / 255)


def test_probe_cloud(tmp_path):
    for name in ("p.ply", "p.pcd", "p.xyz", "p.bin"):
        path = save_cloud(tmp_path / name, _cloud(n=321))
        n, digest = probe_cloud(path)
        assert n == 321
        assert digest == hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(BadInputError):
        probe_cloud(tmp_path / "nope.ply")
    with pytest.raises(BadInputError, match="unknown"):
        (tmp_path / "x.foo").write_text("1 2 3\n")
        probe_cloud(tmp_path / "x.foo")


def test_downsample_for_display():
    rng = np.random.default_rng(3)
    dense = rng.normal(scale=0.05, size=(50_000, 3))  # a tight blob
    sparse = rng.uniform(5, 15, size=(2_000, 3))  # a wide, thin spread
    xyz = np.concatenate([dense, sparse]).astype(np.float32)
    idx = downsample_for_display(xyz, 3_000)
    assert len(idx) == 3_000 and idx.dtype == np.int64
    assert np.all(np.diff(idx) > 0)  # sorted, unique
    np.testing.assert_array_equal(idx, downsample_for_display(Cloud(xyz), 3_000))  # deterministic
    # voxels, not random picks: the sparse part keeps most of its points (random sampling: ~6%)
    assert (idx >= 50_000).sum() > 1_000
    assert len(downsample_for_display(xyz, 10)) == 10
    np.testing.assert_array_equal(downsample_for_display(xyz[:100], 1000), np.arange(100))
    with pytest.raises(ValueError):
        downsample_for_display(xyz, 0)
    # duplicates and a single point
    assert len(downsample_for_display(np.zeros((1000, 3)), 10)) == 10
    assert downsample_for_display(np.zeros((1, 3)), 1).tolist() == [0]


def test_level_of_detail():
    xyz = np.random.default_rng(4).uniform(-10, 10, size=(40_000, 3))
    lod = LevelOfDetail(xyz, budgets=(1_000, 5_000, 100_000))
    assert lod.sizes == [1_000, 5_000, 40_000]
    assert len(lod.indices(4_999)) == 1_000
    assert len(lod.indices(5_000)) == 5_000
    assert len(lod.indices(10)) == 1_000  # nothing fits: the coarsest
    assert len(lod.indices()) == 40_000
    assert lod.voxel_sizes[0] > lod.voxel_sizes[1] > 0
    np.testing.assert_array_equal(lod.levels[1], downsample_for_display(xyz, 5_000))


def test_cloud_checks_shapes():
    with pytest.raises(ValueError):
        Cloud(np.zeros((3, 2)))
    with pytest.raises(ValueError):
        Cloud(np.zeros((3, 3)), rgb=np.zeros((2, 3)))
    c = Cloud(np.zeros((3, 3)), intensity=np.arange(3))
    assert c.xyz.dtype == np.float32 and c.intensity.dtype == np.float32 and len(c.take([0, 2])) == 2


def test_no_warning_for_clean_files(tmp_path):
    path = save_cloud(tmp_path / "clean.ply", _cloud())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_cloud(path)


def test_a_layout_only_open3d_reads_names_the_missing_package(tmp_path, monkeypatch):
    """The packaged app leaves open3d out: its fallback layouts get a message, not an ImportError."""
    import sys

    from vqa_studio.core.data.clouds.base import load_with_open3d

    path = tmp_path / "scan.pcd"
    path.write_bytes(b"# .PCD v0.7\nFIELDS x y z\nDATA binary_compressed\n")
    monkeypatch.setitem(sys.modules, "open3d", None)  # import open3d raises ImportError
    with pytest.raises(BadInputError, match="open3d, which is not installed") as err:
        load_with_open3d(path)
    assert "scan.pcd" in str(err.value)
