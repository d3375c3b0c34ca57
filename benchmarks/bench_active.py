"""Active learning on two labelled sets: labels needed to reach 90% of the full-data accuracy.

    python benchmarks/bench_active.py [--small] [--set demo --set shifted] [--scenes 1000] [--questions 20]
                                      [--initial 250] [--batch 250] [--rounds 0] [--full-epochs 24]
                                      [--init-from MODEL.pt | --scratch]
                                      [--only random --only bald:cluster ... | --all] [--resume] [--out DIR]

The sets: the demo, and the demo's generator in its shifted style (other shapes, colours, sizes,
background and wordings; ``vqa-studio demo --variant shifted``), each in ``--out/<set>``; the last
lines are a table with both sets' best strategy against random. The demo set starts from scratch
(the shipped checkpoint was trained on the demo's generator: it would start at the target); the
shifted set starts from the shipped demo checkpoint (``--init-from``, default
``vqa_studio/resources/models/demo_pretrained.pt``), as a user's new set starts in the product, its
full-data reference too (``--scratch``: both from scratch). ``--small`` is a size for a quick look
(300 scenes x 10 questions; the curves are flat and noisy there, see README). The strategies with
``:power`` draw their batches by stochastic power sampling, those with ``:cluster`` by
score-weighted k-means++ in the model's embedding space (diverse batches), instead of the top
scores.

Runs the `simulate` core (the same as `vqa-studio simulate`) for the strategies of ``--only``
(default: random, variation ratio, power BALD, cluster BALD; ``--all`` adds entropy, top BALD, the
deep ensemble, BALD with full-scope MC-dropout and the other diverse variants); prints
labels-to-target per strategy and the ratio of the best uncertainty strategy to random (goal: at
most 0.5), and writes a CSV and a PNG plot per set.

The full-data accuracy is the model trained on every label of the pool for at least
``--full-epochs`` epochs and at least as many optimizer steps as a warm-started run through the whole
pool gets in all its rounds (annealed; the best validation epoch kept; of ``--full-seeds`` trainings
the best on validation), so the 90% line is what the labels can give, not a low bar under what the
rounds' models reach (a 12-epoch reference was: 43.8% on the shifted set, where random had 45.2%
with 400 labels). A curve above the reference is printed as a note. Each strategy runs until it
reaches the target or the pool is used up (``--rounds 0``). On one core of a 2-core VM at the
default size: each reference 32-36 min (174 epochs of 14,000 questions), random 17 min (shifted)
and 32 min (demo, the whole pool), the others 4-9 min (shifted) and 15-25 min (demo); ``--only``
picks strategies (in the order given), and ``--resume`` lets separate processes, or a later run,
fill in the rest (with every strategy in ``--out`` already, it only prints the summary).
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vqa_studio.cli import drive  # noqa: E402
from vqa_studio.core.simulate import (SimConfig, SimResult, full_data_accuracy, plot_csv, simulate,  # noqa: E402
                                      write_csv)
from vqa_studio.core.data.dataset import MediaTensors, Snapshot  # noqa: E402
from vqa_studio.core.demo import build_demo  # noqa: E402
from vqa_studio.core.paths import demo_checkpoint  # noqa: E402
from vqa_studio.core.project import Project  # noqa: E402
from vqa_studio.core.train.config import TrainingArgs  # noqa: E402

STRATEGIES = [("random", "head", "top"), ("entropy", "head", "top"), ("bald", "head", "top"),
              ("variation_ratio", "head", "top"), ("ensemble", "head", "top"), ("bald", "full", "top"),
              ("bald", "head", "power"), ("variation_ratio", "head", "power"),
              ("bald", "head", "cluster"), ("variation_ratio", "head", "cluster"), ("entropy", "head", "cluster")]
#: the two labelled sets of the table: the demo, and the 2D generator in its shifted style (other
#: shapes, colours, sizes, background and wordings: ``vqa-studio demo --variant shifted``)
SETS = ("demo", "shifted")
#: sets whose runs (and reference) start from ``--init-from``: a new set as a user starts it
PRETRAINED_SETS = ("shifted",)
#: the strategies run without --only / --all: random, the best single-score one, and the two diverse
#: batch selections (power sampling, score-weighted k-means++ in the embedding space)
DEFAULT_ONLY = ("random", "variation_ratio", "bald:power", "bald:cluster")
#: the sizes: values a flag not given on the command line takes
SIZES = {"default": dict(scenes=1000, questions=20, initial=250, batch=250, full_epochs=24),
         "small": dict(scenes=300, questions=10, initial=200, batch=200, full_epochs=12)}


def _key(name: str, scope: str, selection: str) -> str:
    return (name if scope == "head" else f"{name}:{scope}") + (f":{selection}" if selection != "top" else "")


def _load_results(csv_path: Path, full: float) -> dict[str, SimResult]:
    """Curves of strategies already run (``--resume``), from the CSV this script writes."""
    points: dict[str, list[tuple[int, float]]] = {}
    if csv_path.exists():
        with open(csv_path, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                points.setdefault(row["strategy"], []).append((int(row["labels"]), float(row["accuracy"])))
    return {k: SimResult(k, sorted(v), full) for k, v in points.items()}


def _parse() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # None: the size's value (SIZES); a value given on the command line always wins, --small too
    ap.add_argument("--scenes", type=int, default=None, help="scenes per set (default 1000; --small 300)")
    ap.add_argument("--questions", type=int, default=None, help="questions per scene (default 20; --small 10)")
    ap.add_argument("--initial", type=int, default=None, help="random labels to start with (default 250; --small 200)")
    ap.add_argument("--batch", type=int, default=None, help="labels acquired per round (default 250; --small 200)")
    ap.add_argument("--rounds", type=int, default=0,
                    help="rounds at most (default 0: until the pool is used up); a strategy stops at the target")
    ap.add_argument("--epochs", type=int, default=6, help="epochs per round")
    ap.add_argument("--min-steps", type=int, default=150, help="optimizer steps per round at least")
    ap.add_argument("--full-epochs", type=int, default=None,
                    help="epochs of the full-data reference at least (default 24; --small 12); it also gets at "
                         "least the optimizer steps of a warm-started run through the whole pool")
    ap.add_argument("--full-seeds", type=int, default=1, help="full-data trainings; the best on validation counts")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("bench_out"))
    ap.add_argument("--set", action="append", choices=list(SETS), dest="sets",
                    help="the labelled sets to run (default both: demo and shifted), each in --out/<set>")
    ap.add_argument("--small", action="store_true",
                    help="a size for the shared 2-core VM: 300 scenes x 10 questions, 200 initial, batches of 200, "
                         "random / power BALD / cluster BALD")
    ap.add_argument("--init-from", type=Path, default=None,
                    help="the model file the shifted set's runs and its reference start from (default: the demo's "
                         "shipped checkpoint, the product's pretrained start on a new set)")
    ap.add_argument("--scratch", action="store_true", help="every set from scratch (no --init-from)")
    ap.add_argument("--resume", action="store_true",
                    help="keep the reference and the strategies already in --out (same settings), run the rest")
    ap.add_argument("--only", action="append",
                    help="run only these strategies, in this order (default: " + ", ".join(DEFAULT_ONLY) + "): "
                         + ", ".join(_key(*k) for k in STRATEGIES))
    ap.add_argument("--all", action="store_true", help="run every strategy (hours at the default size)")
    args = ap.parse_args()
    if args.init_from is None and not args.scratch and set(args.sets or SETS) & set(PRETRAINED_SETS):
        args.init_from = demo_checkpoint()
        if args.init_from is None:
            raise SystemExit("no shipped demo checkpoint: build it (scripts/build_demo_checkpoint.py), "
                             "give --init-from, or run --scratch")
    if args.init_from is not None and not args.init_from.is_file():
        raise SystemExit(f"--init-from {args.init_from}: no such model file")
    for key, value in SIZES["small" if args.small else "default"].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.all:
        args.only = [_key(*k) for k in STRATEGIES]
    args.only = args.only or list(DEFAULT_ONLY)
    return args


def main() -> None:
    args = _parse()
    by_key = {_key(*k): k for k in STRATEGIES}
    unknown = [k for k in args.only if k not in by_key]
    if unknown:
        raise SystemExit(f"--only: unknown strategy {', '.join(unknown)} (known: {', '.join(by_key)})")
    table = []
    for name in args.sets or list(SETS):
        table.append(_run_set(name, args, by_key))
    print("\nlabels to 90% of the full-data accuracy, best strategy against random:")
    print(f"  {'set':<9} {'start':<12} {'full-data':>9} {'random':>12} {'best strategy':<24} {'labels':>7} {'ratio':>7}")
    for name, start, full, rnd, best, need, ratio in table:
        print(f"  {name:<9} {start:<12} {full * 100:>8.1f}% {rnd:>12} {best:<24} {need:>7} {ratio:>7}")


def _run_set(set_name: str, args, by_key) -> tuple:
    """One labelled set: its reference, each strategy's curve, the summary lines; -> its table row.
    The generated project lives in a temporary folder, removed at the end (the results are in --out)."""
    with tempfile.TemporaryDirectory(prefix="vqa-bench-active-") as work:
        return _run_set_in(Path(work), set_name, args, by_key)


def _run_set_in(work: Path, set_name: str, args, by_key) -> tuple:
    out = args.out / set_name
    # the demo's checkpoint was trained on the demo's generator: on the demo set it would start at the
    # target, so that set always starts from scratch; the shifted set starts as a user's new set does
    init_from = str(args.init_from) if set_name in PRETRAINED_SETS and args.init_from and not args.scratch else None
    settings = {k: getattr(args, k) for k in ("scenes", "questions", "initial", "batch", "rounds", "epochs",
                                              "min_steps", "full_epochs", "full_seeds", "seed")}
    settings["init_from"] = init_from
    out.mkdir(parents=True, exist_ok=True)
    csv_path, ref_path = out / "active.csv", out / "reference.json"
    folder = work / set_name
    drive(build_demo(folder, n_scenes=args.scenes, seed=args.seed, questions_per_scene=args.questions,
                     variant=set_name), quiet=True)  # seeded: the same data every run
    project = Project.open(folder)
    try:
        return _run_project(project, folder, set_name, args, by_key, init_from, settings, csv_path, ref_path, out)
    finally:
        project.close()


def _run_project(project, folder: Path, set_name: str, args, by_key, init_from, settings, csv_path: Path,
                 ref_path: Path, out: Path) -> tuple:
    snapshot = Snapshot.load(project)
    train = TrainingArgs(epochs=args.epochs, patience=1000, seed=args.seed, batch_size=64)
    media = MediaTensors(snapshot, train.image_size, train.cloud_points, folder / "cache" / "media")
    n_pool = len(snapshot.labelled(["train"]))
    rounds = args.rounds or max(1, (n_pool - args.initial) // args.batch)
    base = SimConfig(initial=args.initial, batch=args.batch, rounds=rounds, seed=args.seed, epochs=args.epochs,
                     min_steps=args.min_steps, full_epochs=args.full_epochs, full_seeds=args.full_seeds, train=train,
                     init_from=init_from)
    saved = json.loads(ref_path.read_text()) if args.resume and ref_path.exists() else None
    if saved is not None and saved.get("settings") != settings:
        raise SystemExit(f"--resume: {ref_path} was written with other settings ({saved.get('settings')})")
    t = time.perf_counter()
    if saved is not None:
        full, how = saved["full_accuracy"], f"from {ref_path}"
    else:
        full = drive(full_data_accuracy(project, base, snapshot=snapshot, media=media), quiet=True)
        how = f"{time.perf_counter() - t:.0f} s"
        ref_path.write_text(json.dumps({"settings": settings, "full_accuracy": full}, indent=1))
        if csv_path.exists():
            csv_path.unlink()  # a new reference: earlier curves do not belong with it
    target = 0.9 * full
    start = f"every run starts from {Path(init_from).name}" if init_from else "from scratch"
    print(f"bench_active: {set_name} set, {args.scenes} scenes x {args.questions} questions, pool {n_pool} labelled "
          f"training questions, {start}; full-data accuracy {full * 100:.2f}% ({how}); "
          f"target 90% of it = {target * 100:.2f}%", flush=True)
    done = _load_results(csv_path, full) if saved is not None else {}
    results: dict[str, tuple[SimResult, float | None]] = {}
    for key in args.only:
        name, scope, selection = by_key[key]
        label = SimConfig(strategy=name, scope=scope, selection=selection).label()
        res = done.get(label)
        if res is None:
            cfg = SimConfig(**{**base.__dict__, "strategy": name, "scope": scope, "selection": selection,
                               "stop_at": target})
            res = drive(simulate(project, cfg, snapshot=snapshot, media=media, full_accuracy=full), quiet=True)
            write_csv(csv_path, [res])  # after each strategy: a long run can be resumed
            took = f"{res.seconds:.0f} s"
        else:
            took = "resumed"
        need = res.labels_to_reach(target)
        results[res.strategy] = (res, need)
        pts = " ".join(f"{n}:{a * 100:.1f}" for n, a in res.points)
        print(f"  {res.strategy:<22} labels to target: {('%.0f' % need) if need else 'not reached':>11}   "
              f"curve {pts}   ({took})", flush=True)
    above = [(k, max(a for _, a in r.points)) for k, (r, _) in results.items() if max(a for _, a in r.points) > full]
    if above:  # the reference should be the most the labels give: say so when a round's model beats it
        print("  note: above the full-data reference: " + ", ".join(f"{k} {a * 100:.1f}%" for k, a in above))
    png = plot_csv(csv_path, out / "active.png", full)
    row = _summary(results)
    print(f"wrote {csv_path} and {png}")
    return (set_name, "pretrained" if init_from else "scratch", full, *row)


def _summary(results: dict[str, tuple[SimResult, float | None]]) -> tuple[str, str, str, str]:
    """Print the comparisons with random; -> (random's labels, best strategy, its labels, ratio) as text."""
    rnd = results.get("random", (None, None))[1]
    uncertain = {k: v for k, (_, v) in results.items() if k not in ("random",) and v}
    row = ("-", "-", "-", "-")
    if rnd and uncertain:
        best = min(uncertain, key=uncertain.get)
        ratio = uncertain[best] / rnd
        print(f"best uncertainty strategy: {best} needs {uncertain[best]:.0f} labels vs random {rnd:.0f}: "
              f"ratio {ratio:.2f} [goal <= 0.5: {'OK' if ratio <= 0.5 else 'MISSED'}]")
        row = (f"{rnd:.0f}", best, f"{uncertain[best]:.0f}", f"{ratio:.2f}")
    elif rnd and len(results) > 1:  # no other strategy reached the target with all it was given
        most = min(max(n for n, _ in r.points) for k, (r, _) in results.items() if k != "random")
        print(f"no strategy but random reached the target (random {rnd:.0f} labels; the others > {most})")
        row = (f"{rnd:.0f}", "none reached", f"> {most}", f"> {most / rnd:.2f}")
    elif "random" in results and not rnd:
        most = max(n for n, _ in results["random"][0].points)
        line = f"random did not reach the target with {most} labels (all it was given)"
        row = (f"> {most}", "-", "-", "-")
        if uncertain:  # random needs more than `most`, so the ratio is below this bound
            best = min(uncertain, key=uncertain.get)
            ratio = uncertain[best] / most
            line += (f": best uncertainty strategy {best} needs {uncertain[best]:.0f}, ratio < {ratio:.2f} "
                     f"[goal <= 0.5: {'OK' if ratio <= 0.5 else 'not shown'}]")
            row = (f"> {most}", best, f"{uncertain[best]:.0f}", f"< {ratio:.2f}")
        print(line)
    if "random" in results and not rnd:
        # random never reached the target: a second, nearer yardstick, the labels each strategy needs for
        # what random has at its last round (the others stop at the target, so only then is it fair)
        r_res = results["random"][0]
        level = max(a for _, a in r_res.points)
        r_need = r_res.labels_to_reach(level)
        for key, (res, _) in results.items():
            if key == "random":
                continue
            need = res.labels_to_reach(level)
            print(f"  to random's best accuracy ({level * 100:.1f}%, {r_need:.0f} labels): {key} "
                  + (f"{need:.0f} labels, ratio {need / r_need:.2f}" if need else "not reached"))
    head, full_scope = results.get("bald", (None, None))[1], results.get("bald (full)", (None, None))[1]
    if head and full_scope:
        print(f"BALD head scope {head:.0f} labels vs full scope {full_scope:.0f}: ratio {head / full_scope:.2f}")
    return row


if __name__ == "__main__":
    main()
