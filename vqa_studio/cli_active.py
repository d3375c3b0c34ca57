"""The command line of issue 13: outliers, label errors, auto-accept with a guarantee, audits and the
acquisition policy's next batch. ``add_commands(add)`` registers them (``cli.build_parser``)."""
from __future__ import annotations

import csv
import math
from pathlib import Path

from .cli_common import EXIT_OK, _open, _print, _usage
from .cli_progress import drive


def _fraction(text: str) -> float:
    import argparse

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {text}")
    return value


def cmd_outliers(args) -> int:
    from .core.active.outliers import category_counts, load_outliers, oov_report

    project = _open(args)
    try:
        rows = load_outliers(project, threshold=None if args.all else args.threshold)
        every = rows if args.all else load_outliers(project, threshold=None)
        oov = oov_report(project)
    finally:
        project.close()
    if not every:
        _print("no outlier scores: train a model first (vqa-studio train); models trained before this version "
               "have none")
        return EXIT_OK
    counts = category_counts(every)
    _print("training questions: " + ", ".join(f"{counts.get(c, 0):,} {c}" for c in ("easy", "ambiguous", "hard"))
           + f"; {counts.get('not trained on', 0):,} others scored by their neighbours")
    _print(f"likely outliers (outlier score >= {args.threshold:.2f}): "
           f"{sum(r.outlier_score >= args.threshold for r in every):,} of {len(every):,}")
    for r in rows[: args.limit]:
        how = f"{r.category}, confidence {r.confidence:.2f}, variability {r.variability:.2f}" if r.category \
            else "from its neighbours"
        _print(f"  {r.question_id:>8}  {r.outlier_score:.3f}  [{how}]  {r.text}  -> {r.answer or '(no answer)'}")
    _print(f"answers maybe outside the vocabulary: {len(oov.flagged):,} unreviewed questions with OOV score > "
           f"{oov.threshold:.3f} (fitted for {oov.false_flag_rate * 100:g}% false flags on {oov.n_fitted:,} "
           "answerable labelled questions)")
    for qid, score, text, top in oov.flagged[: args.limit]:
        _print(f"  {qid:>8}  {score:.3f}  {text}  (model says {top})")
    if args.out:
        _write_csv(args.out, ["question_id", "outlier_score", "source", "category", "confidence", "variability",
                              "question", "answer"],
                   [[r.question_id, f"{r.outlier_score:.4f}", r.source, r.category or "",
                     "" if r.confidence is None else f"{r.confidence:.4f}",
                     "" if r.variability is None else f"{r.variability:.4f}", r.text, r.answer or ""] for r in rows])
    return EXIT_OK


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    _print(f"wrote {path}")


def cmd_label_errors(args) -> int:
    from .core.train.crossval import label_errors

    project = _open(args)
    try:
        report = drive(label_errors(project, folds=args.folds, epochs=args.epochs, seed=args.seed), quiet=args.quiet)
    finally:
        project.close()
    _print(report.summary())
    for r in report.rows[: args.limit]:
        _print(f"  {r.question_id:>8}  labelled {r.answer!r} (p {r.p_answer:.2f}), model says {r.suggested!r} "
               f"(p {r.p_suggested:.2f})  {r.text}")
    if len(report.rows) > args.limit:
        _print(f"  ... and {len(report.rows) - args.limit:,} more" + ("" if args.out else " (--out CSV lists all)"))
    if args.out:
        report.write_csv(args.out)
        _print(f"wrote {args.out}")
    return EXIT_OK


def cmd_auto_accept(args) -> int:
    from .core.active.audit import audit_report
    from .core.active.policy import apply_auto_accept, load_auto_accept_data

    project = _open(args)
    try:
        data = load_auto_accept_data(project)
        if data.version is None:
            raise _usage("this project has no model yet: train one first (vqa-studio train)")
        th = data.guarantee(args.target, args.delta, mode=args.mode)
        extra = f" and {data.n_audits:,} decided audits" if data.n_audits else ""
        _print(f"held-out: {len(data.val_conf):,} labelled validation questions{extra} (model {data.version})")
        _print(th.describe())
        if not th.found:
            return EXIT_OK
        n = int((data.pool_conf >= th.threshold).sum())
        _print(f"expected coverage: {n:,} of {len(data.pool_conf):,} unreviewed questions "
               f"({data.pool_coverage(th.threshold) * 100:.1f}%); audit share {args.audit * 100:g}% "
               f"(about {math.floor(n * args.audit + 0.5):,} to the audit queue)")
        if args.dry_run:
            _print("dry run: nothing accepted")
        else:
            result = drive(apply_auto_accept(project, th.threshold, data=data, audit_share=args.audit,
                                             seed=args.seed), quiet=args.quiet)
            _print(result.summary())
        _print(audit_report(project).describe())
    finally:
        project.close()
    return EXIT_OK


def cmd_audits(args) -> int:
    from .core.active.audit import audit_report, audits, decide

    project = _open(args)
    try:
        if args.confirm is not None:
            _print(f"audit {args.confirm}: {decide(project, args.confirm)}")
        if args.correct is not None:
            audit_id, answer = args.correct
            try:
                audit_id = int(audit_id)
            except ValueError:
                raise _usage(f"--correct takes an audit id and an answer, not {audit_id!r}") from None
            _print(f"audit {audit_id}: {decide(project, audit_id, answer)}")
        pending = audits(project, pending=True, limit=args.limit)
        for a in pending:
            conf = "" if a.confidence is None else f" (confidence {a.confidence:.3f})"
            _print(f"  audit {a.id:>6}  question {a.question_id}: {a.text}  -> {a.answer!r}{conf}")
        _print(audit_report(project).describe())
    finally:
        project.close()
    return EXIT_OK


def cmd_next_batch(args) -> int:
    from .core.active.selection import AcquisitionPolicy, next_batch

    project = _open(args)
    try:
        base = AcquisitionPolicy.load(project)
        try:
            policy = AcquisitionPolicy(
                outliers=args.outliers or base.outliers, selection=args.selection or base.selection,
                batch=base.batch if args.size is None else args.size, balance_types=args.balance_types or base.balance_types,
                outlier_threshold=base.outlier_threshold if args.outlier_threshold is None else args.outlier_threshold,
                seed=base.seed if args.seed is None else args.seed)
        except ValueError as exc:
            raise _usage(str(exc)) from exc
        ids = next_batch(project, policy, args.method)
        questions = project.questions(ids)
        if args.save:
            policy.save(project)
            _print(f"saved as the project's acquisition policy: {policy.describe()}")
    finally:
        project.close()
    _print(f"next batch ({policy.describe()}): {len(ids)} questions")
    for q in ids:
        _print(f"  {q:>8}  [{questions[q].question_type}]  {questions[q].text}")
    if args.out:
        _write_csv(args.out, ["question_id", "question_type", "question"],
                   [[q, questions[q].question_type, questions[q].text] for q in ids])
    return EXIT_OK


def add_commands(add) -> None:
    from .core.active.guarantee import DEFAULT_AUDIT_SHARE, DEFAULT_DELTA, DEFAULT_MODE, DEFAULT_TARGET, MODES
    from .core.active.outliers import DEFAULT_THRESHOLD

    p = add("outliers", cmd_outliers, "likely outliers (dataset cartography of the active model's training, "
            "transferred to unlabelled questions) and answers maybe outside the vocabulary")
    p.add_argument("--project", required=True)
    p.add_argument("--threshold", type=_fraction, default=DEFAULT_THRESHOLD, help="outlier score of a likely outlier")
    p.add_argument("--all", action="store_true", help="list every question, not only the likely outliers")
    p.add_argument("--limit", type=int, default=20, help="rows printed (default 20)")
    p.add_argument("--out", type=Path, help="CSV of the rows listed")
    p = add("label-errors", cmd_label_errors, "labelled answers the model confidently disagrees with (confident "
            "learning on k-fold cross-validated probabilities), with the expected number of label errors")
    p.add_argument("--project", required=True)
    p.add_argument("--folds", type=int, default=4)
    p.add_argument("--epochs", type=int, default=4, help="epochs of each fold's training")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, default=20, help="rows printed (default 20)")
    p.add_argument("--out", type=Path, help="CSV of every likely label error")
    p = add("auto-accept", cmd_auto_accept, "auto-accept the unreviewed answers whose confidence keeps the precision "
            "at --target by a one-sided Clopper-Pearson bound on held-out labels; a random share goes to audit")
    p.add_argument("--project", required=True)
    p.add_argument("--target", type=_fraction, default=DEFAULT_TARGET, help="target precision (default 0.99)")
    p.add_argument("--delta", type=_fraction, default=DEFAULT_DELTA, help="error level of the bound (default 0.05)")
    p.add_argument("--audit", type=_fraction, default=DEFAULT_AUDIT_SHARE, help="share sent to the audit queue")
    p.add_argument("--seed", type=int, help="seed of the audit draw")
    p.add_argument("--dry-run", action="store_true", help="print the threshold and coverage, accept nothing")
    p.add_argument("--mode", choices=list(MODES), default=DEFAULT_MODE,
                   help="bonferroni (default): 20 candidate thresholds tested jointly; lowest: every threshold at "
                        "level delta (optimistic); fixed_sequence: from the strictest down, stop at the first miss")
    p = add("audits", cmd_audits, "the audit queue of auto-accepted answers: list, confirm or correct, report")
    p.add_argument("--project", required=True)
    p.add_argument("--confirm", type=int, metavar="AUDIT_ID")
    p.add_argument("--correct", nargs=2, metavar=("AUDIT_ID", "ANSWER"))
    p.add_argument("--limit", type=int, default=50)
    p = add("next-batch", cmd_next_batch, "the next questions to label by the acquisition policy (outlier handling, "
            "diverse batches); --save makes it the project's queue order")
    p.add_argument("--project", required=True)
    p.add_argument("--size", type=int, help="batch size")
    p.add_argument("--method", help="acquisition score (default: the project's)")
    p.add_argument("--selection", choices=["top", "power", "cluster"])
    p.add_argument("--outliers", choices=["keep", "down-weight", "exclude"])
    p.add_argument("--outlier-threshold", type=_fraction)
    p.add_argument("--balance-types", action="store_true", help="share the batch among question types")
    p.add_argument("--seed", type=int)
    p.add_argument("--save", action="store_true", help="store this policy with the project (the app's queue uses it)")
    p.add_argument("--out", type=Path, help="CSV of the batch")
