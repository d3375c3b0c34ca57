import math

import numpy as np
import pytest

from vqa_studio.core.geometry import (
    Cuboid,
    bev_corners,
    clip_convex_polygon,
    corners,
    cuboid_from_points,
    intersection_volume,
    iou_3d,
    iou_bev,
    points_in_cuboid,
    polygon_area,
    resize,
    rotate,
    translate,
    wrap_angle,
)

CUBE = Cuboid(0.0, 0.0, 0.0, 2.0, 2.0, 2.0)


def test_identical_boxes_have_iou_one():
    assert iou_3d(CUBE, CUBE) == pytest.approx(1.0, abs=1e-12)
    c = Cuboid(3.0, -2.0, 1.0, 4.0, 1.5, 2.0, 0.7)
    assert iou_3d(c, c) == pytest.approx(1.0, abs=1e-12)
    assert iou_bev(c, c) == pytest.approx(1.0, abs=1e-12)


def test_disjoint_boxes_have_iou_zero():
    assert iou_3d(CUBE, translate(CUBE, dx=5.0)) == 0.0
    # overlapping footprints, but one above the other
    assert iou_3d(CUBE, translate(CUBE, dz=3.0)) == 0.0
    assert iou_bev(CUBE, translate(CUBE, dz=3.0)) == pytest.approx(1.0)
    # touching faces: zero volume shared
    assert iou_3d(CUBE, translate(CUBE, dx=2.0)) == pytest.approx(0.0, abs=1e-12)


def test_half_overlap_along_x_is_one_third():
    b = translate(CUBE, dx=1.0)  # shares 1 x 2 x 2 = 4 of 8 + 8 - 4 = 12
    assert intersection_volume(CUBE, b) == pytest.approx(4.0)
    assert iou_3d(CUBE, b) == pytest.approx(1.0 / 3.0)
    assert iou_bev(CUBE, b) == pytest.approx(1.0 / 3.0)


def test_square_turned_45_degrees_against_axis_aligned():
    # the intersection of the square [-1, 1]^2 and the same square turned by 45 degrees is a regular
    # octagon: the square less four corner triangles with legs 2 - sqrt(2)
    turned = rotate(CUBE, math.pi / 4)
    octagon = 4.0 - 2.0 * (2.0 - math.sqrt(2.0)) ** 2  # = 8 sqrt(2) - 8
    assert intersection_volume(CUBE, turned) == pytest.approx(octagon * 2.0)
    expected = octagon / (8.0 - octagon)  # = 1 / sqrt(2)
    assert expected == pytest.approx(1.0 / math.sqrt(2.0))
    assert iou_bev(CUBE, turned) == pytest.approx(expected)
    assert iou_3d(CUBE, turned) == pytest.approx(expected)
    # half the height overlapping halves the shared volume
    assert intersection_volume(CUBE, translate(turned, dz=1.0)) == pytest.approx(octagon)


def test_containment():
    big = Cuboid(0, 0, 0, 4, 4, 4)
    small = Cuboid(0.5, -0.5, 0.2, 1, 1, 1, yaw=math.pi / 4)
    assert iou_3d(big, small) == pytest.approx(1.0 / 64.0)
    assert iou_3d(small, big) == pytest.approx(1.0 / 64.0)
    assert iou_bev(big, small) == pytest.approx(1.0 / 16.0)


def test_iou_matches_monte_carlo_for_random_boxes():
    rng = np.random.default_rng(0)
    for _ in range(6):
        a = Cuboid(*rng.uniform(-0.5, 0.5, 3), *rng.uniform(0.5, 2.0, 3), rng.uniform(-math.pi, math.pi))
        b = Cuboid(*rng.uniform(-0.5, 0.5, 3), *rng.uniform(0.5, 2.0, 3), rng.uniform(-math.pi, math.pi))
        # uniform points in a, in a's own frame
        local = rng.uniform(-0.5, 0.5, size=(200_000, 3)) * a.size
        cos, sin = math.cos(a.yaw), math.sin(a.yaw)
        world = np.column_stack([
            a.cx + cos * local[:, 0] - sin * local[:, 1],
            a.cy + sin * local[:, 0] + cos * local[:, 1],
            a.cz + local[:, 2],
        ])
        share = points_in_cuboid(world, b, tol=0.0).mean()
        assert intersection_volume(a, b) / a.volume == pytest.approx(share, abs=0.01)
        assert iou_3d(a, b) == pytest.approx(iou_3d(b, a), abs=1e-12)


def test_degenerate_boxes():
    flat = Cuboid(0, 0, 0, 1, 1, 0)
    assert iou_3d(flat, flat) == 0.0
    assert iou_bev(Cuboid(0, 0, 0, 0, 0, 1), Cuboid(0, 0, 0, 0, 0, 1)) == 0.0


def test_corner_order():
    c = Cuboid(1.0, 2.0, 3.0, 4.0, 2.0, 6.0)
    expected = np.array([
        [3, 3, 0], [-1, 3, 0], [-1, 1, 0], [3, 1, 0],  # bottom: front-left, rear-left, rear-right, front-right
        [3, 3, 6], [-1, 3, 6], [-1, 1, 6], [3, 1, 6],  # top, same order
    ], dtype=float)
    np.testing.assert_allclose(corners(c), expected)
    assert polygon_area(bev_corners(c)) == pytest.approx(8.0)  # counter-clockwise: positive
    # a quarter turn: the length now runs along +y, the front-left corner is at (-w/2, +l/2)
    q = rotate(c, math.pi / 2)
    np.testing.assert_allclose(corners(q)[0], [1.0 - 1.0, 2.0 + 2.0, 0.0], atol=1e-12)


def test_points_in_cuboid_faces_and_outside():
    c = Cuboid(0, 0, 1, 2, 4, 2, yaw=math.pi / 2)  # length along y now, width along x
    pts = np.array([
        [0, 0, 1],  # centre
        [2, 0, 1],  # on the face x = +2 (width 4 along x)
        [0, 1, 1],  # on the face y = +1 (length 2 along y)
        [0, 0, 0],  # on the bottom
        [0, 0, 2],  # on the top
        [2.01, 0, 1],
        [0, 1.01, 1],
        [0, 0, 2.01],
        [-2, -1, 0],  # a corner
    ], dtype=float)
    mask = points_in_cuboid(pts, c)
    assert mask.tolist() == [True, True, True, True, True, False, False, False, True]
    assert points_in_cuboid(corners(c), c).all()
    assert points_in_cuboid(np.zeros((0, 3)), c).shape == (0,)


def test_edits_return_new_cuboids():
    c = Cuboid(1, 1, 1, 2, 1, 2, 0.0, "car")
    moved = translate(c, 1, 2, 3)
    assert (moved.cx, moved.cy, moved.cz, moved.label) == (2, 3, 4, "car")
    assert (c.cx, c.cy, c.cz) == (1, 1, 1)
    with pytest.raises(AttributeError):
        c.cx = 5  # frozen
    turned = rotate(c, math.pi / 2, about=(0.0, 0.0))
    assert (turned.cx, turned.cy) == pytest.approx((-1.0, 1.0))
    assert turned.yaw == pytest.approx(math.pi / 2)
    assert rotate(c, 3 * math.pi).yaw == pytest.approx(math.pi)  # wrapped to (-pi, pi]
    taller = resize(c, height=4.0, keep_bottom=True)
    assert (taller.height, taller.bottom, taller.cz) == (4.0, 0.0, 2.0)
    wider = resize(c, length=3.0)
    assert (wider.length, wider.width, wider.cz) == (3.0, 1.0, 1.0)


def test_cuboid_from_points_is_tight():
    c = Cuboid(2.0, -1.0, 0.5, 3.0, 1.0, 1.0, yaw=0.4, label="x")
    fitted = cuboid_from_points(corners(c), yaw=0.4, label="x")
    np.testing.assert_allclose(fitted.as_array(), c.as_array(), atol=1e-9)
    rng = np.random.default_rng(1)
    pts = rng.normal(size=(500, 3))
    box = cuboid_from_points(pts)
    assert points_in_cuboid(pts, box).all()
    assert box.length == pytest.approx(np.ptp(pts[:, 0]))
    with pytest.raises(ValueError):
        cuboid_from_points(np.zeros((0, 3)))


def test_cuboid_validation_and_helpers():
    with pytest.raises(ValueError):
        Cuboid(0, 0, 0, -1, 1, 1)
    with pytest.raises(ValueError):
        Cuboid(0, 0, float("nan"), 1, 1, 1)
    c = Cuboid.from_array([1, 2, 3, 4, 5, 6, 0.5], label="a")
    assert c.as_array().tolist() == [1, 2, 3, 4, 5, 6, 0.5] and c.label == "a" and c.volume == 120
    assert wrap_angle(math.pi) == pytest.approx(math.pi)
    assert wrap_angle(-math.pi) == pytest.approx(math.pi)
    assert wrap_angle(3 * math.pi / 2) == pytest.approx(-math.pi / 2)


def test_clip_convex_polygon():
    square = np.array([[0, 0], [2, 0], [2, 2], [0, 2]], dtype=float)
    shifted = square + [1, 1]
    assert polygon_area(clip_convex_polygon(square, shifted)) == pytest.approx(1.0)
    assert len(clip_convex_polygon(square, square + [5, 5])) == 0
