"""Accuracy of the text-QA plugin's Dynamic Memory Network per task, on held-out generated stories.

    .venv/bin/python plugins/vqa-studio-textqa/benchmarks/bench_textqa.py [--stories 4000] [--epochs 15]

Generates ``--stories`` bAbI-style stories (the four tasks in turn; 10% val, 20% test, seeded),
imports them into a fresh project with ``--format babi`` and trains through the app's own training
run (``run_training``: the same call Model > Train and ``vqa-studio train`` make). Prints, per task,
the accuracy on the test split next to the baseline of always giving the task's most common training
answer, and the share of attention the supporting sentences get (in the episode that gives them most)
against their share under uniform attention.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stories", type=int, default=4000)
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--ensemble", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest for this small model)")
    a = ap.parse_args(argv)

    import torch

    torch.set_num_threads(a.threads)
    from vqa_studio.core.driver import drive
    from vqa_studio.core.formats.transfer import import_generator
    from vqa_studio.core.project import Project
    from vqa_studio.core.train.config import TrainingArgs
    from vqa_studio.core.train.pipeline import run_training
    from vqa_studio.plugins import load_plugins
    from vqa_studio_textqa.babi import TASKS
    from vqa_studio_textqa.generate import write_stories

    load_plugins()
    with tempfile.TemporaryDirectory(prefix="bench-textqa-") as tmp:
        tmp = Path(tmp)
        write_stories(tmp / "stories", a.stories, seed=a.seed, val=0.1, test=0.2)
        p = Project.create(tmp / "p", name="bench-textqa")
        try:
            drive(import_generator(p, "babi", {"input": str(tmp / "stories")}))
            t0 = time.perf_counter()
            outcome = drive(run_training(p, TrainingArgs(epochs=a.epochs, ensemble=a.ensemble, seed=a.seed,
                                                         mc_samples=8)))
            seconds = time.perf_counter() - t0
            rows = list(p.export_rows())
            preds = p.predictions([r.question_id for r in rows])
            _report(rows, preds, outcome, seconds, a, TASKS)
        finally:
            p.close()
    return 0


def _report(rows, preds, outcome, seconds, a, tasks) -> None:
    common = {t: Counter(r.answer for r in rows if r.split == "train" and r.question_type == t).most_common(1)[0][0]
              for t in tasks}
    acc, base, hit, chance = defaultdict(list), defaultdict(list), defaultdict(list), defaultdict(list)
    for r in rows:
        if r.split != "test":
            continue
        pred = preds[r.question_id]
        acc[r.question_type].append(pred.answer == r.answer)
        base[r.question_type].append(common[r.question_type] == r.answer)
        story = json.loads(r.media_path.read_text())
        support = story["questions"][0].get("supporting") or []
        att = np.asarray(pred.attention, np.float32)
        # each episode's attention is a softmax over the sentences: the share the supporting sentences
        # get in the episode that gives them most, against their share under uniform attention
        support = sorted({k for k in support if k < att.shape[1]})
        if support:
            hit[r.question_type].append(float(att[:, support].sum(1).max()))
            chance[r.question_type].append(len(support) / att.shape[1])
    n_train = sum(r.split == "train" for r in rows)
    print(f"text-QA DMN: {a.stories} generated stories ({n_train} train), {a.epochs} epochs, "
          f"ensemble {a.ensemble}, trained + scored in {seconds:.1f} s ({outcome.version})")
    print(f"{'task':<12} {'n':>5} {'accuracy':>9} {'baseline':>9} {'ratio':>6} {'attention on support':>21} {'uniform':>8}")
    for t in tasks:
        ac, bs = float(np.mean(acc[t])), float(np.mean(base[t]))
        print(f"{t:<12} {len(acc[t]):>5} {ac * 100:>8.1f}% {bs * 100:>8.1f}% {ac / max(bs, 1e-9):>5.2f}x "
              f"{np.mean(hit[t]) * 100:>20.1f}% {np.mean(chance[t]) * 100:>7.1f}%")
    every = [x for t in tasks for x in acc[t]]
    every_base = [x for t in tasks for x in base[t]]
    print(f"{'all':<12} {len(every):>5} {np.mean(every) * 100:>8.1f}% {np.mean(every_base) * 100:>8.1f}% "
          f"{np.mean(every) / max(np.mean(every_base), 1e-9):>5.2f}x")


if __name__ == "__main__":
    raise SystemExit(main())
