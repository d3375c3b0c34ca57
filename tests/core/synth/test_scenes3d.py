import itertools
import math
from collections import Counter

import numpy as np
import pytest

from vqa_studio.core.data.clouds import load_cloud
from vqa_studio.core.data.vocab import answer_type
from vqa_studio.core.geometry import bev_corners, iou_bev, points_in_cuboid
from vqa_studio.core.synth.scenes3d import (
    COLORS,
    GAP,
    GROUND_COLOR,
    GROUND_HALF,
    SHAPES,
    SIZES,
    generate_scenes,
    sample_cloud,
    write_dataset,
)

_PLURAL = {"boxes": "box", "spheres": "sphere", "cylinders": "cylinder", "cones": "cone", "tori": "torus"}


def _oracle(scene, question):
    """The answer recomputed from the objects, or an AssertionError if the question is ambiguous."""
    objs = scene.objects
    words = question.rstrip("?").split()
    if question.startswith("How many") and words[3] == "things":
        return str(sum(o.color == words[2] for o in objs))
    if question.startswith("How many"):
        return str(sum(o.shape == _PLURAL[words[2]] for o in objs))
    if question.startswith("What color is the"):
        match = [o for o in objs if o.shape == words[4]]
        assert len(match) == 1, question
        return match[0].color
    if question.startswith("What shape is the"):
        match = [o for o in objs if o.color == words[4]]
        assert len(match) == 1, question
        return match[0].shape
    if question.startswith("What size is the"):
        match = [o for o in objs if o.color == words[4] and o.shape == words[5]]
        assert len(match) == 1, question
        return match[0].size
    if question.startswith("Is there"):
        assert words[2] == ("an" if words[3][0] in "aeiou" else "a")
        return "yes" if any(o.color == words[3] and o.shape == words[4] for o in objs) else "no"
    raise AssertionError(f"unknown template: {question}")


def test_questions_are_correct_unambiguous_and_typed():
    scenes = generate_scenes(300, seed=1)
    for scene in scenes:
        assert len(scene.questions) == 5
        assert len({q.question for q in scene.questions}) == 5
        for qa in scene.questions:
            assert _oracle(scene, qa.question) == qa.answer
            assert qa.answer_type == answer_type(qa.answer)


def test_answer_distribution():
    qs = [q for s in generate_scenes(500, seed=0) for q in s.questions]
    families = Counter(q.family for q in qs)
    assert set(families) == {"count_shape", "count_color", "color", "shape", "size", "exist"}
    assert min(families.values()) > 0.1 * len(qs)
    exist = Counter(q.answer for q in qs if q.family == "exist")
    assert 0.4 < exist["yes"] / (exist["yes"] + exist["no"]) < 0.6
    assert set(q.answer for q in qs if q.family == "color") == set(COLORS)
    assert set(q.answer for q in qs if q.family == "shape") == set(SHAPES)
    sizes = Counter(q.answer for q in qs if q.family == "size")
    assert set(sizes) == set(SIZES) and 0.4 < sizes["large"] / sum(sizes.values()) < 0.6
    counts = Counter(q.answer for q in qs if q.answer_type == "number")
    assert {"0", "1", "2", "3"} <= set(counts)


def test_objects_are_separated_and_on_the_ground():
    for scene in generate_scenes(200, seed=2):
        assert 2 <= len(scene.objects) <= 6
        for o in scene.objects:
            c = o.cuboid
            assert c.label == o.shape and o.color in COLORS and o.size in SIZES
            assert c.bottom == pytest.approx(0.0)
            assert np.abs(bev_corners(c)).max() <= GROUND_HALF
        for a, b in itertools.combinations(scene.objects, 2):
            assert iou_bev(a.cuboid, b.cuboid) == 0.0
            gap = math.hypot(a.cuboid.cx - b.cuboid.cx, a.cuboid.cy - b.cuboid.cy)
            assert gap >= (a.cuboid.width + b.cuboid.width) / 2 + GAP - 1e-9


def test_sizes_are_distinct():
    scenes = generate_scenes(100, seed=3)
    for shape in SHAPES:
        small = {o.cuboid.length for s in scenes for o in s.objects if o.shape == shape and o.size == "small"}
        large = {o.cuboid.length for s in scenes for o in s.objects if o.shape == shape and o.size == "large"}
        assert len(small) == len(large) == 1
        assert large.pop() == pytest.approx(2 * small.pop())


def test_sampled_points_fit_their_cuboids():
    scene = generate_scenes(5, seed=4)[4]
    cloud, labels = sample_cloud(scene, n_points=6000, seed=0, return_labels=True)
    assert len(cloud) == 6000 and labels.shape == (6000,)
    assert cloud.rgb is not None and cloud.rgb.min() >= 0 and cloud.rgb.max() <= 1
    for i, obj in enumerate(scene.objects):
        mine = labels == i
        assert mine.sum() == 6000 * 0.8 // 6  # the same share for every object, in every scene
        inside = points_in_cuboid(cloud.xyz[mine], obj.cuboid, tol=0.03)  # noise 5 mm
        assert inside.all()
        np.testing.assert_allclose(cloud.rgb[mine], np.broadcast_to(COLORS[obj.color], (mine.sum(), 3)), atol=1e-6)
        # the cuboid is tight: points reach every face
        lo, hi = cloud.xyz[mine, 2].min(), cloud.xyz[mine, 2].max()
        assert lo == pytest.approx(obj.cuboid.bottom, abs=0.03) and hi == pytest.approx(obj.cuboid.top, abs=0.03)
    ground = labels == -1
    assert np.abs(cloud.xyz[ground, 2]).max() < 0.03
    np.testing.assert_allclose(cloud.rgb[ground][0], GROUND_COLOR, atol=1e-6)
    for obj in scene.objects:  # no ground under the objects
        assert not points_in_cuboid(cloud.xyz[ground], obj.cuboid, tol=-0.05).any()


def test_determinism(tmp_path):
    a = generate_scenes(20, seed=5)
    assert a == generate_scenes(20, seed=5)
    assert [s.objects for s in a[:10]] == [s.objects for s in generate_scenes(10, seed=5)]
    assert a != generate_scenes(20, seed=6)
    first = write_dataset(tmp_path / "one", 4, seed=5, n_points=2048)
    second = write_dataset(tmp_path / "two", 4, seed=5, n_points=2048)
    assert [p.name for p, _ in first] == [f"scene3d_{i:06d}.ply" for i in range(4)]
    for (p1, s1), (p2, s2) in zip(first, second):
        assert p1.read_bytes() == p2.read_bytes() and s1 == s2
    cloud = load_cloud(first[0][0])
    assert len(cloud) == 2048
    np.testing.assert_allclose(cloud.xyz, sample_cloud(first[0][1], 2048, seed=5).xyz)


def test_splits_and_arguments():
    scenes = generate_scenes(100, seed=0)
    assert Counter(s.split for s in scenes) == {"train": 70, "val": 10, "test": 20}
    assert [s.index for s in scenes] == list(range(100))
    assert all(len(s.questions) == 2 for s in generate_scenes(10, questions_per_scene=2))
    assert all(len(s.objects) == 1 for s in generate_scenes(10, min_objects=1, max_objects=1))
    with pytest.raises(ValueError):
        generate_scenes(-1)
    with pytest.raises(ValueError):
        generate_scenes(3, min_objects=4, max_objects=2)
    with pytest.raises(ValueError):
        sample_cloud(scenes[0], n_points=0)


def test_colour_names_match_the_2d_demo():
    shapes2d = pytest.importorskip("vqa_studio.core.synth.shapes2d")
    assert set(COLORS) == set(shapes2d.COLORS)
    assert set(SIZES) == set(shapes2d.SIZES)
