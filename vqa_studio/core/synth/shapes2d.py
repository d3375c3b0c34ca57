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

Styles. All of the above is the demo's :class:`~.shapes2d_style.Style` (:data:`DEMO`, the default).
``generate_scenes(..., style=SHIFTED)`` (and :func:`write_dataset`) draws the same families from
another distribution: other shapes, colours, size ratio, background and question wordings, some of
them shared with the demo (see :mod:`.shapes2d_style`). A scene remembers its style (``Scene2D.style``,
left out of its repr), so :func:`render` draws it right.

The vocabulary, records and random stream are in :mod:`.shapes2d_vocab`, the styles in
:mod:`.shapes2d_style`, the question templates in :mod:`.shapes2d_questions`; this module lays
scenes out, draws them and writes them, and re-exports the public names.
"""
from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from .shapes2d_questions import questions as _questions
from .shapes2d_style import DEMO, SHIFTED, STYLES, Style, style_named
from .shapes2d_vocab import (
    COLORS, EXTENT, FAMILIES, MAX_OBJECTS, OUTLINES, QA, RADIUS, RELATE_MIN_DX, RELATE_MIN_RATIO, SHAPES, SIZES,
    Scene2D, Shape2D, _Stream,
)

__all__ = [
    "SHAPES", "COLORS", "SIZES", "RADIUS", "EXTENT", "RELATE_MIN_DX", "RELATE_MIN_RATIO",
    "MAX_OBJECTS", "FAMILIES", "Shape2D", "QA", "Scene2D", "Style", "DEMO", "SHIFTED", "STYLES",
    "generate_scenes", "render", "write_dataset", "image_name",
]

# layout: anti-aliasing inks pixels whose centre is up to ~0.6 px outside a shape's outline, so objects
# are spaced by their "ink circle" (bounding circle + _BLEED_PX); margins are fractions of the side
_BLEED_PX = 1.0
_MARGIN = 0.02  # ink circle <-> frame
_GAP = 0.03  # ink circle <-> ink circle
_SS = 4  # supersampling per axis when drawing (exact-coverage anti-aliasing, 16 samples a pixel)
_SUB = 16  # OpenCV sub-pixel grid (shift=4)

# seed-sequence tags: separate streams for scenes, splits and backgrounds
_TAG_SCENE, _TAG_SPLIT, _TAG_RENDER = 0x5CE7E, 0x5B117, 0x8E7DE8


# --- layout -------------------------------------------------------------------------------------------

def _q(v: float) -> float:
    """Quantise to the 1/16 px drawing grid."""
    return round(v * _SUB) / _SUB


def _place(stream: _Stream, side: int, specs: list[tuple[str, str, str]], style: Style
           ) -> Optional[list[Shape2D]]:
    """Rejection-sample non-overlapping positions; None when an object finds no room.

    Works in integer 1/16 px units, the drawing grid, so that checks and drawing see the same numbers.
    """
    margin, gap = _MARGIN * side * _SUB, _GAP * side * _SUB
    u = stream.u
    items = []
    for shape, color, size in specs:
        r = _q(style.radius_of[size] * side)
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


def _layout(stream: _Stream, side: int, n: int, style: Style) -> list[Shape2D]:
    # a per-scene palette makes repeated shapes / colours common, so counts spread beyond 0 and 1
    shapes = stream.sample(style.shapes, 2 + stream.below(len(style.shapes) - 1))
    colors = stream.sample(style.color_names, 3 + stream.below(len(style.color_names) - 2))
    specs = [(stream.pick(shapes), stream.pick(colors), SIZES[stream.below(2)]) for _ in range(n)]
    for attempt in range(60):
        objs = _place(stream, side, specs, style)
        if objs is not None:
            return objs
        if attempt % 4 == 3:  # crowded: shrink one large object
            for i, (shape, color, size) in enumerate(specs):
                if size == "large":
                    specs[i] = (shape, color, "small")
                    break
    raise RuntimeError(f"cannot place {n} objects in {side} px")  # pragma: no cover


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


def _scene(s: _Stream, index: int, split: str, k: int, min_objects: int, max_objects: int, style: Style
           ) -> Scene2D:
    side = 64 + s.below(65)
    n = min_objects + s.below(max_objects - min_objects + 1)
    objects = _layout(s, side, n, style)
    return Scene2D(index, split, side, tuple(objects), _questions(objects, side, s, k, style), style)


def _entropy(tag: int, seed: int, style: Style, *more: int) -> list[int]:
    """Seed-sequence entropy of a generator: the style's salt is mixed in for styles other than the demo."""
    return [tag, seed, *more] if not style.salt else [tag, seed, *more, style.salt]


def generate_scenes(
    n: int,
    seed: int = 0,
    questions_per_scene: int = 5,
    splits: Sequence[tuple[str, float]] = (("train", 0.7), ("val", 0.1), ("test", 0.2)),
    min_objects: int = 1,
    max_objects: int = 6,
    style: "Style | str" = DEMO,
) -> list[Scene2D]:
    """``n`` scenes with their questions (no images: see :func:`render`), in ``style`` (a
    :class:`~.shapes2d_style.Style` or its name; default the demo's).

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
    style = style_named(style)
    labels = _assign_splits(n, seed, splits)
    s = _Stream(*_entropy(_TAG_SCENE, seed, style))
    return [_scene(s, i, labels[i], questions_per_scene, min_objects, max_objects, style) for i in range(n)]


# --- images -------------------------------------------------------------------------------------------

def _background(side: int, seed: int, index: int, style: Style = DEMO) -> np.ndarray:
    """Light, nearly neutral background: a random grey level and tint, and a faint linear shading
    (:class:`~.shapes2d_style.Background`).

    (No per-pixel grain: it would make the PNGs 6x larger and slower to write for no gain.)
    """
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(_entropy(_TAG_RENDER, seed, style, index))))
    base, gx, gy, *tint = rng.random(6).tolist()
    ramp = np.arange(side, dtype=np.float64) / (side - 1) - 0.5
    # the demo: grey 228..242, shading +-7 across the image, tint +-4 per channel: 217..253 all told
    b = style.background
    sh = 2.0 * b.shade
    plane = np.rint((b.level + b.span * base) + ramp[None, :] * (sh * gx - b.shade) + ramp[:, None] * (sh * gy - b.shade))
    img = np.empty((side, side, 3), np.uint8)
    for c in range(3):
        img[:, :, c] = plane + (round(2.0 * b.tint * tint[c] - b.tint) + b.bias[c])
    return img


def _draw(img: np.ndarray, o: Shape2D, rgb: dict[str, tuple[int, int, int]]) -> None:
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
    color = rgb[o.color]
    if o.shape == "circle":
        cv2.circle(big, (cx, cy), round(o.r * _SS * _SUB), color, -1, cv2.LINE_8, 4)
    else:  # several contours (a ring) are filled even-odd: the inner one is a hole
        at = np.array([cx, cy], np.int32)
        pts = [np.rint(c * (o.r * _SS * _SUB)).astype(np.int32) + at for c in OUTLINES[o.shape]]
        cv2.fillPoly(big, pts, color, cv2.LINE_8, 4)
    img[y0:y1, x0:x1] = cv2.resize(big, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)


def render(scene: Scene2D, seed: int = 0) -> np.ndarray:
    """The scene's image, ``size x size x 3`` uint8 RGB, in the scene's style; ``seed`` varies only the
    background."""
    style = scene.style if scene.style is not None else DEMO
    img = _background(scene.size, _check_seed(seed), scene.index, style)
    for o in scene.objects:
        _draw(img, o, style.rgb)
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

    ``kw`` goes to :func:`generate_scenes` (``style=SHIFTED`` for the shifted set). Images are rendered and encoded in a thread pool of
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
