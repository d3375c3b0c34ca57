"""The model commands of ``vqa-studio``: train, score, models, evaluate, simulate, encoders."""
from __future__ import annotations

from pathlib import Path

from .cli_common import EXIT_OK, _open, _print, _usage
from .cli_progress import drive


def cmd_encoders(args) -> int:
    from .core.registry import default_registry

    registry = default_registry()
    for kind, space in (("media", registry.media_encoders), ("question", registry.question_encoders)):
        _print(f"{kind} encoders:")
        for name, spec in sorted(space.items()):
            shown = "hf:<folder or hub id>" if name == "hf" else name
            where = f"{spec.modality}, " if spec.modality else ""
            state = "available" if spec.is_available() else (
                f"UNAVAILABLE: {spec.error}" + (f"; install with: {spec.install}" if spec.install else ""))
            _print(f"  {shown:<24} ({where}{spec.source}) {spec.description}  [{state}]")
    return EXIT_OK


def cmd_train(args) -> int:
    from .core.train.config import TrainingArgs
    from .core.train.pipeline import run_training

    from .core.model.pretrained import encoder_choice

    try:
        image_encoder = encoder_choice(args.encoder or args.image_encoder, args.encoder_weights)
        targs = TrainingArgs(mode=args.mode, epochs=args.epochs, ensemble=args.ensemble, heads=args.heads,
                             device=args.device, amp=args.amp, accumulate=args.accumulate, distill=args.distill,
                             batch_size=args.batch_size, lr=args.lr, seed=args.seed, quantize=args.quantize,
                             mc_samples=args.mc_samples, time_limit_s=args.time_limit, skip_easy=args.skip_easy,
                             freeze_media_at=args.freeze_media_at, unfreeze=args.unfreeze,
                             init_from=str(args.init_from) if args.init_from else None, model=args.model,
                             image_encoder=image_encoder, question_encoder=args.question_encoder,
                             nproc=args.nproc)
    except ValueError as exc:  # a setting out of range: a usage error, not a bug
        raise _usage(str(exc)) from exc
    project = _open(args)
    try:
        outcome = drive(run_training(project, targs), quiet=args.quiet)
    finally:
        project.close()
    _print(outcome.summary())
    return EXIT_OK


def cmd_score(args) -> int:
    import dataclasses

    from .core.active.args import ScoringArgs
    from .core.active.scoring import score_pool
    from .core.model import registry

    try:
        sargs = ScoringArgs(mc_samples=args.mc_samples, scope=args.scope, use_student=args.fast)
    except ValueError as exc:  # a setting out of range: a usage error, not a bug
        raise _usage(str(exc)) from exc
    project = _open(args)
    try:
        if args.model and Path(args.model).suffix == ".pt" and Path(args.model).exists():
            bundle = registry.import_file(project, Path(args.model))
            _print(f"registered {args.model} as model {bundle.version}")
        else:
            bundle = registry.load_version(project, args.model)
        if args.method:
            from .core.uncertainty.acquisition import get_acquisition

            try:
                get_acquisition(args.method)
            except KeyError as exc:
                raise _usage(str(exc.args[0])) from None
            project.set_setting("acquisition", args.method)
        sargs = dataclasses.replace(sargs, version=bundle.version)
        result = drive(score_pool(project, bundle, sargs, activate_proposals=True), quiet=args.quiet)
        if bundle.version != project.active_model:
            registry.activate(project, bundle.version)
        _print(result.summary())
        method = args.method or project.acquisition
        rows = project.queue(order_by=method, limit=5)
        if rows:
            _print(f"most informative by {method}:")
            for r in rows:
                _print(f"  {r.score:7.4f}  [{r.status.value}] {r.text}  -> {r.proposed} ({(r.confidence or 0) * 100:.0f}%)")
    finally:
        project.close()
    return EXIT_OK


def cmd_models(args) -> int:
    from .core.model import registry

    project = _open(args)
    try:
        if args.activate:
            registry.activate(project, args.activate)
            _print(f"model {args.activate} is now active")
        models = project.models()
        if not models:
            _print("no models yet: vqa-studio train --project ...")
        for m in models:
            mark = "*" if m.active else " "
            test = m.metrics.get("test_accuracy")
            val = m.metrics.get("val_accuracy")
            acc = f"test {test * 100:.2f}%" if test is not None else (f"val {val * 100:.2f}%" if val is not None else "")
            _print(f"{mark} {m.version:<8} parent {m.parent or '-':<8} {m.created_at:%Y-%m-%d %H:%M}  "
                   f"{m.config.get('mode', '?'):<8} {acc:<14} {m.snapshot.get('n_labels', '?')} labels")
    finally:
        project.close()
    return EXIT_OK


def cmd_evaluate(args) -> int:
    from .core.data.dataset import Snapshot
    from .core.formats import vqa_v2
    from .core.model import registry
    from .core.model.pretrained_media import media_for_bundle
    from .core.train.pipeline import accuracy_report, error_detection_of, predict_answers

    project = _open(args)
    try:
        bundle = registry.load_version(project, args.model)
        snapshot = Snapshot.load(project)
        questions = snapshot.select([args.split])
        if not questions:
            raise _usage(f"the project has no questions in split '{args.split}'")
        media = media_for_bundle(bundle, snapshot, project.folder / "cache")
        entropy: dict[int, float] = {}
        predicted = predict_answers(bundle, media, [q for q in questions if q.kind in bundle.nets], entropy=entropy)
        labelled = [q for q in questions if snapshot.is_labelled(q)]
        report = accuracy_report(predicted, labelled)
        _print(f"model {bundle.version} on split {args.split}: {report['n']} labelled of {len(questions)} questions")
        if report["n"]:
            _print(f"overall: {report['overall'] * 100:.2f}")
            for line in error_detection_of(predicted, entropy, labelled).lines():
                _print(line)
            for atype, acc in sorted(report["by_answer_type"].items()):
                _print(f"{atype}: {acc * 100:.2f}")
        if args.results:
            qmap = {q.question_id: q for q in questions}
            ext = project.questions(list(predicted))
            results = [(ext[qid].external_id or qid, ans) for qid, (ans, _) in predicted.items() if qid in qmap]
            vqa_v2.write_results(args.results, results)
            _print(f"wrote {len(results)} answers to {args.results}")
    finally:
        project.close()
    return EXIT_OK


# --- parser ------------------------------------------------------------------------------------------
