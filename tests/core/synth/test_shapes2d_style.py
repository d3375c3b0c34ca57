"""Styles of the 2D shapes data: the shifted style is deterministic, right by construction, and differs
from the demo where it is meant to (shapes, colours, sizes, background, wordings); the demo stays as it was.

The answers are recomputed by a checker of the shifted wordings written here by hand (not from the
style's templates), with the relation rule and object selection of ``test_shapes2d``'s checker.
"""
from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from dataclasses import replace

import cv2
import numpy as np
import pytest

from vqa_studio.core.data.vocab import answer_type
from vqa_studio.core.synth import shapes2d
from vqa_studio.core.synth.shapes2d import DEMO, SHIFTED, Scene2D, Style, generate_scenes, render, write_dataset
from vqa_studio.core.synth.shapes2d_style import Background, style_named

from .test_shapes2d import neighbour, select, yes

SHIFTED_SHAPES = {"square": "squares", "triangle": "triangles", "star": "stars", "hexagon": "hexagons",
                  "ring": "rings"}
SHIFTED_COLOURS = ("red", "green", "blue", "yellow", "black", "white", "pink")


@pytest.fixture(scope="module")
def scenes() -> list[Scene2D]:
    return generate_scenes(1500, seed=21, style=SHIFTED)


def parse(phrase: str) -> tuple:
    """'small red stars' -> ('small', 'red', 'star'); 'objects' -> (None, None, None)."""
    *mods, head = phrase.split()
    singular = {**{s: s for s in SHIFTED_SHAPES}, **{p: s for s, p in SHIFTED_SHAPES.items()}}
    shape = None if head in ("object", "objects") else singular[head]
    size = color = None
    for word in mods:
        if word in ("small", "large") and size is None and color is None:
            size = word
        elif word in SHIFTED_COLOURS and color is None:
            color = word
        else:
            raise AssertionError(f"unexpected word {word!r} in {phrase!r}")
    return size, color, shape


def the(scene: Scene2D, phrase: str, never: str | None = None) -> int:
    desc = parse(phrase)
    assert any(desc), phrase
    if never is not None:
        assert desc[("size", "color", "shape").index(never)] is None, f"{phrase!r} gives away the {never}"
    hits = select(scene, desc)
    assert len(hits) == 1, f"{phrase!r} names {len(hits)} objects"
    return hits[0]


def expected(scene: Scene2D, question: str) -> tuple[str, str]:
    count = lambda p: len(select(scene, parse(p)))  # noqa: E731
    size_of = lambda p: scene.objects[the(scene, p, never="size")].size  # noqa: E731
    attr = lambda p, a: getattr(scene.objects[the(scene, p, never=a)], a)  # noqa: E731
    rules = [
        (r"Can you see an? (.+)\?", lambda m: ("exist", yes(count(m[1]) > 0))),
        (r"Are any (.+) visible\?", lambda m: ("exist", yes(count(m[1]) > 0))),
        (r"Is the number of (.+) greater than the number of (.+)\?",
         lambda m: ("compare_count", yes(count(m[1]) > count(m[2])))),
        (r"Is the number of (.+) less than the number of (.+)\?",
         lambda m: ("compare_count", yes(count(m[1]) < count(m[2])))),
        (r"Are there as many (.+) as (.+)\?", lambda m: ("compare_count", yes(count(m[1]) == count(m[2])))),
        (r"Is the (.+) larger than the (.+)\?",
         lambda m: ("compare_size", yes((size_of(m[1]), size_of(m[2])) == ("large", "small")))),
        (r"Is the (.+) tinier than the (.+)\?",
         lambda m: ("compare_size", yes((size_of(m[1]), size_of(m[2])) == ("small", "large")))),
        (r"Do the (.+) and the (.+) have the same size\?",
         lambda m: ("compare_size", yes(size_of(m[1]) == size_of(m[2])))),
        (r"Count the (.+)\.", lambda m: ("count", str(count(m[1])))),
        (r"What is the colour of the object (left|right) of the (.+)\?",
         lambda m: ("relate", neighbour(scene, the(scene, m[2]), m[1]).color)),
        (r"Which shape does the object (left|right) of the (.+) have\?",
         lambda m: ("relate", neighbour(scene, the(scene, m[2]), m[1]).shape)),
        (r"What is the colour of the (.+)\?", lambda m: ("color", attr(m[1], "color"))),
        (r"Which shape does the (.+) have\?", lambda m: ("shape", attr(m[1], "shape"))),
        (r"How big is the (.+)\?", lambda m: ("size", attr(m[1], "size"))),
    ]
    assert question[0].isupper(), question
    for pattern, rule in rules:
        m = re.fullmatch(pattern, question)
        if m:
            if m.re.groups == 2 and pattern.startswith(("Is the (", "Do the (")):
                assert the(scene, m[1]) != the(scene, m[2]), "compares an object with itself"
            return rule(m)
    raise AssertionError(f"no shifted template matches {question!r}")


# --- questions and answers -----------------------------------------------------------------------------

def test_every_shifted_answer_is_the_one_right_answer(scenes):
    for scene in scenes:
        assert scene.style is SHIFTED
        texts = [qa.question for qa in scene.questions]
        assert len(set(texts)) == len(texts) == 5
        for qa in scene.questions:
            assert expected(scene, qa.question) == (qa.family, qa.answer), (scene, qa)
            assert qa.answer_type == answer_type(qa.answer), qa


def test_many_questions_about_one_object_are_right_too():
    for scene in generate_scenes(40, seed=8, questions_per_scene=12, max_objects=2, style=SHIFTED):
        assert len({qa.question for qa in scene.questions}) == 12
        for qa in scene.questions:
            assert expected(scene, qa.question) == (qa.family, qa.answer), (scene, qa)


def test_shifted_keeps_the_families_and_the_answer_balance(scenes):
    qas = [qa for s in scenes for qa in s.questions]
    types = Counter(qa.answer_type for qa in qas)
    assert 0.33 <= types["yes/no"] / len(qas) <= 0.42 and 0.23 <= types["number"] / len(qas) <= 0.32, types
    assert set(Counter(qa.family for qa in qas)) == {f for fams in shapes2d.FAMILIES.values() for f in fams}
    yes_no = [qa.answer for qa in qas if qa.answer_type == "yes/no"]
    assert 0.45 <= yes_no.count("yes") / len(yes_no) <= 0.55
    counts = Counter(int(qa.answer) for qa in qas if qa.answer_type == "number")
    assert all(counts[c] / sum(counts.values()) >= 0.02 for c in range(7)), counts


def test_vocabulary_and_answers_differ_from_the_demo_as_intended(scenes):
    demo = generate_scenes(1500, seed=21)
    answers = {st: Counter(qa.answer for s in sc for qa in s.questions if qa.answer_type == "other")
               for st, sc in (("demo", demo), ("shifted", scenes))}
    shapes = {st: {a for a in answers[st] if a in shapes2d.OUTLINES} for st in answers}
    colours = {st: set(answers[st]) - shapes[st] - {"small", "large"} for st in answers}
    assert shapes["shifted"] == set(SHIFTED_SHAPES) and colours["shifted"] == set(SHIFTED_COLOURS)
    # shared concepts and words, and new ones
    assert shapes["demo"] & shapes["shifted"] == {"square", "triangle"}
    assert shapes["shifted"] - shapes["demo"] == {"star", "hexagon", "ring"}
    assert colours["demo"] & colours["shifted"] == {"red", "green", "blue", "yellow"}
    assert colours["shifted"] - colours["demo"] == {"black", "white", "pink"}
    assert {"small", "large"} <= set(answers["shifted"])
    words = {st: {w for s in sc for qa in s.questions for w in re.findall(r"[a-z]+", qa.question.lower())}
             for st, sc in (("demo", demo), ("shifted", scenes))}
    assert {"colour", "object", "objects", "count", "see", "visible", "tinier", "star", "rings"} <= words["shifted"]
    assert not {"color", "thing", "things", "circle", "diamond", "purple"} & words["shifted"]
    assert {"red", "square", "small", "large", "left", "right", "shape", "many"} <= words["demo"] & words["shifted"]
    assert {qa.question for s in demo for qa in s.questions}.isdisjoint(qa.question for s in scenes for qa in s.questions)


# --- layout and images ---------------------------------------------------------------------------------

def test_shifted_sizes_shapes_and_background(scenes):
    ratios, areas = [], {}
    for scene in scenes[:150]:
        img = render(scene, 21).astype(int)
        empty = render(replace(scene, objects=()), 21).astype(int)
        assert 140 <= empty.min() and empty.max() <= 225 and (empty[..., 2] > empty[..., 0]).all()  # cool grey
        rows, cols = np.mgrid[: scene.size, : scene.size]
        for o in scene.objects:
            assert o.shape in SHIFTED_SHAPES and o.color in SHIFTED_COLOURS
            assert o.r == pytest.approx({"small": 0.08, "large": 0.12}[o.size] * scene.size, abs=1 / 16)
            mask = np.abs(render(replace(scene, objects=(o,)), 21).astype(int) - empty).max(axis=2) > 0
            assert np.hypot(cols[mask] - o.x, rows[mask] - o.y).max() <= o.extent + 1.0
            assert not (mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any())
            areas.setdefault((o.shape, o.size), []).append(mask.sum() / scene.size ** 2)
            centre = img[round(o.y), round(o.x)]
            if o.shape == "ring":  # a hole in the middle, the colour on the band
                assert np.array_equal(centre, empty[round(o.y), round(o.x)])
                band = img[round(o.y), round(o.x + 0.78 * o.r)]
                assert np.abs(band - SHIFTED.rgb[o.color]).max() <= 2, (o, band)
            else:
                assert np.abs(centre - SHIFTED.rgb[o.color]).max() <= 2, (o, centre)
        large = [o.r for o in scene.objects if o.size == "large"]
        small = [o.r for o in scene.objects if o.size == "small"]
        if large and small:
            ratios.append(min(large) / max(small))
    assert 1.4 <= min(ratios) and max(ratios) <= 1.6  # the demo's is 5/3
    for shape in SHIFTED_SHAPES:
        assert 1.9 <= np.mean(areas[shape, "large"]) / np.mean(areas[shape, "small"]) <= 2.6, shape


def test_shifted_colours_are_distinct_and_stand_out_from_the_background():
    rgb = np.array(list(SHIFTED.rgb.values()), float)
    d = np.linalg.norm(rgb[:, None] - rgb[None], axis=2)
    assert d[~np.eye(len(rgb), dtype=bool)].min() >= 80
    grey = np.array([185.0, 193.0, 203.0])  # the middle of the background
    assert np.linalg.norm(rgb - grey, axis=1).min() >= 80


# --- determinism and the default --------------------------------------------------------------------------

def test_shifted_is_deterministic_and_not_the_demo_layout():
    a, b = generate_scenes(50, seed=3, style=SHIFTED), generate_scenes(50, seed=3, style="shifted")
    assert a == b and all(render(x, 3).tobytes() == render(y, 3).tobytes() for x, y in zip(a, b))
    assert [s.objects for s in a] != [s.objects for s in generate_scenes(50, seed=4, style=SHIFTED)]
    demo = generate_scenes(50, seed=3)
    assert [s.size for s in a] != [s.size for s in demo]  # the style's salt: its own random stream
    assert [s.split for s in a] == [s.split for s in demo]  # splits depend on (seed, n) only
    h = hashlib.sha256()
    for s in generate_scenes(30, seed=7, style=SHIFTED, questions_per_scene=3):
        h.update(repr(s).encode())
        h.update(render(s, 7).tobytes())
    # recorded when the style was made: the benchmark's data must not drift silently
    assert h.hexdigest() == "4017df99801c234d5f144d98c76dcf53b681378dc3487d8d17190ec66fe99407"


def test_the_default_style_is_the_demo():
    plain = generate_scenes(40, seed=4)
    assert plain == generate_scenes(40, seed=4, style=DEMO) == generate_scenes(40, seed=4, style="demo")
    assert all(s.style is DEMO for s in plain) and "style" not in repr(plain[0])
    legacy = replace(plain[0], style=None)  # a scene made without a style renders as the demo's
    assert render(legacy, 4).tobytes() == render(plain[0], 4).tobytes()
    assert DEMO.shapes == shapes2d.SHAPES and DEMO.rgb == shapes2d.COLORS
    assert DEMO.radius_of == shapes2d.RADIUS


def test_write_dataset_in_the_shifted_style(tmp_path):
    written = write_dataset(tmp_path, 12, seed=2, questions_per_scene=4, style=SHIFTED)
    assert [s for _, s in written] == generate_scenes(12, seed=2, questions_per_scene=4, style=SHIFTED)
    for path, scene in written:
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        assert np.array_equal(bgr[:, :, ::-1], render(scene, 2))


def test_styles_are_checked_and_named():
    assert style_named("shifted") is SHIFTED and style_named(DEMO) is DEMO
    with pytest.raises(ValueError):
        style_named("nope")
    with pytest.raises(ValueError):
        generate_scenes(3, style="nope")
    good = dict(name="x", shapes=("circle", "star"), colors=(("red", (1, 2, 3)), ("a", (0, 0, 0)), ("b", (9, 9, 9))),
                radius=(0.05, 0.1))
    assert Style(**good).plural("cross") == "crosses"
    for bad in ({"shapes": ("circle", "blob")}, {"shapes": ("circle",)}, {"shapes": ("star", "star")},
                {"colors": (("red", (1, 2, 3)), ("small", (0, 0, 0)), ("b", (9, 9, 9)))},
                {"colors": (("red", (1, 2, 3)),)}, {"radius": (0.1, 0.05)}, {"radius": (0.1, 0.3)}):
        with pytest.raises(ValueError):
            Style(**{**good, **bad})
    custom = Style(**good, background=Background(level=60.0, span=10.0), salt=5)
    scene = generate_scenes(5, seed=1, style=custom)[0]
    assert {o.shape for o in scene.objects} <= {"circle", "star"} and render(scene, 1).max() >= 60
    assert math.isclose(custom.radius_of["large"], 0.1)
