"""Distributed training benchmark: 1 vs N processes on the CPU (gloo), the same data, steps and effective batch.

    python benchmarks/bench_ddp.py [--scenes 300] [--epochs 6] [--nproc 2] [--batch-size 64] [--workdir DIR]

Builds a demo project (every training question labelled), copies it once per run and trains it with
``run_training`` (``TrainingArgs(nproc=1)`` in this process with 1 thread and with a thread per core, ``nproc=N`` through
:mod:`vqa_studio.core.train.distributed`: N spawned ranks, DDP over gloo). Prints for each run the torch
threads of each process, training questions/s (every question of every epoch, over rank 0's training
seconds), the whole run's seconds (process start-up, calibration, scoring and registering included)
and the final test and validation accuracy. On a machine with few cores the processes share them
(the threads of each are the cores / N), so expect little speed-up there: the point is the same
accuracy from the same steps; the speed-up comes with more cores or one GPU per process.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vqa_studio.core.demo import build_demo  # noqa: E402
from vqa_studio.core.driver import drive  # noqa: E402
from vqa_studio.core.project import Project  # noqa: E402
from vqa_studio.core.train.config import TrainingArgs  # noqa: E402
from vqa_studio.core.train.pipeline import run_training  # noqa: E402


def one_run(source: Path, folder: Path, nproc: int, threads: int, args) -> dict:
    shutil.copytree(source, folder)
    targs = TrainingArgs(epochs=args.epochs, batch_size=args.batch_size, mc_samples=4, amp="off", device="cpu",
                         seed=0, threads=threads, patience=100, nproc=nproc)
    t = time.perf_counter()
    with Project.open(folder) as project:
        outcome = drive(run_training(project, targs))
        n_models = len(project.models())
    total = time.perf_counter() - t
    questions = sum(c["questions"] for c in outcome.curves)
    train_s = outcome.curves[-1]["seconds"]
    return {"nproc": nproc, "threads": threads, "questions": questions, "train_s": train_s,
            "qps": questions / train_s, "total_s": total, "test": outcome.metrics["test_accuracy"],
            "val": outcome.curves[-1]["val_accuracy"], "models": n_models}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", type=int, default=300)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--nproc", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench-ddp-"))
    source = work / "source"
    if not source.exists():
        Project.run(build_demo(source, n_scenes=args.scenes, seed=3, labelled_fraction=1.0, questions_per_scene=5))
    print(f"demo: {args.scenes} scenes, 5 questions each, every training question labelled; {args.epochs} epochs, "
          f"effective batch {args.batch_size}; {cores} CPU cores on this machine")
    rows = []
    # one process with one thread and with every core's thread (several OpenMP threads on a busy machine
    # can be slower than one), then N processes sharing the cores
    plans = [(1, 1)] + ([(1, cores)] if cores > 1 else []) + [(args.nproc, max(1, cores // args.nproc))]
    for nproc, threads in plans:
        r = one_run(source, work / f"run-{nproc}-{threads}", nproc, threads, args)
        rows.append(r)
        print(f"  {nproc} process{'es' if nproc > 1 else ''} x {threads} torch thread{'s' if threads > 1 else ''}: "
              f"{r['qps']:.0f} questions/s training ({r['questions']} in {r['train_s']:.1f} s), "
              f"whole run {r['total_s']:.1f} s, test accuracy {r['test'] * 100:.1f}%, "
              f"val accuracy {r['val'] * 100:.1f}%, models registered {r['models']}")
    a, b = max(rows[:-1], key=lambda r: r["qps"]), rows[-1]
    print(f"speed-up {b['qps'] / a['qps']:.2f}x questions/s with {b['nproc']} processes over the faster single "
          f"process ({a['threads']} thread{'s' if a['threads'] > 1 else ''}); "
          f"test accuracy {a['test'] * 100:.1f}% vs {b['test'] * 100:.1f}% "
          f"(difference {abs(a['test'] - b['test']) * 100:.1f} points)")
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
