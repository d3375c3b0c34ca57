"""The built-in demo project: generated locally (no download), deterministic for a seed."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generator, Iterator

import numpy as np

from . import cuboids
from .errors import BadInputError
from .formats.base import Record, RecordAnswer
from .project import Project
from .types import Progress


@dataclass
class DemoResult:
    folder: Path
    created: bool
    n_scenes: int = 0
    n_questions: int = 0
    seconds: float = 0.0
    steps: list[str] = field(default_factory=list)
    version: str | None = None  # the first model, when one was trained

    def summary(self) -> str:
        return self.describe()

    def describe(self) -> str:
        head = "built" if self.created else "opened the existing"
        lines = [f"{head} demo project at {self.folder}"]
        lines += [f"  - {s}" for s in self.steps]
        lines.append(f"  ({self.seconds:.1f} s)")
        return "\n".join(lines)


def shapes2d_records(folder: Path, n_scenes: int, seed: int, labelled_fraction: float = 1.0,
                     questions_per_scene: int = 5, outliers: float = 0.0, style: str = "demo") -> Iterator[Record]:
    """Write the 2D demo images into ``folder`` and yield one Record per generated question.

    Validation and test questions keep their answers (to calibrate and evaluate). Of the training
    scenes only ``labelled_fraction`` keep theirs (the seed labels); the others are the pool the
    annotator works through, their true answer kept out of sight in the question's metadata
    (``demo_answer``) so simulations and tests can play the annotator.

    ``outliers``: the share of training questions made unanswerable or mislabelled
    (:mod:`.synth.outliers`; marked ``outlier`` in the question's metadata); the val and test
    questions stay clean, as checked held-out data should be (the model is evaluated and auto-accept
    calibrated on them); ``style``: the generator's style (``demo``, or
    ``shifted``: other shapes, colours, sizes, background and wordings, :mod:`.synth.shapes2d_style`).
    """
    from .synth import shapes2d
    from .synth.outliers import inject_outliers

    rng = np.random.default_rng(seed + 1)
    extra = {} if style == "demo" else {"style": style}
    for path, scene in shapes2d.write_dataset(folder, n_scenes, seed=seed, questions_per_scene=questions_per_scene,
                                              **extra):
        show = scene.split != "train" or rng.random() < labelled_fraction
        asked = inject_outliers(scene.questions, outliers, seed, scene.index, style) \
            if outliers and scene.split == "train" else [(qa, {}) for qa in scene.questions]
        for k, (qa, marks) in enumerate(asked):
            meta = {"family": qa.family, "generator": "shapes2d", "demo_answer": qa.answer, **marks}
            if extra:
                meta["style"] = style
            yield Record(
                media_path=Path(path).resolve(), question=qa.question, split=scene.split,
                answers=(RecordAnswer(qa.answer),) if show else (), answer=qa.answer if show else None,
                question_id=str(scene.index * 100 + k), media_id=str(scene.index),
                answer_type=qa.answer_type, question_meta=meta,
                where=f"scene {scene.index} question {k}", source="shapes2d",
            )


def scenes3d_records(folder: Path, n_scenes: int, seed: int, labelled_fraction: float = 1.0,
                     n_points: int = 8192, scenes_out: list | None = None,
                     questions_per_scene: int = 5) -> Iterator[Record]:
    """Write the 3D demo point clouds into ``folder``; one Record per question (as ``shapes2d_records``).
    The ground-truth cuboids also go into the item's metadata (``cuboids``: centre, size, yaw, label);
    ``scenes_out`` collects the (path, scene) pairs."""
    from .synth import scenes3d

    rng = np.random.default_rng(seed + 2)
    for path, scene in scenes3d.write_dataset(folder, n_scenes, seed=seed, n_points=n_points,
                                              questions_per_scene=questions_per_scene):
        if scenes_out is not None:
            scenes_out.append((path, scene))
        show = scene.split != "train" or rng.random() < labelled_fraction
        boxes = [{"label": c.label, "center": [c.cx, c.cy, c.cz], "size": [c.length, c.width, c.height], "yaw": c.yaw}
                 for c in scene.cuboids]
        for k, qa in enumerate(scene.questions):
            yield Record(
                media_path=Path(path).resolve(), question=qa.question, split=scene.split,
                answers=(RecordAnswer(qa.answer),) if show else (), answer=qa.answer if show else None,
                question_id=str(1_000_000 + scene.index * 100 + k), media_id=str(1_000_000 + scene.index),
                answer_type=qa.answer_type, item_meta={"generator": "scenes3d", "cuboids": boxes},
                question_meta={"family": qa.family, "generator": "scenes3d", "demo_answer": qa.answer},
                where=f"3D scene {scene.index} question {k}", source="scenes3d",
            )


#: the demo's default size: scenes, and questions asked about each (more questions per image cost little
#: in training: the image encoder runs once per image and batch)
DEMO_SCENES = 1200
DEMO_QUESTIONS_PER_SCENE = 20
DEMO_QUESTIONS_PER_SCENE_3D = 20
DEMO_SCENES_3D = 200


DEMO_NAME = "VQA Studio demo"


def first_model_args(**overrides):
    """The demo's first model: started from the shipped checkpoint (``resources/models/
    demo_pretrained.pt``, trained on the same generators with another seed; every tensor that fits,
    words and answers matched by text) and fine-tuned on the labelled seed for a short budget; without
    the checkpoint, from scratch with the full five-minute budget (``TrainingArgs.for_demo``)."""
    from .paths import demo_checkpoint
    from .train.config import TrainingArgs

    ckpt = demo_checkpoint()
    if ckpt is None:
        return TrainingArgs.for_demo(**overrides)
    base = dict(init_from=str(ckpt), time_limit_s=120.0, epochs=4, lr=1e-3, warmup=0.05, skip_easy=0.75,
                freeze_media_at=None)
    base.update(overrides)
    return TrainingArgs.for_demo(**base)


def check_options(outliers: float, variant: str) -> None:
    """``BadInputError`` for an outlier share outside [0, 1] or an unknown 2D style."""
    from .synth.shapes2d_style import style_named

    if not 0.0 <= float(outliers) <= 1.0:
        raise BadInputError(None, f"the outlier fraction must be between 0 and 1, not {outliers}")
    try:
        style_named(variant)
    except ValueError as exc:
        raise BadInputError(None, str(exc)) from None


def demo_job(project, params: dict) -> Generator[Progress, None, "DemoResult"]:
    """The ``demo`` job kind (run in a child process by the app): fill the new, empty demo project and
    train its first model. ``params``: the keyword arguments of :func:`populate_demo`."""
    params = dict(params)
    train_args = params.pop("train_args", None)
    if isinstance(train_args, dict):
        from .train.config import TrainingArgs

        train_args = TrainingArgs.from_dict(train_args)
    return populate_demo(project, train_args=train_args, **params)


def build_demo(folder: Path, n_scenes: int = DEMO_SCENES, seed: int = 0, labelled_fraction: float = 1.0,
               train: bool = False, train_args=None, n_scenes_3d: int = 0,
               questions_per_scene: int = DEMO_QUESTIONS_PER_SCENE,
               questions_per_scene_3d: int = DEMO_QUESTIONS_PER_SCENE_3D, outliers: float = 0.0,
               variant: str = "demo") -> Generator[Progress, None, DemoResult]:
    """Create the demo project in ``folder`` (or open it if it is already there).

    With ``train``, a first model is trained on the labelled seed and scores the pool, so the demo
    opens with proposals and uncertainty.
    """
    t0 = time.perf_counter()
    check_options(outliers, variant)
    folder = Path(folder).expanduser().resolve()
    if (folder / "project.db").exists():
        project = Project.open(folder)
        try:
            st = project.stats()
        finally:
            project.close()
        return DemoResult(folder, False, n_questions=st.n_questions, seconds=time.perf_counter() - t0,
                          steps=[f"{st.n_items} items, {st.n_questions} questions, active model {st.active_model or 'none'}"])
    project = Project.create(folder, name=DEMO_NAME)
    try:
        result = yield from populate_demo(project, n_scenes, seed, labelled_fraction, train, train_args, n_scenes_3d,
                                          questions_per_scene, questions_per_scene_3d, outliers, variant)
    finally:
        project.close()
    result.seconds = time.perf_counter() - t0
    return result


def populate_demo(project: Project, n_scenes: int = DEMO_SCENES, seed: int = 0, labelled_fraction: float = 1.0,
                  train: bool = False, train_args=None, n_scenes_3d: int = 0,
                  questions_per_scene: int = DEMO_QUESTIONS_PER_SCENE,
                  questions_per_scene_3d: int = DEMO_QUESTIONS_PER_SCENE_3D, outliers: float = 0.0,
                  variant: str = "demo") -> Generator[Progress, None, DemoResult]:
    """Draw the demo's scenes into an open, empty project, import them (one transaction) and, with
    ``train``, train its first model (:func:`first_model_args` unless ``train_args``).

    ``outliers``: the share of 2D training questions made unanswerable or mislabelled; ``variant``: the 2D
    generator's style (``demo`` or ``shifted``: a second labelled set unlike the demo)."""
    check_options(outliers, variant)
    t0 = time.perf_counter()
    result = DemoResult(project.folder, True, n_scenes=n_scenes)
    yield Progress("generating", 0, n_scenes, f"drawing {n_scenes} scenes")
    records = list(shapes2d_records(project.media_dir / "shapes2d", n_scenes, seed, labelled_fraction,
                                    questions_per_scene=questions_per_scene, outliers=outliers, style=variant))
    scenes3d: list = []
    if n_scenes_3d:
        yield Progress("generating", n_scenes, n_scenes, f"sampling {n_scenes_3d} 3D scenes")
        records += list(scenes3d_records(project.media_dir / "scenes3d", n_scenes_3d, seed, labelled_fraction,
                                         scenes_out=scenes3d, questions_per_scene=questions_per_scene_3d))
    yield Progress("generating", n_scenes, n_scenes, f"{len(records)} questions")
    report = yield from project.import_records(records)
    if scenes3d:
        yield Progress("cuboids", 0, len(scenes3d), "ground-truth cuboids of the 3D scenes")
        cuboids.add_demo_scenes(project, scenes3d)
    result.n_questions = report.questions_added
    n_hidden = sum(1 for r in records if r.answer is None)
    result.steps.append(f"generated {n_scenes} 2D scenes and {n_scenes_3d} 3D scenes with "
                        f"{report.questions_added} questions (seed {seed}); {n_hidden} training questions left for review")
    n_out = sum(1 for r in records if r.question_meta.get("outlier"))
    if variant != "demo" or outliers:
        result.steps.append(f"2D style {variant}; {n_out} questions made unanswerable or mislabelled "
                            f"(marked 'outlier' in their metadata)")
    yield Progress("imported", 1, 1, f"{report.questions_added} questions imported")
    if train:
        from .train.pipeline import run_training

        outcome = yield from run_training(project, train_args or first_model_args())
        result.steps.append(outcome.summary().replace("\n", "\n    "))
        result.version = outcome.version
    result.seconds = time.perf_counter() - t0
    return result
