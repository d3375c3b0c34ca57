"""The built-in 3D demo: seeded scenes of coloured primitives on a ground plane, as point clouds,
with VQA questions about them and a ground-truth cuboid per object.

A scene is a square patch of ground (z = 0, z up, :data:`GROUND_HALF` metres each way from the
origin) with ``min_objects..max_objects`` objects. An object has a shape (:data:`SHAPES`: box,
sphere, cylinder, cone, torus), a colour (:data:`COLORS`, the same names as the 2D demo) and a size
(:data:`SIZES`: small or large, the large one twice the small one in every dimension). Objects
stand on the ground, never overlap (their footprints' bounding circles keep a :data:`GAP`) and stay
on the ground patch. Each object's ``cuboid`` is its exact bounding box, ``label`` = shape name.

Dimensions for a size's radius ``r`` (:data:`RADIUS`): box: cube of side 2r (random yaw); sphere:
radius r; cylinder: radius r, height 2r; cone: base radius r, height 2r; torus (lying flat): outer
radius r, tube radius 0.3 r, so 0.6 r tall.

``sample_cloud`` samples every object's surface uniformly, each object with the same number of
points whatever its size (so a small object is as well covered as a large one, and the share of
points of one colour is proportional to the number of such objects), plus the ground in a neutral
colour (:data:`GROUND_COLOR`, the remaining points, at least :data:`GROUND_FRACTION`, none under the
objects), with small Gaussian noise (:data:`NOISE` metres).

Questions (``QA.family``; every question has exactly one correct answer):

============  ========  ===================================================================
family        answer    template
============  ========  ===================================================================
count_shape   number    How many {shapes} are there?            (0 now and then)
count_color   number    How many {color} things are there?      (0 now and then)
color         other     What color is the {shape}?              (only if one {shape})
shape         other     What shape is the {color} thing?        (only if one {color} thing)
size          other     What size is the {color} {shape}?       (only if one such object)
exist         yes/no    Is there a {color} {shape}?             (yes / no drawn 50 / 50)
============  ========  ===================================================================

Determinism: scene ``i`` is drawn from ``numpy.random.default_rng([seed, i])``, so it is the same
for every ``n > i``; its split depends on ``(seed, n, splits)`` (exact counts, largest remainder).
``sample_cloud(scene, n_points, seed)`` draws from ``default_rng([seed, scene.index, ...])``.
Same arguments, same bytes in the written PLY files.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..data.clouds import Cloud
from ..geometry import Cuboid

__all__ = [
    "SHAPES", "COLORS", "SIZES", "RADIUS", "GROUND_HALF", "GROUND_COLOR", "GROUND_FRACTION", "OBJECT_SLOTS", "NOISE", "GAP",
    "FAMILIES", "Object3D", "QA", "Scene3D", "generate_scenes", "sample_cloud", "write_dataset", "cloud_name",
]

SHAPES: tuple[str, ...] = ("box", "sphere", "cylinder", "cone", "torus")
#: colour name -> RGB in 0..1: the 2D demo's names; saturated, far apart, and far from the ground
COLORS: dict[str, tuple[float, float, float]] = {
    "red": (0.86, 0.10, 0.10),
    "green": (0.10, 0.68, 0.18),
    "blue": (0.12, 0.28, 0.90),
    "yellow": (0.95, 0.85, 0.05),
    "purple": (0.56, 0.16, 0.76),
    "cyan": (0.0, 0.80, 0.86),
    "orange": (1.0, 0.52, 0.0),
    "gray": (0.42, 0.42, 0.42),
}
SIZES: tuple[str, ...] = ("small", "large")
#: the nominal radius (metres) of each size: half the width of a box, sphere, cylinder, cone, torus
RADIUS: dict[str, float] = {"small": 0.45, "large": 0.9}
GROUND_HALF = 5.0  # the ground patch is [-5, 5] x [-5, 5] metres
GROUND_COLOR = (0.80, 0.78, 0.72)
GROUND_FRACTION = 0.2  # the ground's least share of the points (with OBJECT_SLOTS objects)
OBJECT_SLOTS = 6  # sample_cloud divides the object points as if there were this many objects
NOISE = 0.005  # metres, standard deviation of the Gaussian jitter of every point
GAP = 0.5  # metres between the bounding circles of two objects' footprints
MAX_OBJECTS = 8
#: question families, by answer type
FAMILIES: dict[str, tuple[str, ...]] = {
    "yes/no": ("exist",),
    "number": ("count_shape", "count_color"),
    "other": ("color", "shape", "size"),
}

PLURAL = {"box": "boxes", "sphere": "spheres", "cylinder": "cylinders", "cone": "cones", "torus": "tori"}
_TORUS_TUBE = 0.3  # tube radius / outer radius
_ZERO_COUNT_P = 0.2  # counting questions: chance to ask about something that may be absent
_FAMILY_ORDER = ("count_shape", "count_color", "color", "shape", "size", "exist")
_ANSWER_TYPE = {"count_shape": "number", "count_color": "number", "color": "other", "shape": "other",
                "size": "other", "exist": "yes/no"}


@dataclass(frozen=True)
class Object3D:
    shape: str
    color: str
    size: str
    cuboid: Cuboid


@dataclass(frozen=True)
class QA:
    """A question, its one correct answer, the VQA answer type and the template family."""

    question: str
    answer: str
    answer_type: str  # "yes/no" | "number" | "other"
    family: str


@dataclass(frozen=True)
class Scene3D:
    index: int
    split: str
    objects: tuple[Object3D, ...]
    questions: tuple[QA, ...]

    @property
    def cuboids(self) -> list[Cuboid]:
        return [o.cuboid for o in self.objects]


def cloud_name(index: int) -> str:
    """The file name ``write_dataset`` gives scene ``index``."""
    return f"scene3d_{index:06d}.ply"


# --- layout ----------------------------------------------------------------------------------------------


def _dimensions(shape: str, size: str) -> tuple[float, float, float]:
    """(length, width, height) of an object's bounding box."""
    r = RADIUS[size]
    if shape == "torus":
        return 2 * r, 2 * r, 2 * _TORUS_TUBE * r
    return 2 * r, 2 * r, 2 * r


def _footprint_radius(shape: str, size: str) -> float:
    r = RADIUS[size]
    return r * math.sqrt(2.0) if shape == "box" else r


def _place(rng: np.random.Generator, specs: list[tuple[str, str, str]]) -> list[Object3D] | None:
    placed: list[tuple[float, float, float]] = []  # x, y, footprint radius
    objects = []
    for shape, color, size in specs:
        fr = _footprint_radius(shape, size)
        lim = GROUND_HALF - fr - 0.1
        for _ in range(200):
            x, y = rng.uniform(-lim, lim, size=2)
            if all(math.hypot(x - px, y - py) >= fr + pr + GAP for px, py, pr in placed):
                break
        else:
            return None
        placed.append((float(x), float(y), fr))
        length, width, height = _dimensions(shape, size)
        yaw = float(rng.uniform(-math.pi / 4, math.pi / 4)) if shape == "box" else 0.0
        cub = Cuboid(float(x), float(y), height / 2.0, length, width, height, yaw, shape)
        objects.append(Object3D(shape, color, size, cub))
    return objects


def _layout(rng: np.random.Generator, min_objects: int, max_objects: int) -> list[Object3D]:
    n = int(rng.integers(min_objects, max_objects + 1))
    while True:
        specs = [
            (SHAPES[int(rng.integers(len(SHAPES)))], tuple(COLORS)[int(rng.integers(len(COLORS)))],
             SIZES[int(rng.integers(2))])
            for _ in range(n)
        ]
        objects = _place(rng, specs)
        if objects is not None:
            return objects
        n = max(min_objects, n - 1)  # crowded: try again (with one object fewer when allowed)


# --- questions -------------------------------------------------------------------------------------------


def _a(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _question(family: str, objects: list[Object3D], rng: np.random.Generator) -> QA | None:
    """One question of ``family`` about the scene, or None when the scene offers none."""
    shapes = [o.shape for o in objects]
    colors = [o.color for o in objects]

    def pick(values):
        return values[int(rng.integers(len(values)))]

    if family == "count_shape":
        shape = pick(SHAPES) if rng.random() < _ZERO_COUNT_P else pick(shapes)
        return QA(f"How many {PLURAL[shape]} are there?", str(shapes.count(shape)), "number", family)
    if family == "count_color":
        color = pick(tuple(COLORS)) if rng.random() < _ZERO_COUNT_P else pick(colors)
        return QA(f"How many {color} things are there?", str(colors.count(color)), "number", family)
    if family == "color":
        unique = sorted({s for s in shapes if shapes.count(s) == 1}, key=SHAPES.index)
        if not unique:
            return None
        shape = pick(unique)
        return QA(f"What color is the {shape}?", objects[shapes.index(shape)].color, "other", family)
    if family == "shape":
        unique = sorted({c for c in colors if colors.count(c) == 1}, key=tuple(COLORS).index)
        if not unique:
            return None
        color = pick(unique)
        return QA(f"What shape is the {color} thing?", objects[colors.index(color)].shape, "other", family)
    if family == "size":
        pairs = [(o.color, o.shape) for o in objects]
        unique = [p for p in pairs if pairs.count(p) == 1]
        if not unique:
            return None
        color, shape = pick(unique)
        obj = objects[pairs.index((color, shape))]
        return QA(f"What size is the {color} {shape}?", obj.size, "other", family)
    if family == "exist":
        present = sorted({(o.color, o.shape) for o in objects})
        if rng.random() < 0.5:
            color, shape = pick(present)
            answer = "yes"
        else:
            absent = [(c, s) for c in COLORS for s in SHAPES if (c, s) not in present]
            color, shape = pick(absent)
            answer = "no"
        return QA(f"Is there {_a(color)} {color} {shape}?", answer, "yes/no", family)
    raise ValueError(f"unknown question family {family!r}")


def _questions(objects: list[Object3D], rng: np.random.Generator, k: int) -> list[QA]:
    out: list[QA] = []
    seen: set[str] = set()
    start = int(rng.integers(len(_FAMILY_ORDER)))
    tries = 0
    while len(out) < k and tries < 20 * k + 20:
        family = _FAMILY_ORDER[(start + tries) % len(_FAMILY_ORDER)]
        tries += 1
        qa = _question(family, objects, rng)
        if qa is None or qa.question in seen:
            continue
        seen.add(qa.question)
        out.append(qa)
    return out


def _assign_splits(n: int, seed: int, splits: Sequence[tuple[str, float]]) -> list[str]:
    if not splits:
        raise ValueError("splits must name at least one split")
    total = float(sum(f for _, f in splits))
    if total <= 0 or any(f < 0 for _, f in splits):
        raise ValueError(f"split fractions must be >= 0 and not all 0, got {list(splits)}")
    exact = [n * f / total for _, f in splits]
    counts = [int(math.floor(e)) for e in exact]
    by_remainder = sorted(range(len(splits)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in by_remainder[: n - sum(counts)]:
        counts[i] += 1
    labels = [name for (name, _), c in zip(splits, counts) for _ in range(c)]
    order = np.random.default_rng([seed, n, 7]).permutation(n)
    return [labels[i] for i in order]


def generate_scenes(
    n: int,
    seed: int = 0,
    questions_per_scene: int = 5,
    splits: Sequence[tuple[str, float]] = (("train", 0.7), ("val", 0.1), ("test", 0.2)),
    min_objects: int = 2,
    max_objects: int = 6,
) -> list[Scene3D]:
    """``n`` scenes with objects, cuboids and questions (no points: see :func:`sample_cloud`)."""
    if n < 0:
        raise ValueError(f"n must be >= 0, not {n}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, not {seed}")
    if questions_per_scene < 0:
        raise ValueError(f"questions_per_scene must be >= 0, not {questions_per_scene}")
    if not 1 <= min_objects <= max_objects <= MAX_OBJECTS:
        raise ValueError(f"need 1 <= min_objects <= max_objects <= {MAX_OBJECTS}, not {min_objects}, {max_objects}")
    labels = _assign_splits(n, seed, splits)
    scenes = []
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        objects = _layout(rng, min_objects, max_objects)
        questions = _questions(objects, rng, questions_per_scene)
        scenes.append(Scene3D(i, labels[i], tuple(objects), tuple(questions)))
    return scenes


# --- point sampling --------------------------------------------------------------------------------------


def _sample_surface(shape: str, size: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points uniformly on the surface of the shape, in its own frame (centre at the origin of
    its bounding box, z up, yaw 0). [n, 3] float64."""
    r = RADIUS[size]
    if n <= 0:
        return np.zeros((0, 3))
    if shape == "sphere":
        v = rng.normal(size=(n, 3))
        return r * v / np.linalg.norm(v, axis=1, keepdims=True)
    if shape == "box":
        face = rng.integers(6, size=n)  # equal areas
        uv = rng.uniform(-r, r, size=(n, 2))
        axis = face // 2
        sign = np.where(face % 2 == 0, 1.0, -1.0) * r
        pts = np.empty((n, 3))
        for a in range(3):
            m = axis == a
            others = [b for b in range(3) if b != a]
            pts[m, a] = sign[m]
            pts[m, others[0]] = uv[m, 0]
            pts[m, others[1]] = uv[m, 1]
        return pts
    theta = rng.uniform(0.0, 2.0 * math.pi, size=n)
    if shape == "cylinder":
        h = 2 * r
        side_area, cap_area = 2 * math.pi * r * h, math.pi * r * r
        part = rng.choice(3, size=n, p=np.array([side_area, cap_area, cap_area]) / (side_area + 2 * cap_area))
        rad = np.where(part == 0, r, r * np.sqrt(rng.random(n)))
        z = np.where(part == 0, rng.uniform(-h / 2, h / 2, size=n), np.where(part == 1, h / 2, -h / 2))
        return np.stack([rad * np.cos(theta), rad * np.sin(theta), z], axis=1)
    if shape == "cone":
        h = 2 * r
        lateral, base = math.pi * r * math.hypot(r, h), math.pi * r * r
        on_side = rng.random(n) < lateral / (lateral + base)
        t = np.sqrt(rng.random(n))  # fraction of the way from the apex: area grows with t^2
        rad = np.where(on_side, t * r, r * np.sqrt(rng.random(n)))
        z = np.where(on_side, h / 2 - t * h, -h / 2)
        return np.stack([rad * np.cos(theta), rad * np.sin(theta), z], axis=1)
    if shape == "torus":
        a = _TORUS_TUBE * r
        big = r - a
        out = np.empty((0, 3))
        while len(out) < n:  # rejection: the outer side of the tube has more area
            m = 2 * (n - len(out)) + 16
            phi = rng.uniform(0.0, 2.0 * math.pi, size=m)
            psi = rng.uniform(0.0, 2.0 * math.pi, size=m)
            keep = rng.random(m) < (big + a * np.cos(psi)) / (big + a)
            phi, psi = phi[keep], psi[keep]
            ring = big + a * np.cos(psi)
            out = np.concatenate([out, np.stack([ring * np.cos(phi), ring * np.sin(phi), a * np.sin(psi)], axis=1)])
        return out[:n]
    raise ValueError(f"unknown shape {shape!r}")


def _object_points(obj: Object3D, n: int, rng: np.random.Generator) -> np.ndarray:
    local = _sample_surface(obj.shape, obj.size, n, rng)
    c = obj.cuboid
    cos, sin = math.cos(c.yaw), math.sin(c.yaw)
    world = np.empty_like(local)
    world[:, 0] = c.cx + cos * local[:, 0] - sin * local[:, 1]
    world[:, 1] = c.cy + sin * local[:, 0] + cos * local[:, 1]
    world[:, 2] = c.cz + local[:, 2]
    return world


def _ground_points(objects: Sequence[Object3D], n: int, rng: np.random.Generator) -> np.ndarray:
    out = np.empty((0, 3))
    while len(out) < n:
        m = int((n - len(out)) * 1.3) + 16
        xy = rng.uniform(-GROUND_HALF, GROUND_HALF, size=(m, 2))
        keep = np.ones(m, dtype=bool)
        for o in objects:  # nothing under an object
            c = o.cuboid
            cos, sin = math.cos(c.yaw), math.sin(c.yaw)
            dx, dy = xy[:, 0] - c.cx, xy[:, 1] - c.cy
            inside = (np.abs(dx * cos + dy * sin) <= c.length / 2) & (np.abs(-dx * sin + dy * cos) <= c.width / 2)
            keep &= ~inside
        xy = xy[keep]
        out = np.concatenate([out, np.column_stack([xy, np.zeros(len(xy))])])
    return out[:n]


def sample_cloud(
    scene: Scene3D,
    n_points: int = 8192,
    seed: int = 0,
    *,
    object_slots: int = OBJECT_SLOTS,
    ground_fraction: float = GROUND_FRACTION,
    noise: float = NOISE,
    return_labels: bool = False,
):
    """The scene as a coloured point cloud of exactly ``n_points`` points.

    Every object gets the same number of points, ``n_points * (1 - ground_fraction) / object_slots``
    (fewer when a scene has more objects than slots), and the ground the rest. So in scenes of up to
    ``object_slots`` objects an object's share of the cloud is the same in every scene, and the share
    of, say, red points is proportional to the number of red things: counting is learnable from
    point mass, even after a loader resamples the cloud uniformly.

    With ``return_labels`` also an int32 [n_points] array: the index of the object each point was
    sampled from, -1 for the ground.
    """
    if n_points < 1:
        raise ValueError("n_points must be at least 1")
    if not 0.0 <= ground_fraction < 1.0:
        raise ValueError("ground_fraction must be in [0, 1)")
    if object_slots < 1:
        raise ValueError("object_slots must be at least 1")
    rng = np.random.default_rng([seed, scene.index, 3])
    k = len(scene.objects)
    per_object = int(n_points * (1.0 - ground_fraction)) // max(k, object_slots)
    shares = [per_object] * k
    n_ground = n_points - per_object * k
    parts, colours, labels = [], [], []
    for i, (obj, m) in enumerate(zip(scene.objects, shares)):
        parts.append(_object_points(obj, m, rng))
        colours.append(np.broadcast_to(np.array(COLORS[obj.color]), (m, 3)))
        labels.append(np.full(m, i, dtype=np.int32))
    parts.append(_ground_points(scene.objects, n_ground, rng))
    colours.append(np.broadcast_to(np.array(GROUND_COLOR), (n_ground, 3)))
    labels.append(np.full(n_ground, -1, dtype=np.int32))
    xyz = np.concatenate(parts)
    if noise > 0:
        xyz = xyz + rng.normal(scale=noise, size=xyz.shape)
    rgb = np.concatenate(colours)
    cloud = Cloud(xyz.astype(np.float32), rgb.astype(np.float32))
    if return_labels:
        return cloud, np.concatenate(labels)
    return cloud


def write_dataset(
    folder: str | os.PathLike,
    n: int,
    seed: int = 0,
    n_points: int = 8192,
    questions_per_scene: int = 5,
    splits: Sequence[tuple[str, float]] = (("train", 0.7), ("val", 0.1), ("test", 0.2)),
    min_objects: int = 2,
    max_objects: int = 6,
) -> list[tuple[Path, Scene3D]]:
    """Generate ``n`` scenes and write each as a binary PLY (``scene3d_{index:06d}.ply``) in ``folder``.

    Returns (path, scene) pairs in index order. Same arguments, same bytes.
    """
    from ..data.clouds import save_cloud

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for scene in generate_scenes(n, seed, questions_per_scene, splits, min_objects, max_objects):
        path = folder / cloud_name(scene.index)
        save_cloud(path, sample_cloud(scene, n_points, seed, object_slots=max_objects))
        out.append((path, scene))
    return out
