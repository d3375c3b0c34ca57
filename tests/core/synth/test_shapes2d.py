"""The built-in 2D shapes demo data: layouts, images, questions, answers, splits, determinism.

Every answer is recomputed here from the scene's objects by a checker written independently of the
generator: it parses the question text and evaluates it against the objects.
"""
from __future__ import annotations

import hashlib
import math
import os
import re
import subprocess
import sys
import threading
from collections import Counter
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from vqa_studio.core.data.vocab import answer_type
from vqa_studio.core.synth import shapes2d
from vqa_studio.core.synth.shapes2d import (
    COLORS, QA, SHAPES, SIZES, Scene2D, Shape2D, generate_scenes, render, write_dataset,
)

N_SCENES = 2000


@pytest.fixture(scope="module")
def scenes() -> list[Scene2D]:
    return generate_scenes(N_SCENES, seed=11)


# --- an independent checker -----------------------------------------------------------------------------

def _plural(word: str) -> str:
    return word + ("es" if word.endswith(("s", "x", "sh", "ch")) else "s")


_SINGULAR = {**{s: s for s in SHAPES}, **{_plural(s): s for s in SHAPES}}
_ATTRS = ("size", "color", "shape")


def parse_phrase(phrase: str) -> tuple:
    """'small red circles' -> ('small', 'red', 'circle'); 'things' -> (None, None, None)."""
    *mods, head = phrase.split()
    if head in ("thing", "things", "objects"):
        shape = None
    else:
        shape = _SINGULAR[head]
    size = color = None
    for word in mods:
        if word in SIZES and size is None and color is None:
            size = word
        elif word in COLORS and color is None:
            color = word
        else:
            raise AssertionError(f"unexpected word {word!r} in {phrase!r}")
    return size, color, shape


def select(scene: Scene2D, desc: tuple) -> list[int]:
    return [i for i, o in enumerate(scene.objects)
            if all(v is None or getattr(o, a) == v for a, v in zip(_ATTRS, desc))]


def the(scene: Scene2D, phrase: str, never: str | None = None) -> int:
    """The one object ``phrase`` names; the phrase must not mention attribute ``never``."""
    desc = parse_phrase(phrase)
    assert any(desc), f"a referent needs at least one attribute: {phrase!r}"
    if never is not None:
        assert desc[_ATTRS.index(never)] is None, f"{phrase!r} gives away the {never}"
    hits = select(scene, desc)
    assert len(hits) == 1, f"{phrase!r} names {len(hits)} objects"
    return hits[0]


def neighbour(scene: Scene2D, i: int, side: str) -> Shape2D:
    """The documented relation: nearest centre among the centres on that side, unambiguously so."""
    ref = scene.objects[i]
    others = [o for j, o in enumerate(scene.objects) if j != i]
    assert min(abs(o.x - ref.x) for o in others) >= shapes2d.RELATE_MIN_DX * scene.size
    there = [o for o in others if (o.x < ref.x if side == "left" else o.x > ref.x)]
    assert there, "nothing on that side"
    dist = sorted((math.dist((o.x, o.y), (ref.x, ref.y)), k) for k, o in enumerate(there))
    if len(dist) > 1:
        assert dist[1][0] >= shapes2d.RELATE_MIN_RATIO * dist[0][0], "no clear nearest object"
    return there[dist[0][1]]


def yes(flag: bool) -> str:
    return "yes" if flag else "no"


def expected(scene: Scene2D, question: str) -> tuple[str, str]:
    """(family, answer) of ``question`` about ``scene``, worked out from the objects."""
    count = lambda phrase: len(select(scene, parse_phrase(phrase)))  # noqa: E731
    size_of = lambda phrase: scene.objects[the(scene, phrase, never="size")].size  # noqa: E731
    rules = [
        (r"Is there an? (.+)", lambda m: ("exist", yes(count(m[1]) > 0))),
        (r"Are there any (.+)", lambda m: ("exist", yes(count(m[1]) > 0))),
        (r"Are there more (.+) than (.+)", lambda m: ("compare_count", yes(count(m[1]) > count(m[2])))),
        (r"Are there fewer (.+) than (.+)", lambda m: ("compare_count", yes(count(m[1]) < count(m[2])))),
        (r"Are there the same number of (.+) and (.+)",
         lambda m: ("compare_count", yes(count(m[1]) == count(m[2])))),
        (r"Is the (.+) bigger than the (.+)",
         lambda m: ("compare_size", yes((size_of(m[1]), size_of(m[2])) == ("large", "small")))),
        (r"Is the (.+) smaller than the (.+)",
         lambda m: ("compare_size", yes((size_of(m[1]), size_of(m[2])) == ("small", "large")))),
        (r"Is the (.+) the same size as the (.+)",
         lambda m: ("compare_size", yes(size_of(m[1]) == size_of(m[2])))),
        (r"How many (.+) are there", lambda m: ("count", str(count(m[1])))),
        (r"What (shape|color) is the thing to the (left|right) of the (.+)",
         lambda m: ("relate", getattr(neighbour(scene, the(scene, m[3]), m[2]), m[1]))),
        (r"What (shape|color|size) is the (.+)",
         lambda m: (m[1], getattr(scene.objects[the(scene, m[2], never=m[1])], m[1]))),
    ]
    assert question.endswith("?") and question[0].isupper(), question
    for pattern, rule in rules:
        m = re.fullmatch(pattern, question[:-1])
        if m:
            if pattern.startswith("Is the ("):
                assert m[1] != m[2] and the(scene, m[1]) != the(scene, m[2]), "compares an object with itself"
            return rule(m)
    raise AssertionError(f"no template matches {question!r}")


# --- questions and answers --------------------------------------------------------------------------------

def test_every_answer_is_the_one_right_answer(scenes):
    for scene in scenes:
        for qa in scene.questions:
            family, answer = expected(scene, qa.question)
            assert (qa.family, qa.answer) == (family, answer), (scene, qa)


def test_answer_types_are_consistent_and_answers_are_plain_words(scenes):
    for qa in (qa for scene in scenes for qa in scene.questions):
        assert qa.answer_type == answer_type(qa.answer), qa
        assert qa.answer_type in shapes2d.FAMILIES and qa.family in shapes2d.FAMILIES[qa.answer_type]
        assert re.fullmatch(r"[a-z]+|[0-9]", qa.answer), qa


def test_fixed_number_of_distinct_questions_per_scene(scenes):
    for scene in scenes:
        texts = [qa.question for qa in scene.questions]
        assert len(texts) == 5 and len(set(texts)) == 5, scene


def test_answer_type_and_answer_balance(scenes):
    qas = [qa for scene in scenes for qa in scene.questions]
    n = len(qas)
    types = Counter(qa.answer_type for qa in qas)
    assert 0.34 <= types["yes/no"] / n <= 0.41, types
    assert 0.24 <= types["number"] / n <= 0.31, types
    assert 0.31 <= types["other"] / n <= 0.39, types

    families = Counter(qa.family for qa in qas)
    assert set(families) == {f for fams in shapes2d.FAMILIES.values() for f in fams}
    assert min(families.values()) / n >= 0.04, families

    yes_no = [qa for qa in qas if qa.answer_type == "yes/no"]
    assert 0.46 <= sum(qa.answer == "yes" for qa in yes_no) / len(yes_no) <= 0.54
    for family in shapes2d.FAMILIES["yes/no"]:
        answers = [qa.answer for qa in yes_no if qa.family == family]
        assert 0.4 <= answers.count("yes") / len(answers) <= 0.6, family

    counts = Counter(int(qa.answer) for qa in qas if qa.answer_type == "number")
    total = sum(counts.values())
    assert max(counts.values()) / total <= 0.4, counts
    assert all(counts[c] / total >= 0.02 for c in range(7)), counts  # 0..6 all common

    other = Counter(qa.answer for qa in qas if qa.answer_type == "other")
    assert set(other) == set(SHAPES) | set(COLORS) | set(SIZES)


def test_questions_per_scene_is_configurable():
    assert all(s.questions == () for s in generate_scenes(20, questions_per_scene=0))
    many = generate_scenes(30, seed=3, questions_per_scene=12, min_objects=1, max_objects=1)
    for scene in many:
        assert len({qa.question for qa in scene.questions}) == 12
        for qa in scene.questions:
            assert expected(scene, qa.question) == (qa.family, qa.answer)


# --- layout ------------------------------------------------------------------------------------------------

def test_layout_sizes_and_object_counts(scenes):
    n_objects = Counter(len(s.objects) for s in scenes)
    assert set(n_objects) == set(range(1, 7))
    for scene in scenes:
        assert 64 <= scene.size <= 128
        for o in scene.objects:
            assert o.shape in SHAPES and o.color in COLORS and o.size in SIZES
            assert o.r >= 0.07 * scene.size
        for a, o in enumerate(scene.objects):  # bounding circles >= 3 px apart: clear background between
            for p in scene.objects[a + 1:]:
                assert math.dist((o.x, o.y), (p.x, p.y)) >= o.extent + p.extent + 3, (scene, o, p)
        small = [o.r for o in scene.objects if o.size == "small"]
        large = [o.r for o in scene.objects if o.size == "large"]
        if small and large:
            assert min(large) >= 1.6 * max(small)
    for lo, hi in ((3, 3), (7, 8)):
        assert {len(s.objects) for s in generate_scenes(40, min_objects=lo, max_objects=hi)} <= set(range(lo, hi + 1))


def _masks(scene: Scene2D) -> list[np.ndarray]:
    """Each object's pixels: where its image alone differs from the empty background."""
    empty = render(replace(scene, objects=())).astype(int)
    return [np.abs(render(replace(scene, objects=(o,))).astype(int) - empty).max(axis=2) > 0
            for o in scene.objects]


def test_objects_are_inside_apart_visible_and_drawn_where_they_say(scenes):
    areas: dict[tuple[str, str], list[float]] = {}
    for scene in scenes[:250]:
        masks = _masks(scene)
        rows, cols = np.mgrid[: scene.size, : scene.size]
        for o, mask in zip(scene.objects, masks):
            assert mask.sum() >= 0.01 * scene.size ** 2, "too small to see"
            # inside the frame, not touching its edge
            assert not (mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any())
            # every inked pixel is within the documented reach (what the layout keeps apart)
            assert np.hypot(cols[mask] - o.x, rows[mask] - o.y).max() <= o.extent + 1.0
            areas.setdefault((o.shape, o.size), []).append(mask.sum() / scene.size ** 2)
        # no overlaps, not even touching: dilated masks stay disjoint
        kernel = np.ones((3, 3), np.uint8)
        grown = [cv2.dilate(m.astype(np.uint8), kernel) for m in masks]
        for a in range(len(masks)):
            for b in range(a + 1, len(masks)):
                assert not (grown[a] & masks[b]).any(), (scene, a, b)
    for shape in SHAPES:  # large ones are clearly larger, for every shape
        assert np.mean(areas[shape, "large"]) >= 2.3 * np.mean(areas[shape, "small"]), shape


def test_centre_pixels_have_the_object_colour_and_the_rest_is_background(scenes):
    for scene in scenes[:300]:
        img = render(scene).astype(int)
        for o in scene.objects:
            pixel = img[round(o.y), round(o.x)]
            assert np.abs(pixel - COLORS[o.color]).max() <= 2, (o, pixel)
        rows, cols = np.mgrid[: scene.size, : scene.size]
        far = np.ones((scene.size, scene.size), bool)
        for o in scene.objects:
            far &= np.hypot(cols - o.x, rows - o.y) > o.extent + 2
        bg = img[far]
        assert bg.min() >= 205 and (bg.max(axis=1) - bg.min(axis=1)).max() <= 20


def test_colours_are_distinct():
    rgb = np.array(list(COLORS.values()), float)
    d = np.linalg.norm(rgb[:, None] - rgb[None], axis=2)
    assert len(COLORS) == 8 and d[~np.eye(len(rgb), dtype=bool)].min() >= 80


# --- splits --------------------------------------------------------------------------------------------

def test_splits_have_the_asked_fractions(scenes):
    got = Counter(s.split for s in scenes)
    assert got == {"train": 1400, "val": 200, "test": 400}
    custom = generate_scenes(90, seed=2, splits=(("a", 0.5), ("b", 0.5)), questions_per_scene=1)
    assert Counter(s.split for s in custom) == {"a": 45, "b": 45}
    small = Counter(s.split for s in generate_scenes(10, questions_per_scene=1))
    assert small == {"train": 7, "val": 1, "test": 2}
    # interleaved, not in blocks
    assert {s.split for s in scenes[:50]} == {"train", "val", "test"}


@pytest.mark.parametrize("kw", [
    {"n": -1}, {"n": 3, "seed": -1}, {"n": 3, "min_objects": 0}, {"n": 3, "min_objects": 4, "max_objects": 3},
    {"n": 3, "max_objects": 9}, {"n": 3, "questions_per_scene": -1}, {"n": 3, "splits": ()},
    {"n": 3, "splits": (("a", 0.5), ("a", 0.5))}, {"n": 3, "splits": (("a", -1.0), ("b", 2.0))},
])
def test_bad_arguments_are_refused(kw):
    with pytest.raises(ValueError):
        generate_scenes(**kw)


# --- determinism ---------------------------------------------------------------------------------------

def test_same_seed_same_scenes_and_bytes_other_seed_differs():
    a, b = generate_scenes(60, seed=5), generate_scenes(60, seed=5)
    assert a == b
    assert all(render(x, 5).tobytes() == render(y, 5).tobytes() for x, y in zip(a, b))
    c = generate_scenes(60, seed=6)
    assert [s.objects for s in a] != [s.objects for s in c]
    assert [s.questions for s in a] != [s.questions for s in c]
    assert render(a[0], 5).tobytes() != render(a[0], 6).tobytes()  # the seed also varies the background


def test_scene_i_does_not_depend_on_n():
    short, long = generate_scenes(15, seed=9), generate_scenes(40, seed=9)
    assert [(s.size, s.objects, s.questions) for s in short] == [(s.size, s.objects, s.questions) for s in long[:15]]


_DIGEST = """
import hashlib
from vqa_studio.core.synth.shapes2d import generate_scenes, render
h = hashlib.sha256()
for s in generate_scenes(150, seed=4):
    h.update(repr(s).encode())
    h.update(render(s, 4).tobytes())
print(h.hexdigest())
"""


def test_independent_of_hash_randomisation():
    local = {}
    exec(compile(_DIGEST.replace("print(h.hexdigest())", "digest = h.hexdigest()"), "<digest>", "exec"), local)
    for hash_seed in ("1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run([sys.executable, "-c", _DIGEST], env=env, capture_output=True, text=True,
                             check=True, cwd=Path(__file__).resolve().parents[3])
        assert out.stdout.strip() == local["digest"]


def test_seeded_generation_is_byte_identical_to_the_recorded_digest():
    """Scenes and images of a fixed seed hash to what the generator produced before its modules were
    split (vocabulary / question templates / layout and drawing): a refactoring must not change them."""
    def digest(n: int, seed: int, **kw) -> str:
        h = hashlib.sha256()
        for s in generate_scenes(n, seed=seed, **kw):
            h.update(repr(s).encode())
            h.update(render(s, seed).tobytes())
        return h.hexdigest()

    assert digest(40, 4) == "26765dcc7758b0ec24970bfe148004e67beb3bca00f1e47588e07891a224422b"
    assert digest(30, 7, questions_per_scene=3, min_objects=2) == (
        "d4fb472598c4fe5db26729c494fa40e4e1af92d2e906ce5580867f55ca783535")


# --- files ---------------------------------------------------------------------------------------------

def test_write_dataset_writes_readable_pngs(tmp_path):
    before = set(threading.enumerate())
    written = write_dataset(tmp_path / "imgs", 24, seed=3, questions_per_scene=2, min_objects=2)
    assert set(threading.enumerate()) <= before, "write_dataset left a thread running"
    assert [s.index for _, s in written] == list(range(24))
    assert written[0][1] == generate_scenes(24, seed=3, questions_per_scene=2, min_objects=2)[0]
    for path, scene in written:
        assert path.name == f"shapes_{scene.index:06d}.png" and path.parent == tmp_path / "imgs"
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        assert bgr.shape == (scene.size, scene.size, 3) and bgr.dtype == np.uint8
        assert np.array_equal(bgr[:, :, ::-1], render(scene, 3))  # lossless, RGB -> BGR on disk
        assert len(scene.questions) == 2 and len(scene.objects) >= 2
    # one thread or many: the same files
    again = write_dataset(tmp_path / "serial", 24, seed=3, questions_per_scene=2, min_objects=2, workers=1)
    for (p, _), (q, _) in zip(written, again):
        assert hashlib.sha256(p.read_bytes()).digest() == hashlib.sha256(q.read_bytes()).digest()


def test_records_are_frozen():
    scene = generate_scenes(1)[0]
    with pytest.raises(Exception):
        scene.objects[0].x = 0.0  # type: ignore[misc]
    assert isinstance(scene.questions[0], QA)
