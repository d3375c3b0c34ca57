"""The built-in demo data: seeded 2D scenes of coloured shapes, with VQA questions about them.

Each scene is a square image (64..128 px) with 1..6 objects on a light, gently shaded background.
An object has a shape (:data:`SHAPES`), a colour (:data:`COLORS`, 8 saturated, well separated
hues plus gray) and a size (:data:`SIZES`: small or large, the large radius 5/3 of the small one).
Objects never overlap (their bounding circles keep a gap), stay inside the frame with a margin, and
are still 8..10 px across when the image is shrunk to 64x64.

Every scene carries a fixed number of questions, each with exactly one correct answer, drawn from
templates grouped in families (``QA.family``):

=============  ==========  ==========================================================================
family         answer      templates
=============  ==========  ==========================================================================
exist          yes/no      Is there a {thing}? / Are there any {things}?
compare_count  yes/no      Are there more|fewer {things A} than {things B}? /
                           Are there the same number of {things A} and {things B}?
compare_size   yes/no      Is the {A} bigger|smaller than the {B}? / Is the {A} the same size as the {B}?
count          number      How many objects are there? / How many {things} are there?
color          other       What color is the {ref}?
shape          other       What shape is the {ref}?
size           other       What size is the {ref}?
relate         other       What shape|color is the thing to the left|right of the {ref}?
=============  ==========  ==========================================================================

A ``{thing}`` is ``[size] [color] shape|thing`` ("large red circle", "small thing", "blue thing").
A ``{ref}`` (and A, B of compare_size) names exactly one object of the scene, and never with the
attribute the question asks about ("What color is the red circle?" is never asked). "Bigger" and
"smaller" compare the size categories (a large object is bigger than a small one; two objects of
the same category are the same size). "Is there a ..." means "at least one".

Relations. "The thing to the left of R" is, among the objects whose centre lies left of R's centre
(smaller x), the one whose centre is nearest to R's centre (Euclidean distance); "right" likewise
with larger x. A relation question about R is only asked when it is unambiguous to the eye: no
other object's centre is within :data:`RELATE_MIN_DX` x image size of R's centre horizontally, and
the nearest object on that side is the only one there or the runner-up is at least
:data:`RELATE_MIN_RATIO` times as far away.

Answers are lower-case words or digits ("yes", "3", "red", "circle", "small"). The mix of answer
types is about 38% yes/no (half "yes"), 27% number, 35% other; the count targets are spread over
0..6 rather than piling up on 1.

Determinism: the scenes are drawn in order from one ``numpy.random.Generator(PCG64)`` seeded from
``seed``, so scene ``i`` is the same for every ``n > i`` (other arguments equal), on any machine. Positions and radii are quantised to 1/16 px (OpenCV's sub-pixel drawing
grid), so rendering is integer arithmetic; a background is drawn from its own generator seeded with
``(seed, index)``. Nothing depends on the global RNGs, hash randomisation or set order. The split
of a scene (exact train/val/test counts, see :func:`generate_scenes`) depends on ``seed`` and ``n``.
"""
from __future__ import annotations

import bisect
import functools
import itertools
import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

__all__ = [
    "SHAPES", "COLORS", "SIZES", "RADIUS", "EXTENT", "RELATE_MIN_DX", "RELATE_MIN_RATIO",
    "MAX_OBJECTS", "FAMILIES", "Shape2D", "QA", "Scene2D",
    "generate_scenes", "render", "write_dataset", "image_name",
]

# --- vocabulary ---------------------------------------------------------------------------------------

#: shape names, in a fixed order (each has a distinct silhouette at 10 px)
SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "diamond", "cross")
#: colour name -> RGB; saturated hues far apart, plus a mid gray (the background is light)
COLORS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "green": (30, 160, 50),
    "blue": (35, 75, 225),
    "yellow": (235, 205, 0),
    "purple": (140, 45, 190),
    "cyan": (0, 200, 215),
    "orange": (245, 120, 0),
    "gray": (115, 115, 115),
}
SIZES: tuple[str, ...] = ("small", "large")
#: nominal radius of each size, as a fraction of the image side
RADIUS: dict[str, float] = {"small": 0.075, "large": 0.125}


def _unit_polygons() -> dict[str, np.ndarray]:
    """Outlines for ``r = 1``, centred on (0, 0), y down; sized so all shapes look about as big."""
    h = math.sqrt(3) / 2
    sq, tri, dia, w = 0.85, 1.25, 1.1, 0.36
    return {
        "square": np.array([(-sq, -sq), (sq, -sq), (sq, sq), (-sq, sq)]),
        # equilateral, centred on its centroid, apex up; circumradius 1.25
        "triangle": np.array([(0.0, -tri), (tri * h, tri / 2), (-tri * h, tri / 2)]),
        "diamond": np.array([(0.0, -dia), (dia, 0.0), (0.0, dia), (-dia, 0.0)]),
        "cross": np.array([(-w, -1), (w, -1), (w, -w), (1, -w), (1, w), (w, w), (w, 1), (-w, 1),
                           (-w, w), (-1, w), (-1, -w), (-w, -w)], dtype=float),
    }


_POLYGONS = _unit_polygons()
#: bounding radius of each shape / its nominal radius ``r`` (the whole shape lies within r * EXTENT)
EXTENT: dict[str, float] = {
    "circle": 1.0, **{name: float(np.hypot(*poly.T).max()) for name, poly in _POLYGONS.items()},
}
#: relation questions: least horizontal distance (fraction of the image side) between the referent's
#: centre and any other object's centre
RELATE_MIN_DX = 0.06
#: relation questions: least ratio runner-up distance / nearest distance on the asked side
RELATE_MIN_RATIO = 1.3
MAX_OBJECTS = 8
#: question families, by answer type
FAMILIES: dict[str, tuple[str, ...]] = {
    "yes/no": ("exist", "compare_count", "compare_size"),
    "number": ("count",),
    "other": ("color", "shape", "size", "relate"),
}

_COLOR_NAMES: tuple[str, ...] = tuple(COLORS)
_PLURAL = {"circle": "circles", "square": "squares", "triangle": "triangles", "diamond": "diamonds",
           "cross": "crosses"}
_VALUES: tuple[tuple[str, ...], ...] = (SIZES, _COLOR_NAMES, SHAPES)  # attribute index -> values
_SIZE, _COLOR, _SHAPE = 0, 1, 2
_ATTR_NAME = ("size", "color", "shape")
#: (attribute, value) -> the attribute's other values
_OTHER_VALUES = {(a, v): tuple(w for w in _VALUES[a] if w != v) for a in range(3) for v in _VALUES[a]}


class _Weights:
    """A weighted choice table: items and their cumulative weights."""

    __slots__ = ("items", "cum")

    def __init__(self, *pairs: tuple) -> None:
        self.items = tuple(item for item, _ in pairs)
        self.cum = tuple(itertools.accumulate(w for _, w in pairs))


# answer-type and family weights (within a type); tuned so the final mix lands near 38/27/35
_TYPE_WEIGHTS = _Weights(("yes/no", 0.38), ("number", 0.27), ("other", 0.35))
_FAMILY_WEIGHTS = {
    "yes/no": _Weights(("exist", 0.45), ("compare_count", 0.33), ("compare_size", 0.22)),
    "number": _Weights(("count", 1.0)),
    "other": _Weights(("color", 0.26), ("shape", 0.26), ("size", 0.2), ("relate", 0.28)),
}
#: count questions pick the answer first: 0 and 1 (on offer in every scene) get these weights, every
#: other count the scene offers 1, which spreads the answers over 0..6
_COUNT_WEIGHTS = {0: 0.35, 1: 0.6}
_COMPARE_ATTR = _Weights((_SHAPE, 0.45), (_COLOR, 0.35), (_SIZE, 0.2))

# layout: anti-aliasing inks pixels whose centre is up to ~0.6 px outside a shape's outline, so objects
# are spaced by their "ink circle" (bounding circle + _BLEED_PX); margins are fractions of the side
_BLEED_PX = 1.0
_MARGIN = 0.02  # ink circle <-> frame
_GAP = 0.03  # ink circle <-> ink circle
_SS = 4  # supersampling per axis when drawing (exact-coverage anti-aliasing, 16 samples a pixel)
_SUB = 16  # OpenCV sub-pixel grid (shift=4)

# seed-sequence tags: separate streams for scenes, splits and backgrounds
_TAG_SCENE, _TAG_SPLIT, _TAG_RENDER = 0x5CE7E, 0x5B117, 0x8E7DE8


# --- records ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Shape2D:
    """One object: attributes, centre ``(x, y)`` and nominal radius ``r``, in pixels.

    ``x`` grows to the right, ``y`` downwards; pixel ``(row, col)`` has its centre at ``(col, row)``.
    The whole shape lies within ``r * EXTENT[shape]`` of the centre (:attr:`extent`); every pixel the
    drawing touches has its centre within ``extent + 1`` px of it.
    """

    shape: str
    color: str
    size: str
    x: float
    y: float
    r: float

    @property
    def extent(self) -> float:
        """Radius of the shape's bounding circle, in pixels."""
        return self.r * EXTENT[self.shape]


@dataclass(frozen=True)
class QA:
    """A question, its one correct answer, the VQA answer type and the template family."""

    question: str
    answer: str
    answer_type: str  # "yes/no" | "number" | "other"
    family: str


@dataclass(frozen=True)
class Scene2D:
    """A scene: its index in the generated set, split, image side in pixels, objects and questions."""

    index: int
    split: str
    size: int
    objects: tuple[Shape2D, ...]
    questions: tuple[QA, ...]


# --- random stream ------------------------------------------------------------------------------------

class _Stream:
    """Uniform floats in [0, 1) from a PCG64 generator, served from blocks (numpy calls are slow one
    by one), and the few ways the generator uses them."""

    __slots__ = ("u",)

    def __init__(self, *entropy: int) -> None:
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(list(entropy))))
        blocks = iter(lambda: rng.random(4096).tolist(), None)  # never ends
        #: the next uniform float
        self.u: Callable[[], float] = itertools.chain.from_iterable(blocks).__next__

    def below(self, n: int) -> int:
        # u <= 1 - 2**-53, so u * n rounds to at most n - 1 for any n < 2**52: no clamp needed
        return int(self.u() * n)

    def pick(self, seq: Sequence):
        return seq[int(self.u() * len(seq))]

    def weighted(self, table: "_Weights"):
        return table.items[bisect.bisect_right(table.cum, self.u() * table.cum[-1])]

    def sample(self, seq: Sequence, k: int) -> list:
        pool = list(seq)
        out = []
        for _ in range(k):
            out.append(pool.pop(self.below(len(pool))))
        return out


# --- layout -------------------------------------------------------------------------------------------

def _q(v: float) -> float:
    """Quantise to the 1/16 px drawing grid."""
    return round(v * _SUB) / _SUB


def _place(stream: _Stream, side: int, specs: list[tuple[str, str, str]]) -> Optional[list[Shape2D]]:
    """Rejection-sample non-overlapping positions; None when an object finds no room.

    Works in integer 1/16 px units, the drawing grid, so that checks and drawing see the same numbers.
    """
    margin, gap = _MARGIN * side * _SUB, _GAP * side * _SUB
    u = stream.u
    items = []
    for shape, color, size in specs:
        r = _q(RADIUS[size] * side)
        items.append(((r * EXTENT[shape] + _BLEED_PX) * _SUB, shape, color, size, r))
    items.sort(key=lambda t: -t[0])  # biggest first packs best; sort is stable
    placed: list[tuple[int, int, float]] = []  # x16, y16, ink radius16
    out = []
    for ext, shape, color, size, r in items:
        # pixel centres are at integers, so the frame spans [-0.5, side - 0.5]
        lo, hi = math.ceil(ext + margin - _SUB / 2), math.floor((side - 0.5) * _SUB - ext - margin)
        span = hi - lo + 1
        near = [(px, py, (pe + ext + gap) ** 2) for px, py, pe in placed]
        for _ in range(200):
            x = lo + int(u() * span)
            y = lo + int(u() * span)
            for px, py, d2 in near:
                if (x - px) ** 2 + (y - py) ** 2 < d2:
                    break
            else:
                placed.append((x, y, ext))
                out.append(Shape2D(shape, color, size, x / _SUB, y / _SUB, r))
                break
        else:
            return None
    out.sort(key=lambda o: (o.x, o.y))
    return out


def _layout(stream: _Stream, side: int, n: int) -> list[Shape2D]:
    # a per-scene palette makes repeated shapes / colours common, so counts spread beyond 0 and 1
    shapes = stream.sample(SHAPES, 2 + stream.below(len(SHAPES) - 1))
    colors = stream.sample(_COLOR_NAMES, 3 + stream.below(len(_COLOR_NAMES) - 2))
    specs = [(stream.pick(shapes), stream.pick(colors), SIZES[stream.below(2)]) for _ in range(n)]
    for attempt in range(60):
        objs = _place(stream, side, specs)
        if objs is not None:
            return objs
        if attempt % 4 == 3:  # crowded: shrink one large object
            for i, (shape, color, size) in enumerate(specs):
                if size == "large":
                    specs[i] = (shape, color, "small")
                    break
    raise RuntimeError(f"cannot place {n} objects in {side} px")  # pragma: no cover


# --- questions ----------------------------------------------------------------------------------------

_Key = tuple  # (size | None, color | None, shape | None)
_EMPTY: _Key = (None, None, None)


def _noun(key: _Key, plural: bool = False) -> str:
    size, color, shape = key
    words = [w for w in (size, color) if w]
    if shape:
        words.append(_PLURAL[shape] if plural else shape)
    else:
        words.append("things" if plural else "thing")
    return " ".join(words)


def _a(phrase: str) -> str:
    return ("an " if phrase[0] in "aeiou" else "a ") + phrase


class _Facts:
    """What the question templates need to know about a scene, computed once."""

    def __init__(self, objects: Sequence[Shape2D], side: int) -> None:
        self.objects = objects
        self.side = side
        counts: dict[_Key, int] = {}
        keys = []
        for o in objects:
            z, c, h = o.size, o.color, o.shape
            ks = ((None, None, None), (z, None, None), (None, c, None), (z, c, None),
                  (None, None, h), (z, None, h), (None, c, h), (z, c, h))
            keys.append(ks)
            for k in ks:
                counts[k] = counts.get(k, 0) + 1
        self.counts = counts
        self.present = [k for k in counts if k != _EMPTY]  # insertion order: deterministic
        #: per object: the non-empty descriptions that match it alone
        self.unique = [[k for k in ks[1:] if counts[k] == 1] for ks in keys]
        self._referable: dict[Optional[int], list[tuple[int, list[_Key]]]] = {}
        self._values: dict[int, list[str]] = {}

    def count(self, key: _Key) -> int:
        return self.counts.get(key, 0)

    def values(self, attr: int) -> list[str]:
        """The values attribute ``attr`` takes in the scene, in order of first appearance."""
        got = self._values.get(attr)
        if got is None:
            got = self._values[attr] = list(dict.fromkeys(getattr(o, _ATTR_NAME[attr]) for o in self.objects))
        return got

    def referable(self, attr: Optional[int] = None) -> list[tuple[int, list[_Key]]]:
        """``(object index, descriptions)`` for every object some description names alone, leaving out
        descriptions that mention attribute ``attr`` (None: keep all)."""
        got = self._referable.get(attr)
        if got is None:
            got = []
            for i, keys in enumerate(self.unique):
                if attr is not None:
                    keys = [k for k in keys if k[attr] is None]
                if keys:
                    got.append((i, keys))
            self._referable[attr] = got
        return got

    @functools.cached_property
    def count_table(self) -> tuple[_Weights, dict[int, list[_Key]]]:
        """Count questions: a choice table over the counts the scene offers (and 0), the keys per count."""
        by_count: dict[int, list[_Key]] = {}
        for k, c in self.counts.items():
            by_count.setdefault(c, []).append(k)
        by_count[0] = []  # stands for "a description nothing matches"
        table = _Weights(*[(c, _COUNT_WEIGHTS.get(c, 1.0)) for c in sorted(by_count)])
        return table, by_count

    def absent_key(self, s: _Stream) -> Optional[_Key]:
        """A description no object matches: mostly near misses (one attribute of a present one changed)."""
        for _ in range(16):
            if self.present and s.u() < 0.6:
                base = list(s.pick(self.present))
                attr = s.pick([a for a in range(3) if base[a] is not None])
                base[attr] = s.pick(_OTHER_VALUES[attr, base[attr]])
                cand = tuple(base)
            else:
                mask = 1 + s.below(7)
                cand = tuple(s.pick(_VALUES[a]) if mask & (1 << a) else None for a in range(3))
            if self.count(cand) == 0:
                return cand
        return None


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _q_exist(f: _Facts, s: _Stream, want: bool) -> Optional[QA]:
    key = s.pick(f.present) if want else f.absent_key(s)
    if key is None:
        return None
    if s.u() < 0.5:
        text = f"Is there {_a(_noun(key))}?"
    else:
        text = f"Are there any {_noun(key, plural=True)}?"
    return QA(text, _yes(f.count(key) > 0), "yes/no", "exist")


def _q_compare_count(f: _Facts, s: _Stream, want: bool) -> Optional[QA]:
    for _ in range(16):
        attr = s.weighted(_COMPARE_ATTR)
        present = f.values(attr)
        a = s.pick(present)
        if len(present) > 1 and s.u() < 0.6:
            b = s.pick([v for v in present if v != a])
        else:
            b = s.pick(_OTHER_VALUES[attr, a])
        if s.u() < 0.5:
            a, b = b, a
        ka = tuple(a if i == attr else None for i in range(3))
        kb = tuple(b if i == attr else None for i in range(3))
        ca, cb = f.count(ka), f.count(kb)
        tmpl = s.below(3)
        answer = (ca > cb, ca < cb, ca == cb)[tmpl]
        if answer != want:
            continue
        pa, pb = _noun(ka, plural=True), _noun(kb, plural=True)
        text = (f"Are there more {pa} than {pb}?", f"Are there fewer {pa} than {pb}?",
                f"Are there the same number of {pa} and {pb}?")[tmpl]
        return QA(text, _yes(answer), "yes/no", "compare_count")
    return None


def _q_compare_size(f: _Facts, s: _Stream, want: bool) -> Optional[QA]:
    cands = f.referable(_SIZE)
    if len(cands) < 2:
        return None
    for _ in range(12):
        (i, keys_i), (j, keys_j) = s.sample(cands, 2)
        si, sj = f.objects[i].size, f.objects[j].size
        tmpl = s.below(3)
        answer = (si == "large" and sj == "small", si == "small" and sj == "large", si == sj)[tmpl]
        if answer != want:
            continue
        na, nb = _noun(s.pick(keys_i)), _noun(s.pick(keys_j))
        text = (f"Is the {na} bigger than the {nb}?", f"Is the {na} smaller than the {nb}?",
                f"Is the {na} the same size as the {nb}?")[tmpl]
        return QA(text, _yes(answer), "yes/no", "compare_size")
    return None


def _q_count(f: _Facts, s: _Stream, want: bool) -> Optional[QA]:
    table, by_count = f.count_table
    target = s.weighted(table)
    key = s.pick(by_count[target]) if target else f.absent_key(s)
    if key is None:
        return None
    text = "How many objects are there?" if key == _EMPTY else f"How many {_noun(key, plural=True)} are there?"
    return QA(text, str(f.count(key)), "number", "count")


def _q_attribute(attr: int) -> Callable[[_Facts, _Stream, bool], Optional[QA]]:
    word = _ATTR_NAME[attr]

    def make(f: _Facts, s: _Stream, want: bool) -> Optional[QA]:
        cands = f.referable(attr)
        if not cands:
            return None
        i, keys = s.pick(cands)
        o = f.objects[i]
        return QA(f"What {word} is the {_noun(s.pick(keys))}?", (o.size, o.color, o.shape)[attr], "other", word)

    return make


def _neighbour(objects: Sequence[Shape2D], i: int, side: str, min_dx: float) -> Optional[Shape2D]:
    """The unambiguous nearest object on ``side`` of object ``i`` (see the module docstring), or None."""
    ref = objects[i]
    others = [o for j, o in enumerate(objects) if j != i]
    if any(abs(o.x - ref.x) < min_dx for o in others):
        return None
    there = [o for o in others if (o.x < ref.x if side == "left" else o.x > ref.x)]
    if not there:
        return None
    ranked = sorted(there, key=lambda o: (o.x - ref.x) ** 2 + (o.y - ref.y) ** 2)
    if len(ranked) > 1:
        d1 = math.hypot(ranked[0].x - ref.x, ranked[0].y - ref.y)
        d2 = math.hypot(ranked[1].x - ref.x, ranked[1].y - ref.y)
        if d2 < RELATE_MIN_RATIO * d1:
            return None
    return ranked[0]


def _q_relate(f: _Facts, s: _Stream, want: bool) -> Optional[QA]:
    cands = f.referable(None)
    if len(f.objects) < 2 or not cands:
        return None
    min_dx = RELATE_MIN_DX * f.side
    for _ in range(8):
        i, keys = s.pick(cands)
        side = "left" if s.u() < 0.5 else "right"
        other = _neighbour(f.objects, i, side, min_dx)
        if other is None:
            continue
        attr = _SHAPE if s.u() < 0.5 else _COLOR
        text = f"What {_ATTR_NAME[attr]} is the thing to the {side} of the {_noun(s.pick(keys))}?"
        return QA(text, (other.size, other.color, other.shape)[attr], "other", "relate")
    return None


_MAKERS: dict[str, Callable[[_Facts, _Stream, bool], Optional[QA]]] = {
    "exist": _q_exist,
    "compare_count": _q_compare_count,
    "compare_size": _q_compare_size,
    "count": _q_count,
    "color": _q_attribute(_COLOR),
    "shape": _q_attribute(_SHAPE),
    "size": _q_attribute(_SIZE),
    "relate": _q_relate,
}


def _questions(objects: Sequence[Shape2D], side: int, s: _Stream, k: int) -> tuple[QA, ...]:
    facts = _Facts(objects, side)
    out: list[QA] = []
    seen: set[str] = set()  # membership only, never iterated
    attempts = 0
    while len(out) < k:
        attempts += 1
        if attempts > 50 * k + 50:
            raise RuntimeError(f"cannot ask {k} different questions about a scene of {len(objects)} objects")
        atype = s.weighted(_TYPE_WEIGHTS)
        want = s.u() < 0.5
        first = s.weighted(_FAMILY_WEIGHTS[atype])
        qa = _MAKERS[first](facts, s, want)
        if qa is None or qa.question in seen:  # fall back on the type's other families, in random order
            rest = [fam for fam in FAMILIES[atype] if fam != first]
            for fam in s.sample(rest, len(rest)):
                qa = _MAKERS[fam](facts, s, want)
                if qa is not None and qa.question not in seen:
                    break
            else:
                continue
        seen.add(qa.question)
        out.append(qa)
    return tuple(out)


# --- scenes -------------------------------------------------------------------------------------------

def _check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, not {seed!r}")
    return int(seed)


def _assign_splits(n: int, seed: int, splits: Sequence[tuple[str, float]]) -> list[str]:
    """Exact counts (largest remainder) per split, spread over the scenes by a seeded permutation."""
    names = [name for name, _ in splits]
    fracs = [float(f) for _, f in splits]
    if not splits or len(set(names)) != len(names) or any(not math.isfinite(f) or f < 0 for f in fracs) \
            or sum(fracs) <= 0:
        raise ValueError(f"splits must be distinct names with non-negative fractions, not {splits!r}")
    total = sum(fracs)
    exact = [n * f / total for f in fracs]
    counts = [math.floor(e) for e in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in by_remainder[: n - sum(counts)]:
        counts[i] += 1
    labels = [name for name, c in zip(names, counts) for _ in range(c)]
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([_TAG_SPLIT, seed, n])))
    return [labels[i] for i in rng.permutation(n).tolist()]


def _scene(s: _Stream, index: int, split: str, k: int, min_objects: int, max_objects: int) -> Scene2D:
    side = 64 + s.below(65)
    n = min_objects + s.below(max_objects - min_objects + 1)
    objects = _layout(s, side, n)
    return Scene2D(index, split, side, tuple(objects), _questions(objects, side, s, k))


def generate_scenes(
    n: int,
    seed: int = 0,
    questions_per_scene: int = 5,
    splits: Sequence[tuple[str, float]] = (("train", 0.7), ("val", 0.1), ("test", 0.2)),
    min_objects: int = 1,
    max_objects: int = 6,
) -> list[Scene2D]:
    """``n`` scenes with their questions (no images: see :func:`render`).

    Scene ``i`` is the same for every ``n > i``; its split depends on ``(seed, n, splits)``: each split gets
    ``round(n * fraction)`` scenes (largest remainder; fractions are normalised to sum to 1).
    ``questions_per_scene`` distinct questions are asked about every scene.
    """
    seed = _check_seed(seed)
    if n < 0:
        raise ValueError(f"n must be >= 0, not {n}")
    if questions_per_scene < 0:
        raise ValueError(f"questions_per_scene must be >= 0, not {questions_per_scene}")
    if not 1 <= min_objects <= max_objects <= MAX_OBJECTS:
        raise ValueError(f"need 1 <= min_objects <= max_objects <= {MAX_OBJECTS}, "
                         f"not {min_objects}, {max_objects}")
    labels = _assign_splits(n, seed, splits)
    s = _Stream(_TAG_SCENE, seed)
    return [_scene(s, i, labels[i], questions_per_scene, min_objects, max_objects) for i in range(n)]


# --- images -------------------------------------------------------------------------------------------

def _background(side: int, seed: int, index: int) -> np.ndarray:
    """Light, nearly neutral background: a random grey level and tint, and a faint linear shading.

    (No per-pixel grain: it would make the PNGs 6x larger and slower to write for no gain.)
    """
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([_TAG_RENDER, seed, index])))
    base, gx, gy, *tint = rng.random(6).tolist()
    ramp = np.arange(side, dtype=np.float64) / (side - 1) - 0.5
    # grey 228..242, shading +-7 across the image, tint +-4 per channel: 217..253 all told
    plane = np.rint((228.0 + 14.0 * base) + ramp[None, :] * (14.0 * gx - 7.0) + ramp[:, None] * (14.0 * gy - 7.0))
    img = np.empty((side, side, 3), np.uint8)
    for c in range(3):
        img[:, :, c] = plane + round(8.0 * tint[c] - 4.0)
    return img


def _draw(img: np.ndarray, o: Shape2D) -> None:
    """Paint one object into ``img`` (in place), anti-aliased by exact coverage.

    The patch around the object is blown up ``_SS`` x (nearest neighbour), the shape is filled in
    without anti-aliasing at that resolution, and the patch is box-filtered back down: each pixel
    gets the mean of its ``_SS ** 2`` samples. All integer arithmetic in OpenCV, so the bytes are
    the same on every machine; pixels the shape does not reach come back unchanged.
    """
    import cv2

    side = img.shape[0]
    reach = o.extent + _BLEED_PX
    x0, y0 = max(0, math.floor(o.x - reach)), max(0, math.floor(o.y - reach))
    x1, y1 = min(side, math.ceil(o.x + reach) + 1), min(side, math.ceil(o.y + reach) + 1)
    big = cv2.resize(img[y0:y1, x0:x1], None, fx=_SS, fy=_SS, interpolation=cv2.INTER_NEAREST)
    # pixel c spans [c - 0.5, c + 0.5]; fine pixel j has its centre at x0 - 0.5 + (j + 0.5) / _SS;
    # coordinates are multiples of 1/16 px, so these are exact integers on OpenCV's 1/16 grid (shift=4)
    cx = round(((o.x - x0 + 0.5) * _SS - 0.5) * _SUB)
    cy = round(((o.y - y0 + 0.5) * _SS - 0.5) * _SUB)
    color = COLORS[o.color]
    if o.shape == "circle":
        cv2.circle(big, (cx, cy), round(o.r * _SS * _SUB), color, -1, cv2.LINE_8, 4)
    else:
        pts = np.rint(_POLYGONS[o.shape] * (o.r * _SS * _SUB)).astype(np.int32) + np.array([cx, cy], np.int32)
        cv2.fillPoly(big, [pts], color, cv2.LINE_8, 4)
    img[y0:y1, x0:x1] = cv2.resize(big, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)


def render(scene: Scene2D, seed: int = 0) -> np.ndarray:
    """The scene's image, ``size x size x 3`` uint8 RGB; ``seed`` varies only the background."""
    img = _background(scene.size, _check_seed(seed), scene.index)
    for o in scene.objects:
        _draw(img, o)
    return img


def image_name(index: int) -> str:
    """File name of scene ``index`` in a folder written by :func:`write_dataset`."""
    return f"shapes_{index:06d}.png"


def write_dataset(
    folder: Path,
    n: int,
    seed: int = 0,
    questions_per_scene: int = 5,
    *,
    workers: Optional[int] = None,
    **kw,
) -> list[tuple[Path, Scene2D]]:
    """Generate ``n`` scenes, write each as a PNG in ``folder``, return ``(path, scene)`` pairs.

    ``kw`` goes to :func:`generate_scenes`. Images are rendered and encoded in a thread pool of
    ``workers`` threads (default: CPU count, at most 4; OpenCV releases the GIL while it draws,
    resizes and encodes); ``workers=1`` does it all in the calling thread. The files are the same
    either way. Existing files with the same names are overwritten.
    """
    import cv2

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    scenes = generate_scenes(n, seed, questions_per_scene, **kw)

    def write(scene: Scene2D) -> Path:
        bgr = cv2.cvtColor(render(scene, seed), cv2.COLOR_RGB2BGR)
        ok, buf = cv2.imencode(".png", bgr, [cv2.IMWRITE_PNG_COMPRESSION, 3])
        if not ok:  # pragma: no cover
            raise OSError(f"cannot encode scene {scene.index} as PNG")
        path = folder / image_name(scene.index)
        path.write_bytes(buf.tobytes())  # imencode + write_bytes: works with non-ASCII paths too
        return path

    threads = workers if workers is not None else min(4, os.cpu_count() or 1)
    step = max(1, min(50, len(scenes) // (4 * max(threads, 1))))  # few hand-offs between threads
    chunks = [scenes[i:i + step] for i in range(0, len(scenes), step)]
    if threads <= 1 or len(chunks) <= 1:
        paths = [write(sc) for sc in scenes]
    else:
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="shapes2d") as pool:
            paths = [p for part in pool.map(lambda chunk: [write(sc) for sc in chunk], chunks) for p in part]
    return list(zip(paths, scenes))
