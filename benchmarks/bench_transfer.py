"""Transfer benchmark: labels needed on a new 2D distribution, from scratch vs ``--init-from`` a demo model.

    python benchmarks/bench_transfer.py [--init-from vqa_studio/resources/models/demo_pretrained.pt] [--work DIR]
        [--scenes 3000] [--questions 20] [--labels 500,1000,2000,5000] [--by questions|images]
        [--steps 1500 | --epochs E] [--threads N] [--device auto] [--amp off] [--plot PATH] [--quick]

The data: the 2D shapes generator in its ``SHIFTED`` style (``vqa_studio.core.synth.shapes2d_style``:
star / hexagon / ring besides square / triangle, black / white / pink besides four demo colours, a
1.5x instead of 5/3 size ratio, a cool grey background, every question family reworded), so a model
trained on the demo knows the concepts (colour, shape, size, counting, left / right) and some words
and answers, but not all. ``--scenes`` scenes x ``--questions`` questions, seed 2026 (neither the
demo's 0 nor the demo checkpoint's 1001), every answer known; splits train 75% / val 5% / test 20%
of the scenes (3,000 scenes: 2,250 / 150 / 600, so 45,000 / 3,000 / 12,000 questions). The val and
test splits are the same for every run; val picks the best epoch and fits the temperature.

The labels: for each N in ``--labels``, N training questions drawn with a fixed seed. ``--by
questions`` (the default) samples single questions over all training images (an annotator answering
a queue); ``--by images`` takes whole images (all their questions) until N. The samples are nested
(the 500 are among the 1,000, ...), so the curve is not noise between draws. Each N gets its own
project in ``--work`` holding only its N labelled training questions and the val / test splits (no
unlabelled pool, so nothing else is scored); the images are written once and shared.

The runs: in each project, (a) from scratch and (b) ``TrainingArgs(init_from=PATH)`` (every tensor
of the model file that fits by name and shape, word and answer rows matched by text), with the same
``TrainingArgs`` otherwise: the defaults (the model the demo trains), ``patience`` off, fp32 unless
``--amp``, and the same budget: ``--epochs`` E, or ``--steps`` S optimizer steps turned into epochs for N
(``round(S / ceil(N / batch_size))``, at least 1: batches of 256 questions), so every run at every N
gets about S steps. Each is ``run_training(project, args)`` driven by ``core.driver.drive``, through
the project's real import and training path.

Printed: a table (labels, scratch test accuracy, init-from test accuracy, epochs, seconds), then
``labels with --init-from to reach the from-scratch accuracy at 5000: <n> (goal <= 1700)``,
interpolated on the init-from curve linearly in log(labels). The plot (``transfer.png`` in
``--work`` unless ``--plot``) and ``results.json`` are saved. Not run in CI: minutes to an hour.
``--quick`` is a smoke run (200 scenes x 10 questions, labels 200 and 500, 1 epoch).
"""
from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from vqa_studio.core import demo  # noqa: E402
from vqa_studio.core.driver import drive  # noqa: E402
from vqa_studio.core.formats.base import Record, RecordAnswer  # noqa: E402
from vqa_studio.core.project import Project  # noqa: E402
from vqa_studio.core.synth import shapes2d  # noqa: E402
from vqa_studio.core.synth.shapes2d import SHIFTED  # noqa: E402
from vqa_studio.core.train.config import TrainingArgs  # noqa: E402
from vqa_studio.core.train.pipeline import run_training  # noqa: E402

DATA_SEED = 2026  # the demo draws seed 0, its checkpoint seed 1001
LABEL_SEED = 7
SPLITS = (("train", 0.75), ("val", 0.05), ("test", 0.2))
GOAL_LABELS = 1700
DEFAULT_INIT = ROOT / "vqa_studio" / "resources" / "models" / "demo_pretrained.pt"  # scripts/build_demo_checkpoint.py


def load() -> str:
    return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def has_init_from() -> bool:
    return "init_from" in {f.name for f in dataclasses.fields(TrainingArgs)}


# --- data ---------------------------------------------------------------------------------------------

def make_records(folder: Path, n_scenes: int, questions: int) -> list[Record]:
    """Write the shifted images into ``folder``; one Record per question, every answer given.

    Through ``core.demo.shapes2d_records`` (the demo's record maker) once it passes ``style`` and
    ``splits`` on to ``shapes2d.write_dataset``; until then the same records are made here from
    ``shapes2d.write_dataset(..., style=SHIFTED)``.
    """
    params = inspect.signature(demo.shapes2d_records).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()) or {"style", "splits"} <= set(params):
        return list(demo.shapes2d_records(folder, n_scenes, DATA_SEED, 1.0, questions_per_scene=questions,
                                          style=SHIFTED, splits=SPLITS))
    out = []
    for path, scene in shapes2d.write_dataset(folder, n_scenes, seed=DATA_SEED, questions_per_scene=questions,
                                              splits=SPLITS, style=SHIFTED):
        for k, qa in enumerate(scene.questions):
            out.append(Record(
                media_path=Path(path).resolve(), question=qa.question, split=scene.split,
                answers=(RecordAnswer(qa.answer),), answer=qa.answer,
                question_id=str(scene.index * 100 + k), media_id=str(scene.index), answer_type=qa.answer_type,
                question_meta={"family": qa.family, "generator": "shapes2d", "style": SHIFTED.name},
                where=f"scene {scene.index} question {k}", source="shapes2d-shifted"))
    return out


def label_order(train: list[Record], by: str) -> list[Record]:
    """The training questions in the (seeded) order they get labelled: the first N are the N labels."""
    rng = np.random.default_rng(LABEL_SEED)
    if by == "questions":
        return [train[i] for i in rng.permutation(len(train)).tolist()]
    images: dict[str, list[Record]] = {}
    for r in train:
        images.setdefault(r.media_id, []).append(r)
    keys = list(images)
    return [r for i in rng.permutation(len(keys)).tolist() for r in images[keys[i]]]


def labelled_subset(ordered: list[Record], n: int, by: str) -> list[Record]:
    if by == "questions":
        return ordered[:n]
    out: list[Record] = []  # whole images until there are at least n questions
    for r in ordered:
        if len(out) >= n and r.media_id != out[-1].media_id:
            break
        out.append(r)
    return out


# --- runs ---------------------------------------------------------------------------------------------

def epochs_for(n: int, opts: argparse.Namespace, batch_size: int) -> int:
    if opts.epochs:
        return opts.epochs
    return max(1, round(opts.steps / math.ceil(n / batch_size)))


def train_once(project: Project, args: TrainingArgs, label: str) -> dict:
    state = {"stage": None}

    def show(p) -> None:
        if p.stage != state["stage"]:
            state["stage"] = p.stage
            print(f"      {label}: {p.stage} {p.message}", flush=True)

    t = time.perf_counter()
    outcome = drive(run_training(project, args), on_progress=show, min_interval=5.0)
    seconds = time.perf_counter() - t
    m = outcome.metrics
    for msg in outcome.messages:
        print(f"      {label}: note: {msg}")
    return {"test_accuracy": m.get("test_accuracy", float("nan")), "by_answer_type": m.get("test_by_answer_type", {}),
            "val_accuracy": m.get("val_accuracy", float("nan")), "seconds": seconds, "version": outcome.version,
            "messages": list(outcome.messages)}


def run_n(n: int, records: list[Record], opts: argparse.Namespace) -> dict:
    """A fresh project with these records; a run from scratch and one from ``--init-from`` in it."""
    folder = opts.work / f"labels_{n}"
    if folder.exists():
        shutil.rmtree(folder)
    project = Project.create(folder, name=f"transfer benchmark, {n} labels")
    try:
        drive(project.import_records(records))
        n_train = sum(r.split == "train" for r in records)
        base = TrainingArgs()
        common = dict(epochs=epochs_for(n_train, opts, base.batch_size), patience=10 ** 6, seed=0,
                      threads=opts.threads, device=opts.device, amp=opts.amp, mc_samples=opts.mc_samples)
        print(f"  {n_train} labels: {common['epochs']} epochs (~{common['epochs'] * math.ceil(n_train / base.batch_size)}"
              f" steps) each; {load()}", flush=True)
        scratch = train_once(project, TrainingArgs(**common), "scratch")
        init = train_once(project, TrainingArgs(**common, init_from=str(opts.init_from)), "init-from")
    finally:
        project.close()
    return {"labels": n_train, "epochs": common["epochs"], "scratch": scratch, "init_from": init}


# --- results ------------------------------------------------------------------------------------------

def labels_to_reach(target: float, points: list[tuple[int, float]]) -> str:
    """Labels where the curve first reaches ``target``, linear in log(labels) between measured points."""
    points = sorted(points)
    if points[0][1] >= target:
        return f"<= {points[0][0]}"
    for (n0, a0), (n1, a1) in zip(points, points[1:]):
        if a1 >= target > a0:
            t = (target - a0) / (a1 - a0)
            return str(round(math.exp(math.log(n0) + t * (math.log(n1) - math.log(n0)))))
    return f"> {points[-1][0]} (not reached)"


def report(results: list[dict], opts: argparse.Namespace) -> None:
    print(f"\n{'labels':>7} {'scratch':>9} {'init-from':>10} {'epochs':>7} {'s scratch':>10} {'s init':>8}")
    for r in results:
        print(f"{r['labels']:>7} {r['scratch']['test_accuracy'] * 100:>8.2f}% {r['init_from']['test_accuracy'] * 100:>9.2f}%"
              f" {r['epochs']:>7} {r['scratch']['seconds']:>10.0f} {r['init_from']['seconds']:>8.0f}")
    last = max(results, key=lambda r: r["labels"])
    target = last["scratch"]["test_accuracy"]
    reach = labels_to_reach(target, [(r["labels"], r["init_from"]["test_accuracy"]) for r in results])
    print(f"labels with --init-from to reach the from-scratch accuracy at {last['labels']}: {reach} "
          f"(goal <= {GOAL_LABELS})")
    from vqa_studio.core.plotting import line_chart

    xs = [r["labels"] for r in results]
    plot = line_chart(opts.plot or opts.work / "transfer.png", {
        "from scratch": (xs, [r["scratch"]["test_accuracy"] * 100 for r in results]),
        "--init-from demo model": (xs, [r["init_from"]["test_accuracy"] * 100 for r in results]),
    }, title="shifted 2D shapes: test accuracy by labels", xlabel="labelled training questions",
        ylabel="test accuracy (%)", hline=(target * 100, f"scratch at {last['labels']}"))
    out = {"init_from": str(opts.init_from), "by": opts.by, "scenes": opts.scenes, "questions": opts.questions,
           "results": results, "labels_to_reach": reach, "goal": GOAL_LABELS}
    (opts.work / "results.json").write_text(json.dumps(out, indent=1, default=str))
    print(f"plot: {plot}\nfigures: {opts.work / 'results.json'}")


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--init-from", type=Path, default=DEFAULT_INIT, help="model file to start from")
    ap.add_argument("--work", type=Path, default=Path("/tmp/vqa-bench-transfer"), help="scratch folder (replaced)")
    ap.add_argument("--scenes", type=int, default=3000)
    ap.add_argument("--questions", type=int, default=20, help="questions per scene")
    ap.add_argument("--labels", default="500,1000,2000,5000", help="comma-separated label counts")
    ap.add_argument("--by", choices=("questions", "images"), default="questions", help="how labels are sampled")
    budget = ap.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=int, default=1500, help="optimizer steps per run (turned into epochs)")
    budget.add_argument("--epochs", type=int, default=None, help="epochs per run (instead of --steps)")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--amp", choices=("off", "auto", "on"), default="off",
                    help="mixed precision (off by default: 'auto' times fp32 vs bf16 on a CPU per run, so the "
                         "scratch and init-from runs could train in different precisions)")
    ap.add_argument("--mc-samples", type=int, default=2, help="MC-dropout samples when scoring after training")
    ap.add_argument("--plot", type=Path, default=None)
    ap.add_argument("--quick", action="store_true", help="smoke run: 200 scenes x 10 questions, labels 200,500, 1 epoch")
    opts = ap.parse_args(argv)
    if opts.quick:
        opts.scenes, opts.questions, opts.labels, opts.epochs = 200, 10, "200,500", 1
    opts.label_counts = sorted({int(x) for x in opts.labels.split(",") if x.strip()})
    opts.init_from = opts.init_from.expanduser().resolve()
    return opts


def main(argv: list[str] | None = None) -> int:
    opts = parse(argv)
    if not has_init_from():
        print("bench_transfer: TrainingArgs has no init_from field yet (vqa_studio/core/train/config.py); "
              "the --init-from runs need TrainingArgs(init_from=PATH) in the training pipeline. Nothing was run.")
        return 2
    if not opts.init_from.is_file():
        print(f"bench_transfer: model file {opts.init_from} not found; build the demo checkpoint with "
              "`python scripts/build_demo_checkpoint.py` or give --init-from PATH. Nothing was run.")
        return 2
    if opts.work.exists():
        shutil.rmtree(opts.work)
    opts.work.mkdir(parents=True)
    t = time.perf_counter()
    records = make_records(opts.work / "images", opts.scenes, opts.questions)
    train = [r for r in records if r.split == "train"]
    fixed = [r for r in records if r.split != "train"]
    print(f"shifted 2D set: {opts.scenes} scenes, {len(records)} questions ({len(train)} train, "
          f"{sum(r.split == 'val' for r in fixed)} val, {sum(r.split == 'test' for r in fixed)} test) in "
          f"{time.perf_counter() - t:.0f} s; labels sampled by {opts.by}; init from {opts.init_from}")
    too_many = [n for n in opts.label_counts if n > len(train)]
    if too_many:
        raise SystemExit(f"only {len(train)} training questions: cannot label {too_many}")
    ordered = label_order(train, opts.by)
    results = [run_n(n, labelled_subset(ordered, n, opts.by) + fixed, opts) for n in opts.label_counts]
    report(results, opts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
