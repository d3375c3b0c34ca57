"""Vocabulary, records and the seeded random stream of the 2D shapes demo data.

See :mod:`vqa_studio.core.synth.shapes2d` for what the data is; this module holds what both the
layout/drawing (:mod:`.shapes2d`) and the question templates (:mod:`.shapes2d_questions`) use.
"""
from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

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


def _regular(n: int, radius: float, phase: float = -math.pi / 2) -> np.ndarray:
    """A regular ``n``-gon of circumradius ``radius``, its first vertex at angle ``phase`` (up)."""
    t = phase + 2 * math.pi * np.arange(n) / n
    return np.stack([radius * np.cos(t), radius * np.sin(t)], axis=1)


def _more_outlines() -> dict[str, tuple[np.ndarray, ...]]:
    """Shapes of the other styles (:mod:`.shapes2d_style`); a ring is two contours (filled even-odd)."""
    star = np.empty((10, 2))
    star[0::2], star[1::2] = _regular(5, 1.2), _regular(5, 0.55, -math.pi / 2 + math.pi / 5)
    return {
        "star": (star,),
        "hexagon": (_regular(6, 1.05, 0.0),),
        "ring": (_regular(64, 1.0), _regular(64, 0.55)[::-1]),
    }


_POLYGONS = _unit_polygons()
#: every shape name any style draws -> its outline contours for ``r = 1`` (circles are drawn as circles)
OUTLINES: dict[str, tuple[np.ndarray, ...]] = {
    "circle": (_regular(64, 1.0),), **{name: (poly,) for name, poly in _POLYGONS.items()}, **_more_outlines(),
}
#: bounding radius of each shape / its nominal radius ``r`` (the whole shape lies within r * EXTENT)
EXTENT: dict[str, float] = {
    "circle": 1.0,
    **{name: float(max(np.hypot(*c.T).max() for c in cs)) for name, cs in OUTLINES.items() if name != "circle"},
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


class _Weights:
    """A weighted choice table: items and their cumulative weights."""

    __slots__ = ("items", "cum")

    def __init__(self, *pairs: tuple) -> None:
        self.items = tuple(item for item, _ in pairs)
        self.cum = tuple(itertools.accumulate(w for _, w in pairs))



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
    """A scene: its index in the generated set, split, image side in pixels, objects, questions, style."""

    index: int
    split: str
    size: int
    objects: tuple[Shape2D, ...]
    questions: tuple[QA, ...]
    #: the :class:`~.shapes2d_style.Style` it was generated in (None: the demo's); not in the repr
    style: Any = field(default=None, repr=False)


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
