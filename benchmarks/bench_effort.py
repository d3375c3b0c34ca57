"""Human actions to a 98%-correct pool on the demo data with 10% injected outliers.

    python benchmarks/bench_effort.py [--scenes 300] [--questions 10] [--outliers 0.1] [--target 0.98]
                                      [--retrain-every 200] [--from-scratch] [--only full --only bald ...]
                                      [--out DIR]

Builds a demo project (seeded) whose training questions are all labelled, a share ``--outliers`` of
them made unanswerable or mislabelled (``vqa-studio demo --outliers``; val and test stay clean), and
replays annotation on it with the answers hidden (the ``simulate --effort`` core, ``core.effort``):
the full loop (error-hunting queue drawn as a diverse batch, auto-accept with a Clopper-Pearson
guarantee and 2% audits, likely outliers kept out of retraining), plain BALD without outlier
handling, random order and file order, all retraining every ``--retrain-every`` reviews. It prints
each one's actions and the goal checks: the full loop at most 40% of reviewing every item, and fewer
actions than plain BALD; and writes ``effort.csv`` and ``effort.png`` (pool accuracy against human
actions) to ``--out``.

The first model starts from the demo's shipped checkpoint (``resources/models/demo_pretrained.pt``:
trained on the same generator with another seed), as the demo's own first model does; with
``--from-scratch`` it starts from random weights (then the model is weak at these sizes and every
order needs most of the pool reviewed). On one core of the shared 2-core VM a strategy takes 2-4
minutes at the default size.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vqa_studio.cli import drive  # noqa: E402
from vqa_studio.core.demo import build_demo  # noqa: E402
from vqa_studio.core.effort import LABELS, EffortConfig  # noqa: E402
from vqa_studio.core.effort_report import COMPARE_ORDER, compare, data_marks, plot, result_lines, write_csv  # noqa: E402
from vqa_studio.core.paths import demo_checkpoint  # noqa: E402
from vqa_studio.core.project import Project  # noqa: E402
from vqa_studio.core.train.config import TrainingArgs  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", type=int, default=300)
    ap.add_argument("--questions", type=int, default=10, help="questions per scene")
    ap.add_argument("--outliers", type=float, default=0.1)
    ap.add_argument("--target", type=float, default=0.98)
    ap.add_argument("--retrain-every", type=int, default=200)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--from-scratch", action="store_true", help="the first model from random weights")
    ap.add_argument("--only", action="append", choices=list(COMPARE_ORDER), help="run only these orders")
    ap.add_argument("--out", type=Path, default=Path("bench_out"))
    args = ap.parse_args()
    init = None if args.from_scratch else demo_checkpoint()
    if not args.from_scratch and init is None:
        raise SystemExit("the demo checkpoint is not shipped here; use --from-scratch")
    folder = Path(tempfile.mkdtemp(prefix="vqa-bench-effort-")) / "demo"
    t = time.perf_counter()
    drive(build_demo(folder, n_scenes=args.scenes, seed=args.seed, questions_per_scene=args.questions,
                     outliers=args.outliers), quiet=True)
    project = Project.open(folder)
    outliers, truths = data_marks(project)
    cfg = EffortConfig(target=args.target, retrain_every=args.retrain_every, seed=args.seed, epochs=args.epochs,
                       init_from=str(init) if init else None,
                       train=TrainingArgs(epochs=args.epochs, patience=100, batch_size=64, seed=args.seed))
    n_pool = sum(1 for r in project.export_rows(["train"]))
    print(f"bench_effort: demo {args.scenes} scenes x {args.questions} questions, pool {n_pool} training questions, "
          f"{len(outliers)} injected outliers ({len(truths)} mislabelled, {len(outliers) - len(truths)} unanswerable); "
          f"target {args.target * 100:g}% of the pool right; retraining every {args.retrain_every} reviews; first model "
          f"{'from the demo checkpoint' if init else 'from scratch'} ({time.perf_counter() - t:.0f} s to build)",
          flush=True)
    results = drive(compare(project, cfg, args.only or list(COMPARE_ORDER), outliers=outliers, truths=truths),
                    quiet=True)
    project.close()
    for line in result_lines(results):
        print(line)
    for r in results:
        if r.strategy == LABELS["full"]:
            print(f"  full loop kept {r.flagged_outliers} reviewed questions out of retraining as likely outliers; "
                  f"{r.flagged_true} of them are injected outliers")
    by = {r.strategy: r for r in results}
    full, bald = by.get(LABELS["full"]), by.get(LABELS["bald"])
    if full is not None:
        ok = full.reached and full.share <= 0.40
        print(f"goal: full loop at most 40% of reviewing every item: {full.share * 100:.1f}% "
              f"[{'OK' if ok else 'MISSED'}]")
        if bald is not None:
            ok = full.reached and (not bald.reached or full.actions < bald.actions)
            print(f"goal: fewer actions than plain BALD: {full.actions:,} vs {bald.actions:,} "
                  f"(ratio {full.actions / max(1, bald.actions):.2f}) [{'OK' if ok else 'MISSED'}]")
    args.out.mkdir(parents=True, exist_ok=True)
    csv_path = write_csv(args.out / "effort.csv", results)
    png = plot(results, args.out / "effort.png")
    print(f"wrote {csv_path} and {png}")


if __name__ == "__main__":
    main()
