import json
import math

import numpy as np
import pytest

from vqa_studio.core.errors import BadInputError
from vqa_studio.core.formats.datumaro import DatumaroItem, point_cloud_path, read_datumaro, write_datumaro
from vqa_studio.core.formats.kitti import KittiCalib, read_kitti_calib, read_kitti_labels, write_kitti_labels
from vqa_studio.core.formats.labelcloud import read_labelcloud, write_labelcloud
from vqa_studio.core.geometry import Cuboid, wrap_angle

# KITTI object benchmark, training/calib/000000.txt
CALIB_000000 = """\
P0: 7.070493000000e+02 0.000000000000e+00 6.040814000000e+02 0.000000000000e+00 0.000000000000e+00 7.070493000000e+02 1.805066000000e+02 0.000000000000e+00 0.000000000000e+00 0.000000000000e+00 1.000000000000e+00 0.000000000000e+00
P1: 7.070493000000e+02 0.000000000000e+00 6.040814000000e+02 -3.797842000000e+02 0.000000000000e+00 7.070493000000e+02 1.805066000000e+02 0.000000000000e+00 0.000000000000e+00 0.000000000000e+00 1.000000000000e+00 0.000000000000e+00
P2: 7.070493000000e+02 0.000000000000e+00 6.040814000000e+02 4.575831000000e+01 0.000000000000e+00 7.070493000000e+02 1.805066000000e+02 -3.454157000000e-01 0.000000000000e+00 0.000000000000e+00 1.000000000000e+00 4.981016000000e-03
P3: 7.070493000000e+02 0.000000000000e+00 6.040814000000e+02 -3.341081000000e+02 0.000000000000e+00 7.070493000000e+02 1.805066000000e+02 2.330660000000e+00 0.000000000000e+00 0.000000000000e+00 1.000000000000e+00 3.201153000000e-03
R0_rect: 9.999128000000e-01 1.009263000000e-02 -8.511932000000e-03 -1.012729000000e-02 9.999406000000e-01 -4.037671000000e-03 8.470675000000e-03 4.123522000000e-03 9.999556000000e-01
Tr_velo_to_cam: 6.927964000000e-03 -9.999722000000e-01 -2.757829000000e-03 -2.457729000000e-02 -1.162982000000e-03 2.749836000000e-03 -9.999955000000e-01 -6.127237000000e-02 9.999753000000e-01 6.931141000000e-03 -1.143899000000e-03 -3.321029000000e-01
Tr_imu_to_velo: 9.999976000000e-01 7.553071000000e-04 -2.035826000000e-03 -8.086759000000e-01 -7.854027000000e-04 9.998898000000e-01 -1.482298000000e-02 3.195559000000e-01 2.024406000000e-03 1.482454000000e-02 9.998881000000e-01 -7.997231000000e-01
"""


def _cuboids():
    return [
        Cuboid(10.0, 2.0, -0.8, 3.9, 1.6, 1.5, 0.3, "Car"),
        Cuboid(25.5, -4.25, -0.5, 0.8, 0.6, 1.8, math.pi - 1e-7, "Pedestrian"),  # yaw at the wrap-around
        Cuboid(7.0, 1.0, -0.9, 1.7, 0.5, 1.6, -math.pi + 2e-7, "Cyclist"),
        Cuboid(40.0, 0.5, 0.1, 12.0, 2.5, 3.5, -1.2, "big truck"),
    ]


def _assert_same(got, want, tol=1e-5, labels=True):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.as_array()[:6], w.as_array()[:6], atol=tol)
        assert abs(wrap_angle(g.yaw - w.yaw)) < tol
        assert -math.pi < g.yaw <= math.pi
        if labels:
            assert g.label == w.label


# --- KITTI ---------------------------------------------------------------------------------------


def test_kitti_round_trip_without_calibration(tmp_path):
    path = write_kitti_labels(tmp_path / "000000.txt", _cuboids())
    back = read_kitti_labels(path)
    _assert_same(back[:3], _cuboids()[:3])
    assert back[3].label == "big_truck"  # KITTI types have no spaces


def test_kitti_round_trip_with_calibration(tmp_path):
    calib_path = tmp_path / "calib.txt"
    calib_path.write_text(CALIB_000000)
    calib = read_kitti_calib(calib_path)
    assert calib.tr_velo_to_cam.shape == (3, 4) and calib.r0_rect.shape == (3, 3) and calib.p2.shape == (3, 4)
    path = write_kitti_labels(tmp_path / "000000.txt", _cuboids()[:3], calib)
    _assert_same(read_kitti_labels(path, calib), _cuboids()[:3])
    _assert_same(read_kitti_labels(path, calib_path), _cuboids()[:3])  # a path works too
    # with P2 the 2D box is the projected corners: a real box, inside the image for the car ahead
    car = path.read_text().splitlines()[0].split()
    x1, y1, x2, y2 = map(float, car[4:8])
    assert 0 < x1 < x2 < 1242 and 0 < y1 < y2 < 375


def test_kitti_camera_frame_convention(tmp_path):
    # the first object of KITTI training/label_2/000000.txt
    line = "Pedestrian 0.00 0 -0.20 712.40 143.00 810.73 307.92 1.89 0.48 1.20 1.84 1.47 8.41 0.01\n"
    path = tmp_path / "000000.txt"
    path.write_text(line + "DontCare -1 -1 -10 503.89 169.71 590.61 190.13 -1 -1 -1 -1000 -1000 -1000 -10\n")
    (c,) = read_kitti_labels(path)
    # permutation: x_lidar = z_cam, y_lidar = -x_cam, z_lidar = -y_cam; centre = bottom + h/2 up
    assert (c.cx, c.cy, c.cz) == pytest.approx((8.41, -1.84, -1.47 + 1.89 / 2))
    assert (c.length, c.width, c.height) == pytest.approx((1.20, 0.48, 1.89))
    assert c.yaw == pytest.approx(-(0.01 + math.pi / 2))
    assert c.label == "Pedestrian"
    # with the real calibration the box sits ~0.3 m further forward: the LiDAR is mounted behind the camera
    calib_path = tmp_path / "calib.txt"
    calib_path.write_text(CALIB_000000)
    (d,) = read_kitti_labels(path, calib_path)
    assert 0.2 < d.cx - c.cx < 0.4 and abs(d.cy - c.cy) < 0.1 and abs(d.yaw - c.yaw) < 0.02
    # writing it back gives KITTI's own alpha, and a 2D box near the annotated one (712 143 811 308)
    out = write_kitti_labels(tmp_path / "out.txt", [d], calib_path).read_text().split()
    assert float(out[3]) == pytest.approx(-0.20, abs=0.01)
    np.testing.assert_allclose([float(v) for v in out[4:8]], [712.40, 143.00, 810.73, 307.92], atol=12)
    assert [float(v) for v in out[8:15]] == pytest.approx([1.89, 0.48, 1.20, 1.84, 1.47, 8.41, 0.01], abs=1e-5)
    # a score column (detections) is accepted
    path.write_text(line.strip() + " 0.93\n")
    assert len(read_kitti_labels(path)) == 1


def test_kitti_tracking_style_calibration(tmp_path):
    text = (
        "R_rect 1 0 0 0 1 0 0 0 1\n"
        "Tr_velo_cam 0 -1 0 0 0 0 -1 0 1 0 0 0\n"
    )
    p = tmp_path / "0000.txt"
    p.write_text(text)
    calib = read_kitti_calib(p)
    np.testing.assert_allclose(calib.rotation, KittiCalib.permutation().rotation)
    assert calib.p2 is None


def test_kitti_bad_input(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("Car 0 0 0 0 0 0 0 1.5 1.6 3.9 1 2 10 0\nCar 0 0 0 0 0 0 0 1.5 1.6 3.9 1 2\n")
    with pytest.raises(BadInputError, match="expected 15 or 16 fields") as info:
        read_kitti_labels(path)
    assert info.value.path == str(path) and info.value.record == "line 2"
    path.write_text("Car 0 0 0 0 0 0 0 1.5 abc 3.9 1 2 10 0\n")
    with pytest.raises(BadInputError, match="not a number: 'abc'") as info:
        read_kitti_labels(path)
    assert info.value.record == "line 1"
    path.write_text("Car 0 0 0 0 0 0 0 1.5 -1.6 3.9 1 2 10 0\n")
    with pytest.raises(BadInputError, match="negative"):
        read_kitti_labels(path)
    with pytest.raises(BadInputError, match="file not found"):
        read_kitti_labels(tmp_path / "missing.txt")
    calib = tmp_path / "calib.txt"
    calib.write_text("P2: 1 2 3\n")
    with pytest.raises(BadInputError, match="should have 12 numbers"):
        read_kitti_calib(calib)
    calib.write_text("P2: " + " ".join(["1"] * 12) + "\n")
    with pytest.raises(BadInputError, match="no Tr_velo_to_cam"):
        read_kitti_calib(calib)


# --- Datumaro ------------------------------------------------------------------------------------


def test_datumaro_round_trip(tmp_path):
    items = {
        "frame_000": DatumaroItem(_cuboids(), "frame_000.pcd", {"frame": 0}),
        "frame_001": [Cuboid(1, 2, 3, 4, 5, 6, 3 * math.pi / 2, "Car"), Cuboid(0, 0, 0, 1, 1, 1, 0.0, "")],
        "empty": DatumaroItem([], None),
    }
    path = write_datumaro(tmp_path / "annotations" / "default.json", items, labels=["Van"])
    raw = json.loads(path.read_text())
    assert raw["dm_format_version"] == "1.0"
    names = [entry["name"] for entry in raw["categories"]["label"]["labels"]]
    assert names == ["Van", "Car", "Pedestrian", "Cyclist", "big truck"]
    assert all(entry["parent"] == "" for entry in raw["categories"]["label"]["labels"])
    ann = raw["items"][0]["annotations"][0]
    assert ann["type"] == "cuboid_3d" and ann["label_id"] == 1 and ann["scale"] == [3.9, 1.6, 1.5]
    back = read_datumaro(path)
    assert list(back) == ["frame_000", "frame_001", "empty"]
    _assert_same(back["frame_000"].cuboids, _cuboids(), tol=1e-12)
    assert back["frame_000"].point_cloud == "frame_000.pcd" and back["frame_000"].attributes == {"frame": 0}
    assert back["frame_001"].cuboids[0].yaw == pytest.approx(-math.pi / 2)
    assert back["frame_001"].cuboids[1].label == ""
    assert back["empty"].cuboids == [] and back["empty"].point_cloud is None
    # where Datumaro keeps the point clouds
    assert point_cloud_path(path, "frame_000.pcd") == tmp_path / "point_clouds" / "default" / "frame_000.pcd"


def test_datumaro_reads_cvat_style_files(tmp_path):
    data = {
        "info": {},
        "categories": {"label": {"labels": [{"name": "car", "parent": "", "attributes": []}], "attributes": []}},
        "items": [{
            "id": "000001",
            "annotations": [
                {"id": 0, "type": "label", "label_id": 0, "attributes": {}, "group": 0},
                {"id": 1, "type": "cuboid_3d", "attributes": {"occluded": False}, "group": 0, "label_id": 0,
                 "position": [1, 2, 3], "rotation": [0, 0, 1.5], "scale": [4, 2, 1.5]},
            ],
            "attr": {"frame": 0},
            "point_cloud": {"path": ""},
        }],
    }
    path = tmp_path / "default.json"
    path.write_text(json.dumps(data))
    item = read_datumaro(path)["000001"]
    assert item.cuboids == [Cuboid(1.0, 2.0, 3.0, 4.0, 2.0, 1.5, 1.5, "car")]


@pytest.mark.parametrize(
    "mutate, problem, record",
    [
        (lambda d: d["items"][0]["annotations"][0].update(position=[1, "2", 3]), "'position' should be a list of 3 numbers",
         "items[0] (id 'a').annotations[0]"),
        (lambda d: d["items"][0]["annotations"][0].pop("scale"), "missing field 'scale'", "items[0] (id 'a').annotations[0]"),
        (lambda d: d["items"][0]["annotations"][0].update(label_id=7), "label_id 7 is not in categories.label",
         "items[0] (id 'a').annotations[0]"),
        (lambda d: d["items"][0]["annotations"][0].update(rotation=[0.3, 0, 0]), "tilted",
         "items[0] (id 'a').annotations[0]"),
        (lambda d: d["items"][0].update(annotations={}), "'annotations' should be a list", "items[0] (id 'a')"),
        (lambda d: d.update(items=5), "'items' should be a list", "top level"),
        (lambda d: d["items"].append(d["items"][0]), "appears twice", "items[1] (id 'a')"),
        (lambda d: d["items"][0]["annotations"][0].update(scale=[1, -1, 1]), "negative scale",
         "items[0] (id 'a').annotations[0]"),
    ],
)
def test_datumaro_bad_input(tmp_path, mutate, problem, record):
    path = write_datumaro(tmp_path / "d.json", {"a": [Cuboid(0, 0, 0, 1, 1, 1, 0, "car")]})
    data = json.loads(path.read_text())
    mutate(data)
    path.write_text(json.dumps(data))
    with pytest.raises(BadInputError, match=problem) as info:
        read_datumaro(path)
    assert info.value.path == str(path) and info.value.record == record


def test_datumaro_broken_json(tmp_path):
    path = tmp_path / "d.json"
    path.write_text('{"items": [')
    with pytest.raises(BadInputError, match="truncated JSON") as info:
        read_datumaro(path)
    assert info.value.path == str(path)


# --- labelCloud ----------------------------------------------------------------------------------


def test_labelcloud_round_trip(tmp_path):
    path = write_labelcloud(tmp_path / "labels" / "scene.json", _cuboids(), "pointclouds/scene.ply")
    raw = json.loads(path.read_text())
    assert (raw["folder"], raw["filename"], raw["path"]) == ("pointclouds", "scene.ply", "pointclouds/scene.ply")
    obj = raw["objects"][0]
    assert list(obj["centroid"]) == ["x", "y", "z"] and list(obj["dimensions"]) == ["length", "width", "height"]
    assert obj["rotations"]["z"] == pytest.approx(math.degrees(0.3))
    assert all(0 <= o["rotations"]["z"] < 360 for o in raw["objects"])
    back = read_labelcloud(path)
    _assert_same(back.cuboids, _cuboids(), tol=1e-9)
    assert back.path == "pointclouds/scene.ply"


def test_labelcloud_degrees(tmp_path):
    path = tmp_path / "l.json"
    path.write_text(json.dumps({"folder": "pc", "filename": "a.pcd", "path": "pc/a.pcd", "objects": [
        {"name": "chair", "centroid": {"x": 1, "y": 2, "z": 0.5}, "dimensions": {"length": 1, "width": 0.5, "height": 1},
         "rotations": {"x": 0, "y": 360, "z": 270}}]}))
    (c,) = read_labelcloud(path).cuboids
    assert c.yaw == pytest.approx(-math.pi / 2) and c.label == "chair"


@pytest.mark.parametrize(
    "mutate, problem, record",
    [
        (lambda o: o.pop("centroid"), "missing field 'centroid'", "objects[0] ('car')"),
        (lambda o: o["dimensions"].update(width="2"), "field 'width' should be", "objects[0] ('car').dimensions"),
        (lambda o: o["rotations"].pop("z"), "missing field 'z'", "objects[0] ('car').rotations"),
        (lambda o: o.update(name=3), "field 'name' should be a string", "objects[0]"),
        (lambda o: o["rotations"].update(x=20), "tilted", "objects[0] ('car')"),
        (lambda o: o["centroid"].update(x=True), "found a boolean", "objects[0] ('car').centroid"),
    ],
)
def test_labelcloud_bad_input(tmp_path, mutate, problem, record):
    path = write_labelcloud(tmp_path / "l.json", [Cuboid(0, 0, 0, 1, 1, 1, 0, "car")])
    data = json.loads(path.read_text())
    mutate(data["objects"][0])
    path.write_text(json.dumps(data))
    with pytest.raises(BadInputError, match=problem) as info:
        read_labelcloud(path)
    assert info.value.path == str(path) and info.value.record == record


def test_labelcloud_broken_json_and_top_level(tmp_path):
    path = tmp_path / "l.json"
    path.write_text("{not json}")
    with pytest.raises(BadInputError, match="broken JSON"):
        read_labelcloud(path)
    path.write_text("[]")
    with pytest.raises(BadInputError, match="expected a JSON object"):
        read_labelcloud(path)
    path.write_text('{"objects": {}}')
    with pytest.raises(BadInputError, match="'objects' should be a list"):
        read_labelcloud(path)
