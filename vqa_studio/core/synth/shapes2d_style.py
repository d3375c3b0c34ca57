"""Styles of the 2D shapes data: which shapes, colours, sizes, background and question wordings.

A :class:`Style` is everything about a generated 2D set that is a matter of choice rather than of
logic: the layout, the question families, their answer logic and the answer-type balance are the
same in every style. :data:`DEMO` is the built-in demo's (the default everywhere; its output is
byte-identical to what the generator wrote before styles existed). :data:`SHIFTED` is a different
distribution for transfer experiments (``benchmarks/bench_transfer.py``): a model trained on the demo
knows some of it (the concepts colour / shape / size / count / left-right, the shapes ``square`` and
``triangle``, the colours ``red``, ``green``, ``blue``, ``yellow``, the size words) but not all of it:

=============  ==========================================  ==============================================
               DEMO                                        SHIFTED
=============  ==========================================  ==============================================
shapes         circle square triangle diamond cross        square triangle star hexagon ring
colours        red green blue yellow purple cyan orange    red green blue yellow black white pink
               gray
radius         small 0.075, large 0.125 (x side; 1.67x)    small 0.08, large 0.12 (1.5x)
background     light grey 228..242, shading +-7            cool blue-grey 170..196, shading +-10
an object      thing / things                              object / objects
color          What color is the {ref}?                    What is the colour of the {ref}?
shape          What shape is the {ref}?                    Which shape does the {ref} have?
size           What size is the {ref}?                     How big is the {ref}?
count          How many {things} are there?                Count the {things}.
exist          Is there a {thing}? / Are there any ...?    Can you see a {thing}? / Are any ... visible?
=============  ==========================================  ==============================================

(the comparisons and relations are reworded too: see :data:`SHIFTED_WORDING`). Sizes are always
``small`` / ``large``. Shapes are drawn from one catalogue (``shapes2d_vocab.OUTLINES``), so a shape
name looks the same in every style.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from .shapes2d_vocab import COLORS, MAX_OBJECTS, OUTLINES, RADIUS, SHAPES, SIZES

__all__ = ["Background", "Wording", "Style", "DEMO", "SHIFTED", "STYLES", "DEMO_WORDING", "SHIFTED_WORDING",
           "style_named"]


@dataclass(frozen=True)
class Background:
    """A light, nearly flat background: grey ``level + span * u`` with a linear shading of +-``shade``
    across the image in x and y, and a per-channel tint ``bias + round(2 * tint * u - tint)``
    (``u`` uniform in [0, 1) from the scene's background generator)."""

    level: float = 228.0
    span: float = 14.0
    shade: float = 7.0
    tint: float = 4.0
    bias: tuple[int, int, int] = (0, 0, 0)


@dataclass(frozen=True)
class Wording:
    """The question texts. ``{a}`` / ``{b}``: descriptions (plural for counts), ``{ref}``: a description
    naming one object, ``{side}``: left | right; ``thing`` / ``things``: the noun of a description with
    no shape; attribute templates are in the order (size, color, shape)."""

    thing: str = "thing"
    things: str = "things"
    exist: tuple[str, str] = ("Is there {a}?", "Are there any {a}?")  # singular with article / plural
    compare_count: tuple[str, str, str] = (
        "Are there more {a} than {b}?", "Are there fewer {a} than {b}?", "Are there the same number of {a} and {b}?")
    compare_size: tuple[str, str, str] = (
        "Is the {a} bigger than the {b}?", "Is the {a} smaller than the {b}?", "Is the {a} the same size as the {b}?")
    count_all: str = "How many objects are there?"
    count: str = "How many {a} are there?"
    attribute: tuple[str, str, str] = ("What size is the {ref}?", "What color is the {ref}?", "What shape is the {ref}?")
    relate_color: str = "What color is the thing to the {side} of the {ref}?"
    relate_shape: str = "What shape is the thing to the {side} of the {ref}?"


DEMO_WORDING = Wording()
SHIFTED_WORDING = Wording(
    thing="object", things="objects",
    exist=("Can you see {a}?", "Are any {a} visible?"),
    compare_count=("Is the number of {a} greater than the number of {b}?",
                   "Is the number of {a} less than the number of {b}?",
                   "Are there as many {a} as {b}?"),
    compare_size=("Is the {a} larger than the {b}?", "Is the {a} tinier than the {b}?",
                  "Do the {a} and the {b} have the same size?"),
    count_all="Count the objects.",
    count="Count the {a}.",
    attribute=("How big is the {ref}?", "What is the colour of the {ref}?", "Which shape does the {ref} have?"),
    relate_color="What is the colour of the object {side} of the {ref}?",
    relate_shape="Which shape does the object {side} of the {ref} have?",
)


@dataclass(frozen=True)
class Style:
    """What a generated 2D set looks like and how its questions are worded (see the module docstring).

    ``salt`` (0 for the demo) is mixed into the seeds of the scene and background generators, so two
    styles with the same seed do not share their layouts.
    """

    name: str
    shapes: tuple[str, ...]
    colors: tuple[tuple[str, tuple[int, int, int]], ...]  # (name, RGB) pairs, in order
    radius: tuple[float, float]  # nominal radius of small and large objects, fraction of the image side
    background: Background = Background()
    wording: Wording = DEMO_WORDING
    salt: int = 0

    def __post_init__(self) -> None:
        unknown = [s for s in self.shapes if s not in OUTLINES]
        if unknown or len(self.shapes) < 2 or len(set(self.shapes)) != len(self.shapes):
            raise ValueError(f"shapes must be 2 or more distinct names from {sorted(OUTLINES)}, not {self.shapes!r}")
        names = [c for c, _ in self.colors]
        if len(names) < 3 or len(set(names)) != len(names) or set(names) & set(SIZES) or set(names) & set(OUTLINES):
            raise ValueError(f"colors must be 3 or more distinct names (no size or shape words), not {names!r}")
        small, large = self.radius
        if not 0 < small < large <= 0.2:
            raise ValueError(f"radius must be (small, large) with 0 < small < large <= 0.2, not {self.radius!r}")

    @functools.cached_property
    def rgb(self) -> dict[str, tuple[int, int, int]]:
        """Colour name -> RGB."""
        return dict(self.colors)

    @functools.cached_property
    def color_names(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.colors)

    @functools.cached_property
    def radius_of(self) -> dict[str, float]:
        """Size word -> nominal radius (fraction of the image side)."""
        return dict(zip(SIZES, self.radius))

    @functools.cached_property
    def values(self) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        """The values of each attribute, in the order (size, color, shape)."""
        return SIZES, self.color_names, self.shapes

    @functools.cached_property
    def other_values(self) -> dict[tuple[int, str], tuple[str, ...]]:
        """(attribute index, value) -> the attribute's other values."""
        return {(a, v): tuple(w for w in vals if w != v) for a, vals in enumerate(self.values) for v in vals}

    @functools.cached_property
    def answers(self) -> frozenset[str]:
        """Every answer a question of this style can have."""
        return frozenset(("yes", "no", *map(str, range(MAX_OBJECTS + 1)), *SIZES, *self.color_names, *self.shapes))

    def plural(self, shape: str) -> str:
        return shape + ("es" if shape.endswith(("s", "x", "sh", "ch")) else "s")


DEMO = Style("demo", SHAPES, tuple(COLORS.items()), (RADIUS["small"], RADIUS["large"]))
SHIFTED = Style(
    "shifted",
    shapes=("square", "triangle", "star", "hexagon", "ring"),
    colors=(("red", COLORS["red"]), ("green", COLORS["green"]), ("blue", COLORS["blue"]),
            ("yellow", COLORS["yellow"]), ("black", (30, 30, 35)), ("white", (250, 250, 250)),
            ("pink", (240, 110, 175))),
    radius=(0.08, 0.12),
    background=Background(level=170.0, span=26.0, shade=10.0, tint=4.0, bias=(-10, -2, 8)),
    wording=SHIFTED_WORDING,
    salt=0x5417,
)
#: the styles by name
STYLES: dict[str, Style] = {s.name: s for s in (DEMO, SHIFTED)}


def style_named(name: "str | Style") -> Style:
    """The style called ``name`` (a :class:`Style` is returned as it is)."""
    if isinstance(name, Style):
        return name
    try:
        return STYLES[name]
    except KeyError:
        raise ValueError(f"unknown 2D style {name!r}; known: {', '.join(STYLES)}") from None
