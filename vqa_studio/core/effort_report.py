"""Running the effort replay for several queue orders, and writing what it found (CSV, PNG, lines).

``compare`` replays each strategy of :mod:`.effort` on the same project (one snapshot, one decoded
media cache); the CSV has one row per human action of each strategy (``strategy,actions,accuracy``),
the plot the pool's accuracy against human actions, with the target as a line.
"""
from __future__ import annotations

import csv
from collections.abc import Generator, Sequence
from dataclasses import replace
from pathlib import Path

from .data.dataset import MediaTensors, Snapshot
from .effort import LABELS, STRATEGIES, EffortConfig, pool_of, simulate_effort
from .effort_ledger import EffortResult
from .types import Progress

#: the order the comparison runs and prints in: the product's loop last, so its line is the last line
COMPARE_ORDER = ("file", "random", "bald", "full")


def data_marks(project) -> tuple[dict[int, bool], dict[int, str]]:
    """What the data says about its training questions (``demo --outliers``): question id -> True for
    the injected outliers, and question id -> the right answer of a mislabelled one (a careful
    annotator gives it, not the stored label)."""
    outliers: dict[int, bool] = {}
    truths: dict[int, str] = {}
    for r in project.export_rows(["train"]):
        if r.question_meta.get("outlier"):
            outliers[int(r.question_id)] = True
        if r.question_meta.get("outlier_true_answer") is not None:
            truths[int(r.question_id)] = str(r.question_meta["outlier_true_answer"])
    return outliers, truths


def compare(project, cfg: EffortConfig, strategies: Sequence[str] = COMPARE_ORDER, *,
            snapshot: Snapshot | None = None, outliers: dict[int, bool] | None = None,
            truths: dict[int, str] | None = None) -> Generator[Progress, None, list[EffortResult]]:
    """One replay per strategy (everything else as ``cfg``), in the order given; ``outliers`` and
    ``truths`` as :func:`data_marks` returns them."""
    unknown = [s for s in strategies if s not in STRATEGIES]
    if unknown:
        raise ValueError(f"unknown effort strategy {', '.join(unknown)} (known: {', '.join(STRATEGIES)})")
    snapshot = snapshot or Snapshot.load(project)
    pool_of(snapshot, cfg.kind, cfg.seed)  # a clear message before any work
    media = MediaTensors(snapshot, cfg.train.image_size, cfg.train.cloud_points, project.folder / "cache" / "media")
    out = []
    for name in strategies:
        res = yield from simulate_effort(project, replace(cfg, strategy=name), snapshot=snapshot, media=media,
                                         outliers=outliers, truths=truths)
        out.append(res)
    return out


def result_lines(results: Sequence[EffortResult]) -> list[str]:
    """Two lines a strategy: its name and details, then ``human actions: N (P% of reviewing every item)``;
    the product's loop (if present) comes last."""
    ordered = sorted(results, key=lambda r: r.strategy == LABELS["full"])
    lines = []
    for r in ordered:
        lines.append(f"{r.strategy}: {r.details()} ({r.seconds:.0f} s)")
        lines.append(f"  {r.strategy}: {r.line()}" if r.strategy != LABELS["full"] else r.line())
    return lines


def write_csv(path: Path, results: Sequence[EffortResult]) -> Path:
    """Rows ``strategy,actions,accuracy``: the pool's accuracy after each action and each retraining."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["strategy", "actions", "accuracy"])
        for r in results:
            w.writerows((r.strategy, n, f"{acc:.6f}") for n, acc in r.curve)
    return path


def plot(results: Sequence[EffortResult], png_path: Path) -> Path:
    """Pool accuracy (%) against human actions, one line a strategy (its accuracy after each number of
    actions), the target as a line."""
    from .plotting import line_chart

    series = {}
    for r in results:
        last = {}  # the pool's accuracy after each number of actions (new proposals come between actions)
        for n, acc in r.curve:
            last[n] = acc
        series[r.strategy] = ([float(n) for n in last], [acc * 100 for acc in last.values()])
    target = results[0].target if results else 0.98
    return line_chart(Path(png_path), series, title="Effort: pool accuracy vs human actions", xlabel="human actions",
                      ylabel="pool accuracy (%)", hline=(target * 100, f"target {target * 100:g}%"))
