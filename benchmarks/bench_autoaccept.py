"""Auto-accept with a guarantee: precision of the auto-accepted answers on held-out data.

    python benchmarks/bench_autoaccept.py [--scenes 600] [--time-limit 60] [--target 0.99] [--delta 0.05]
                                          [--runs 10] [--out DIR]

Builds a demo project with every question labelled (``build_demo``), trains its first model the way
the demo does (from the shipped checkpoint, fine-tuned for ``--time-limit`` seconds) on the training
split, and takes the labelled questions of the validation and test splits, which it did not train
on, as held-out data. Each of ``--runs`` seeded runs splits them at random into a calibration half
and an evaluation half, picks the auto-accept threshold on the calibration half exactly as the
product does (``AutoAcceptData.guarantee``: the lowest threshold whose one-sided Clopper-Pearson
lower bound on the precision is at least the target), and measures on the evaluation half the
precision and coverage of what that threshold accepts (an answer counts as right only with VQA
accuracy 1). Each run prints the threshold, the bound, the evaluation precision and coverage, and
whether the precision is at or above the target; the point-estimate threshold (the lowest whose
observed calibration precision reaches the target) and the lowest threshold whose bound reaches the
target without the joint (Bonferroni) test are printed beside it for comparison.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from vqa_studio.cli_progress import drive  # noqa: E402
from vqa_studio.core.active.guarantee import precision_threshold  # noqa: E402
from vqa_studio.core.data.vocab import vqa_accuracy  # noqa: E402
from vqa_studio.core.demo import build_demo, first_model_args  # noqa: E402
from vqa_studio.core.project import Project  # noqa: E402


def held_out(project) -> tuple[np.ndarray, np.ndarray]:
    """(confidence, right) of the active model on the labelled val and test questions."""
    from vqa_studio.core.types import QueueFilter, Status

    ids = project.queue_ids(order_by="id", filters=QueueFilter(splits=["val", "test"], statuses=[Status.LABELLED]))
    preds = project.predictions(ids)
    questions = project.questions(ids)
    conf, right = [], []
    for q in ids:
        p = preds.get(q)
        if p is None or not p.answers:
            continue
        answers = [a["answer"] for a in project.imported_answers(q)] or [questions[q].answer]
        conf.append(float(p.probs[0]))
        right.append(vqa_accuracy(p.answers[0], answers) >= 1.0 - 1e-9)
    return np.asarray(conf), np.asarray(right)


def evaluate(conf, right, t) -> tuple[float, float, int]:
    sel = conf >= t
    n = int(sel.sum())
    return (float(right[sel].mean()) if n else float("nan")), float(sel.mean()), n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenes", type=int, default=600)
    ap.add_argument("--questions", type=int, default=20, help="questions per scene")
    ap.add_argument("--time-limit", type=float, default=60.0, help="seconds of fine-tuning of the first model")
    ap.add_argument("--target", type=float, default=0.99)
    ap.add_argument("--delta", type=float, default=0.05)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--out", type=Path, help="project folder (default: a temporary one)")
    args = ap.parse_args()
    tmp = None
    folder = args.out
    if folder is None:
        tmp = tempfile.TemporaryDirectory()
        folder = Path(tmp.name) / "demo"
    t0 = time.perf_counter()
    made = drive(build_demo(folder, n_scenes=args.scenes, seed=7, labelled_fraction=1.0, train=True,
                     questions_per_scene=args.questions, train_args=first_model_args(time_limit_s=args.time_limit)),
          quiet=True)
    with Project.open(folder) as project:
        conf, right = held_out(project)
        info = project.model(project.active_model)
    how = f"built and trained in {time.perf_counter() - t0:.0f} s" if made.created else f"reused from {folder}"
    print(f"demo: {args.scenes} scenes x {args.questions} questions, model {info.version} {how} (test accuracy {info.metrics.get('test_accuracy', float('nan')) * 100:.2f}%)")
    print(f"held-out: {len(conf):,} labelled val + test questions, {right.mean() * 100:.2f}% answered right; "
          f"target precision {args.target:g}, bound at {(1 - args.delta) * 100:g}% confidence")
    print(f"{'run':>3} {'threshold':>9} {'bound':>7} {'cal prec':>8} | {'eval prec':>9} {'coverage':>8} "
          f"{'accepted':>8} {'>= target':>9} | {'point thr':>9} {'its eval prec':>13} | {'lowest thr':>10} "
          f"{'its eval prec':>13}")
    ok = point_ok = lowest_ok = 0
    for run in range(args.runs):
        rng = np.random.default_rng(run)
        cal = rng.random(len(conf)) < 0.5
        th = precision_threshold(conf[cal], right[cal], args.target, args.delta)
        prec, cov, n = evaluate(conf[~cal], right[~cal], th.threshold) if th.found else (float("nan"), 0.0, 0)
        p_prec, _p_cov, _ = evaluate(conf[~cal], right[~cal], th.point_threshold)
        low = precision_threshold(conf[cal], right[cal], args.target, args.delta, mode="lowest")
        l_prec = evaluate(conf[~cal], right[~cal], low.threshold)[0]
        point_ok += p_prec >= args.target
        lowest_ok += l_prec >= args.target
        good = n == 0 or prec >= args.target
        ok += good
        thr = f"{th.threshold:9.4f}" if th.found else f"{'none':>9}"
        print(f"{run:>3} {thr} {th.lower_bound * 100:6.2f}% {th.precision * 100:7.2f}% | {prec * 100:8.2f}% "
              f"{cov * 100:7.1f}% {n:>8} {'yes' if good else 'NO':>9} | {th.point_threshold:9.4f} {p_prec * 100:12.2f}% "
              f"| {low.threshold:10.4f} {l_prec * 100:12.2f}%")
    print(f"auto-accept precision >= {args.target:g} on the evaluation half in {ok} of {args.runs} runs "
          f"(point-estimate threshold: {point_ok} of {args.runs}; lowest threshold whose bound reaches the target, "
          f"without the joint test: {lowest_ok} of {args.runs})")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
