"""``vqa-studio simulate``: active learning replayed on labelled data.

Without ``--effort``: labels against test accuracy per strategy (``core.simulate``). With ``--effort``:
human actions until the whole pool is right, for the product's loop and three baselines
(``core.effort``); the last line is ``human actions: N (P% of reviewing every item)``.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from .cli_common import EXIT_OK, _open, _print, _usage
from .cli_progress import drive
from .core.active.args import DEFAULT_MC_SAMPLES

__all__ = ["add_commands", "cmd_simulate"]


def _fraction(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 < v <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], not {text}")
    return v


def _share(text: str) -> float:
    v = _fraction(text)
    if v >= 1.0:
        raise argparse.ArgumentTypeError(f"must be below 1, not {text}")
    return v


def _positive(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {text}")
    return v


def cmd_simulate(args) -> int:
    if args.init_from and not Path(args.init_from).is_file():
        raise _usage(f"--init-from {args.init_from}: no such model file")
    if args.effort:
        return _cmd_effort(args)
    if not args.strategy:
        raise _usage("--strategy is required (or --effort)")
    if args.out is None:
        raise _usage("--out CSV is required (without --effort)")
    if args.selection == "cluster" and "ensemble" in args.strategy:
        raise _usage("--selection cluster needs MC-dropout embeddings: not with --strategy ensemble")
    from .core.data.dataset import MediaTensors, Snapshot
    from .core.simulate import (
        SimConfig,
        full_data_accuracy,
        plot_csv,
        simulate,
        write_csv,
    )
    from .core.train.config import TrainingArgs

    project = _open(args)
    try:
        snapshot = Snapshot.load(project)
        train = TrainingArgs(epochs=args.epochs, patience=1000, seed=args.seed)
        media = MediaTensors(snapshot, train.image_size, train.cloud_points, project.folder / "cache" / "media")
        results = []
        full = None
        if args.full_reference:
            cfg0 = SimConfig(strategy="random", initial=args.initial, batch=args.batch, rounds=args.rounds,
                             seed=args.seed, epochs=args.epochs, full_epochs=args.full_epochs,
                             full_seeds=args.full_seeds, min_steps=args.min_steps, train=train, init_from=args.init_from)
            full = drive(full_data_accuracy(project, cfg0, snapshot=snapshot, media=media), quiet=args.quiet)
            _print(f"full-data accuracy: {full * 100:.2f}%")
        for strategy in args.strategy:
            cfg = SimConfig(strategy=strategy, initial=args.initial, batch=args.batch, rounds=args.rounds, seed=args.seed,
                            epochs=args.epochs, mc_samples=args.mc_samples, scope=args.scope, ensemble=args.ensemble,
                            selection=args.selection, min_steps=args.min_steps, train=train, init_from=args.init_from)
            res = drive(simulate(project, cfg, snapshot=snapshot, media=media, full_accuracy=full), quiet=args.quiet)
            results.append(res)
            pts = ", ".join(f"{n}:{a * 100:.1f}" for n, a in res.points)
            _print(f"{res.strategy:<16} {pts}  ({res.seconds:.0f} s)")
            if full:
                need = res.labels_to_reach(0.9 * full)
                _print(f"{'':<16} labels to reach 90% of full-data accuracy: {need:.0f}" if need else
                       f"{'':<16} did not reach 90% of full-data accuracy")
        write_csv(args.out, results)
        png = plot_csv(args.out, args.out.with_suffix(".png"), full)
        _print(f"wrote {args.out} and {png}")
    finally:
        project.close()
    return EXIT_OK


def _cmd_effort(args) -> int:
    from .core.effort import EffortConfig
    from .core.effort_report import (
        COMPARE_ORDER,
        compare,
        data_marks,
        plot,
        result_lines,
        write_csv,
    )
    from .core.train.config import TrainingArgs

    cfg = EffortConfig(target=args.target, retrain_every=args.retrain_every, seed=args.seed, epochs=args.epochs,
                       min_steps=args.min_steps, mc_samples=args.mc_samples, precision=args.precision,
                       audit_share=args.audit_share, auto_accept=not args.no_auto_accept, init_from=args.init_from,
                       train=TrainingArgs(epochs=args.epochs, patience=100, batch_size=64, seed=args.seed))
    strategies = args.effort_strategy or list(COMPARE_ORDER)
    project = _open(args)
    try:
        outliers, truths = data_marks(project)
        results = drive(compare(project, cfg, strategies, outliers=outliers, truths=truths), quiet=args.quiet)
    finally:
        project.close()
    if args.out is not None:
        write_csv(args.out, results)
        png = plot(results, args.out.with_suffix(".png"))
        _print(f"wrote {args.out} and {png}")
    for line in result_lines(results):
        _print(line)
    return EXIT_OK


def add_commands(add) -> None:
    """Register ``simulate`` with the CLI's ``add(name, func, help)``."""
    from .cli import _acquisition_help

    p = add("simulate", cmd_simulate, "simulate active learning on labelled data (hide labels, acquire, retrain); "
            "--effort: count the human actions until the whole pool is right")
    p.add_argument("--project", required=True)
    p.add_argument("--strategy", action="append",
                   help=f"random, ensemble, or an acquisition function ({_acquisition_help()}); repeatable")
    p.add_argument("--initial", type=int, default=200, help="labels to start with (random)")
    p.add_argument("--batch", type=int, default=200, help="labels acquired per round")
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--epochs", type=int, default=6, help="epochs per round (at least --min-steps optimizer steps)")
    p.add_argument("--min-steps", type=int, default=150, help="optimizer steps per round at least (small label sets)")
    p.add_argument("--mc-samples", type=int, default=DEFAULT_MC_SAMPLES,
                   help=f"MC-dropout samples per ensemble member (default {DEFAULT_MC_SAMPLES})")
    p.add_argument("--scope", choices=["head", "full"], default="head")
    p.add_argument("--ensemble", type=int, default=3, help="members for the ensemble strategy")
    p.add_argument("--selection", choices=["top", "power", "cluster"], default="top",
                   help="top: the highest scores; power: drawn in proportion to the scores; cluster: score-weighted "
                        "k-means++ in the model's embedding space (power and cluster: diverse batches)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--full-reference", action="store_true", help="also train on every label for the 90%% line")
    p.add_argument("--full-epochs", type=int, default=24,
                   help="epochs of that full-data training (from scratch) at least; it also gets at least the "
                        "optimizer steps of all the rounds together")
    p.add_argument("--full-seeds", type=_positive, default=1,
                   help="full-data trainings (seeds); the best on validation counts (default 1)")
    p.add_argument("--init-from", help="a model file every run's first model (and the full-data reference) starts "
                   "from, e.g. the demo's checkpoint on a new set; default: from scratch")
    p.add_argument("--out", type=Path, help="CSV of the curves (a PNG plot is written beside it); "
                   "required without --effort")
    g = p.add_argument_group("effort (--effort)")
    g.add_argument("--effort", action="store_true",
                   help="replay annotation with the training answers hidden and count human actions (accepts, "
                        "corrections, audits) until the pool is at --target, for the full loop, plain BALD, "
                        "random order and file order")
    g.add_argument("--target", type=_fraction, default=0.98, help="the pool accuracy to reach (default 0.98)")
    g.add_argument("--retrain-every", type=_positive, default=200, metavar="B",
                   help="reviews between retrainings (default 200)")
    g.add_argument("--precision", type=_share, default=0.99,
                   help="auto-accept: precision guaranteed on held-out questions (default 0.99)")
    g.add_argument("--audit-share", type=_share, default=0.02, help="share of auto-accepted answers audited (default 0.02)")
    g.add_argument("--no-auto-accept", action="store_true", help="no auto-accept (and no audits)")
    g.add_argument("--effort-strategy", action="append", choices=["full", "bald", "random", "file"],
                   help="replay only these queue orders (repeatable; default all four)")


def _share01(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= v <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {text}")
    return v


def add_demo_options(p) -> None:
    """``demo``'s options for the effort and active-learning benchmarks: outliers and the 2D variant."""
    from .core.synth.shapes2d_style import STYLES

    p.add_argument("--outliers", type=_share01, default=0.0, metavar="FRACTION",
                   help="make this share of the 2D training questions unanswerable or mislabelled (marked "
                        "'outlier' in their metadata; val and test stay clean; default 0)")
    p.add_argument("--variant", choices=sorted(STYLES), default="demo",
                   help="the 2D generator's style: demo, or shifted (other shapes, colours, sizes, background "
                        "and wordings: a second labelled set unlike the demo)")
