"""A whole training run: data -> networks -> calibration -> metrics -> checkpoint -> re-score -> register.

``run_training(project, args)`` is a generator of ``Progress`` that returns a ``TrainOutcome``.
The new model becomes part of the registry (and active) only in the very last step, one database
transaction: a run that is cancelled (the generator closed) or that fails leaves the registry and
the active model exactly as they were, removes its checkpoint file and its predictions, and marks
its row in ``runs`` as cancelled / failed (with the traceback).
"""
from __future__ import annotations

import math
import time
import traceback
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generator, Sequence

import numpy as np
import torch

from ..data.dataset import QA, Encoders, MediaTensors, Snapshot, VQADataset, build_vocabs, hold_out_validation
from ..data.vocab import vqa_accuracy
from ..errors import VQAStudioError
from ..model.net import ModelConfig, VQANet
from ..active.outliers import store_training_dynamics
from .. import media_kinds
from ..model.pretrained import is_pretrained, source_of
from ..model.pretrained_media import PRETRAINED, media_for
from ..model.registry import ModelBundle, NetSet, load_version
from ..model.transfer import init_from_file, load_source
from ..store import predictions as prediction_rows
from ..store import runs as run_rows
from ..store import training_rows
from ..types import ItemKind, Progress
from ..uncertainty import calibration
from ..uncertainty.error_detection import ErrorDetection, error_detection
from . import distributed
from .config import FP32, Precision, TrainingArgs, choose_device, choose_precision, describe_device
from .loop import collect_logits, train_net
from .probe import precision_probe
from .publish import publish


@dataclass
class TrainOutcome:
    version: str
    path: Path
    metrics: dict[str, Any]
    curves: list[dict[str, Any]]
    messages: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        lines = [f"model {self.version} trained in {self.seconds:.0f} s and made active ({self.path.name})"]
        for kind, m in self.metrics.get("by_kind", {}).items():
            test = m.get("test", {})
            if test.get("n"):
                by_type = ", ".join(f"{k} {v * 100:.1f}%" for k, v in sorted(test.get("by_answer_type", {}).items()))
                lines.append(f"  {kind}: test accuracy {test['overall'] * 100:.2f}% on {test['n']} questions ({by_type})")
            if "ece_before" in m:
                lines.append(f"  {kind}: ECE {m['ece_before']:.4f} -> {m['ece_after']:.4f} after temperature "
                             f"scaling (T = {m['temperature']:.3f}, {m.get('ece_on', 'val')} split)")
            if "revote" in m:
                r = m["revote"]
                lines.append(f"  {kind}: ensemble re-voted by question type {r['test_revote'] * 100:.2f}% vs plain "
                             f"average {r['test_plain_average'] * 100:.2f}% on test "
                             f"({'beats' if r['beats_plain'] else 'does not beat'} plain averaging)")
            if "test_student" in m and m["test_student"].get("n"):
                lines.append(f"  {kind}: distilled student {m['test_student']['overall'] * 100:.2f}% on test")
            if "quantized" in m:
                qz = m["quantized"]
                lines.append(f"  {kind}: int8 {qz['network']}: {qz['speedup']:.2f}x the fp32 speed on this CPU, "
                             f"accuracy {qz['fp32']['accuracy'] * 100:.2f}% -> {qz['int8']['accuracy'] * 100:.2f}%")
        lines += [f"  note: {msg}" for msg in self.messages]
        return "\n".join(lines)


# --- evaluation -------------------------------------------------------------------------------------------

def predict_answers(bundle: ModelBundle, media: MediaTensors, questions: Sequence[QA], device="cpu",
                    batch_size: int = 256, use_student: bool = False, entropy: dict[int, float] | None = None
                    ) -> dict[int, tuple[str, float]]:
    """The calibrated top answer and its probability for each question (eval mode, no sampling);
    ``entropy``, when given, receives each question's entropy of the calibrated answer distribution."""
    from ..data.dataset import batches

    if getattr(bundle, "kind", None) == "vilt":
        from .vilt_run import predict_vilt

        return predict_vilt(bundle.proposer, media.snapshot, [qa for qa in questions if qa.kind is ItemKind.IMAGE],
                            entropy)
    if (plugin_answers := media_kinds.predict_answers(bundle, media.snapshot, questions, entropy)) is not None:
        return plugin_answers  # a model of a plugin's medium (core/media_kinds.py)
    out: dict[int, tuple[str, float]] = {}
    answers = bundle.encoders.answers.answers
    for kind in (ItemKind.IMAGE, ItemKind.CLOUD):
        qs = [qa for qa in questions if qa.kind is kind]
        if not qs or kind not in bundle.nets:
            continue
        ns = bundle.net(kind)
        members = [ns.fast_net()] if use_student else ns.members
        media.ensure({qa.item_id for qa in qs})
        ds = VQADataset(qs, media, bundle.encoders, with_labels=False)
        with torch.inference_mode():
            for batch in batches(ds, batch_size, shuffle=False):
                b = {k: v.to(device) for k, v in batch.items()}
                probs = torch.stack([torch.softmax(m.to(device).eval()(b)["logits"].float(), -1) for m in members]).mean(0)
                log_probs = torch.log(probs.clamp_min(1e-12))
                out.update(_top_answers(log_probs, batch["question_ids"], ns.temperature, answers))
                if entropy is not None:
                    calibrated = torch.log_softmax(log_probs / ns.temperature, -1)
                    h = -(calibrated.exp() * calibrated).sum(-1)
                    entropy.update(zip(batch["question_ids"].tolist(), h.tolist()))
    return out


def error_detection_of(predicted: dict[int, tuple[str, float]], entropy: dict[int, float],
                       questions: Sequence[QA]) -> ErrorDetection:
    """How well the entropy of the model's answers points at its own errors on ``questions``."""
    rows = [(entropy[qa.question_id], vqa_accuracy(predicted[qa.question_id][0], qa.label_answers()))
            for qa in questions if qa.question_id in predicted and qa.question_id in entropy and qa.label_answers()]
    unc = np.array([r[0] for r in rows], dtype=np.float64)
    acc = np.array([r[1] for r in rows], dtype=np.float64)
    return error_detection(unc, acc, "entropy")


def _top_answers(log_probs: torch.Tensor, question_ids, temperature: float,
                 answers: Sequence[str]) -> dict[int, tuple[str, float]]:
    """question id -> (the calibrated top answer, its probability), from the log of the members' mean
    probability [N, C] (what :func:`~vqa_studio.core.train.loop.collect_logits` returns)."""
    if not len(question_ids):
        return {}
    p, idx = torch.softmax(torch.as_tensor(log_probs).float() / temperature, -1).max(-1)
    return {int(q): (answers[i], pp) for q, i, pp in zip(question_ids.tolist(), idx.tolist(), p.tolist())}


def accuracy_report(predicted: dict[int, tuple[str, float]], questions: Sequence[QA]) -> dict[str, Any]:
    """VQA accuracy (official rules) overall, per answer type and per question type."""
    per_a: dict[str, list[float]] = defaultdict(list)
    per_q: dict[str, list[float]] = defaultdict(list)
    scores = []
    for qa in questions:
        if qa.question_id not in predicted or not qa.label_answers():
            continue
        acc = vqa_accuracy(predicted[qa.question_id][0], qa.label_answers())
        scores.append(acc)
        per_a[qa.answer_type].append(acc)
        per_q[qa.question_type].append(acc)
    return {
        "n": len(scores), "overall": float(np.mean(scores)) if scores else float("nan"),
        "by_answer_type": {k: float(np.mean(v)) for k, v in per_a.items()},
        "by_question_type": {k: float(np.mean(v)) for k, v in per_q.items()},
    }


# --- the run ------------------------------------------------------------------------------------------------

def media_encoder_of(args: TrainingArgs, kind: ItemKind) -> tuple[str, dict[str, Any]]:
    """The media encoder of ``kind``'s networks and its options: ``hf:<source>`` becomes the ``hf``
    encoder with the source (and ``unfreeze``) in its options."""
    if kind is not ItemKind.IMAGE:
        return args.cloud_encoder, dict(args.cloud_encoder_options)
    name, options = args.image_encoder, dict(args.image_encoder_options)
    if is_pretrained(name):
        return PRETRAINED, {**options, "source": source_of(name), "unfreeze": int(args.unfreeze)}
    return name, options


def model_config(args: TrainingArgs, kind: ItemKind, encoders: Encoders) -> ModelConfig:
    encoder, options = media_encoder_of(args, kind)
    cfg = dict(
        vocab_size=len(encoders.vocab), n_answers=max(1, len(encoders.answers)),
        media_encoder=encoder,
        question_encoder=args.question_encoder, n_heads=args.heads, media_dropout=args.media_dropout,
        question_dropout=args.question_dropout, fusion_dropout=args.fusion_dropout,
        classifier_dropout=args.classifier_dropout, media_options=options,
    )
    cfg.update(args.model_options)
    return ModelConfig(**cfg)


def _start_run(project, args: TrainingArgs) -> int:
    with project.writer.begin() as conn:
        return run_rows.start_run(conn, "train", args.to_dict())


def _finish_run(project, run_id: int, status: str, curves=None, error: str | None = None) -> None:
    with project.writer.begin() as conn:
        run_rows.finish_run(conn, run_id, status, curves, error)


def _forget_version(project, version: str, path: Path | None) -> None:
    """Remove what an unfinished run wrote: its predictions and its checkpoint file."""
    with project.writer.begin() as conn:
        prediction_rows.delete_predictions(conn, version)
    if path is not None and path.exists():
        try:
            path.unlink()
        except OSError:
            pass


def _finetune_questions(project, parent: ModelBundle, train: list[QA], ratio: float, seed: int
                        ) -> tuple[list[QA], int]:
    """New corrections since the parent's data snapshot, plus a replay sample of older labels."""
    since = int(parent.snapshot.get("max_correction_id", 0))
    with project.engine.connect() as conn:
        changed = training_rows.corrected_since(conn, since)
    new = [qa for qa in train if qa.question_id in changed]
    old = [qa for qa in train if qa.question_id not in changed]
    k = min(len(old), int(round(len(new) * ratio)))
    rng = np.random.default_rng(seed)
    replay = [old[i] for i in sorted(rng.choice(len(old), k, replace=False))] if k else []
    return new + replay, len(new)


def run_training(project, args: TrainingArgs, *, cache_media: bool = True) -> Generator[Progress, None, TrainOutcome]:
    """Train a new model version on the project's labels and make it active (see the module doc)."""
    if args.nproc > 1 and distributed.current() is None:  # torch.distributed: rank 0 does what follows
        return (yield from distributed.launch(project, args, cache_media=cache_media))
    t0 = time.perf_counter()
    run_id = _start_run(project, args)
    version = f"v{run_id}"
    path = project.models_dir / f"{version}.pt"
    curves: list[dict[str, Any]] = []
    try:
        outcome = yield from _run(project, args, run_id, version, path, curves, t0, cache_media)
    except GeneratorExit:
        _forget_version(project, version, path)
        _finish_run(project, run_id, "cancelled", curves)
        raise
    except BaseException as exc:
        _forget_version(project, version, path)
        _finish_run(project, run_id, "failed", curves, "".join(traceback.format_exception(exc)))
        raise
    _finish_run(project, run_id, "done", curves)
    return outcome


@dataclass
class _RunData:
    """What the steps of one run share: the labels read once, split, their vocabularies and media."""

    snapshot: Snapshot
    parent_version: str | None  # the active model when the run started
    parent: ModelBundle | None  # the model fine-tuned (mode finetune)
    kinds: list[ItemKind]  # modalities with labelled training questions
    train: list[QA]
    val: list[QA]
    test: list[QA]
    encoders: Encoders
    new_items: list[QA]  # fine-tuning: the new corrections (the start of ``train``)
    media: MediaTensors | None = None
    init_source: dict[str, Any] | None = None  # ``--init-from``: the other model file's contents
    dynamics: dict[ItemKind, Any] = field(default_factory=dict)  # first members' TrainingDynamics


def _run(project, args: TrainingArgs, run_id: int, version: str, path: Path, curves: list, t0: float,
         cache_media: bool) -> Generator[Progress, None, TrainOutcome]:
    """Read the labels, load the media, train each modality, save, re-score the pool, register."""
    if args.model or (args.mode == "finetune" and _active_model_kind(project)):  # a whole pretrained VQA model
        from .vilt_run import run_vilt

        return (yield from run_vilt(project, args, run_id, version, path, curves, t0))
    if (plugin_run := media_kinds.training_run(project, args, run_id, version, path, curves, t0)) is not None:
        return (yield from plugin_run)  # labels of a plugin's medium: it trains (core/media_kinds.py)
    messages: list[str] = []
    device = choose_device(args.device)
    yield Progress("preparing", 0, None, f"reading labels ({describe_device(device)})")
    data = _read_labels(project, args, messages)
    data.media = yield from _load_media(project, args, data, cache_media, messages)
    deadline = t0 + args.time_limit_s if args.time_limit_s else None
    nets: dict[ItemKind, NetSet] = {}
    by_kind: dict[str, Any] = {}
    precision: Precision = FP32
    for kind in data.kinds:
        train_q = [qa for qa in data.train if qa.kind is kind]
        if not train_q:
            if data.parent is not None and kind in data.parent.nets:
                nets[kind] = data.parent.nets[kind]  # nothing new for this modality: keep the parent's networks
            continue
        nets[kind], by_kind[kind.value], precision = yield from _train_kind(
            kind, train_q, data, args, device, deadline, version, curves, messages)
    if not distributed.is_main():
        return None  # another rank of a distributed run: rank 0 evaluates, saves and registers
    bundle = _make_bundle(version, data, nets, by_kind, args, precision, device)
    yield from publish(project, bundle, path, run_id, version, args.scoring_args(version), snapshot=data.snapshot,
                       media=data.media)
    store_training_dynamics(project, version, data.dynamics, data.snapshot)  # outlier flags (cartography)
    return TrainOutcome(version, path, bundle.metrics, curves, messages, time.perf_counter() - t0)


def _active_model_kind(project) -> str | None:
    """``vilt:<source>`` when the active model is a ViLT model, else None (VQA Studio's own)."""
    info = project.model(project.active_model) if project.active_model else None
    return (info.config or {}).get("model") if info is not None else None


def _read_labels(project, args: TrainingArgs, messages: list[str]) -> _RunData:
    """The labels of the run, split into train / validation / test, and the answer vocabulary (a
    fine-tuning run: the parent's, on the new corrections plus replayed older labels)."""
    snapshot = Snapshot.load(project, include_auto_accepted=args.include_auto_accepted)
    parent_version = project.active_model
    parent = load_version(project, parent_version) if args.mode == "finetune" else None
    if args.mode == "finetune" and parent is None:
        raise VQAStudioError("fine-tuning needs an active model; train a full model first")

    kinds = [k for k in snapshot.kinds_present() if snapshot.labelled(["train"], k)]
    if not kinds:
        raise VQAStudioError("no labelled training questions: answer some questions of the train split first")
    train_all = [qa for k in kinds for qa in snapshot.labelled(["train"], k)]
    if snapshot.labelled(["val"]):
        val_all = snapshot.labelled(["val"])
    else:
        train_all, val_all = hold_out_validation(train_all, args.val_fraction, args.seed)
        messages.append(f"no validation split: held out {len(val_all)} training questions (seeded, by item)")
    test_all = snapshot.labelled(["test"])

    if parent is not None:
        encoders = parent.encoders
        train_all, n_new = _finetune_questions(project, parent, train_all, args.replay_ratio, args.seed)
        new_items = train_all[:n_new]
        if n_new == 0:
            raise VQAStudioError(f"no corrections since model {parent.version} was trained: nothing to fine-tune on")
        messages.append(f"fine-tuned {parent.version} on {n_new} new corrections + {len(train_all) - n_new} replayed labels")
    else:
        new_items = []
        encoders = Encoders(*build_vocabs(snapshot, train_all, args.max_answers))
    outside = [qa for qa in train_all if encoders.answers.index(qa.answer or "") < 0]
    if outside:
        what = "the next full retrain adds them to the answer vocabulary" if parent is not None else "too rare to keep"
        messages.append(f"{len(outside)} training answers are outside the model's answer vocabulary "
                        f"(e.g. '{outside[0].answer}'): kept, not yet learnable; {what}")
    init_source = None
    if args.init_from and parent is None:
        init_source = load_source(args.init_from)
    elif args.init_from:
        messages.append(f"--init-from {args.init_from} ignored: fine-tuning starts from the active model")
    return _RunData(snapshot, parent_version, parent, kinds, train_all, val_all, test_all, encoders, new_items,
                    init_source=init_source)


def _load_media(project, args: TrainingArgs, data: _RunData, cache_media: bool, messages: list[str]
                ) -> Generator[Progress, None, MediaTensors]:
    """Decode the media of every question of the run once (unreadable files are left out, named)."""
    media = media_for(data.snapshot, *media_encoder_of(args, ItemKind.IMAGE), image_size=args.image_size,
                      cloud_points=args.cloud_points, cache=project.folder / "cache" if cache_media else None)
    needed = {qa.item_id for qa in data.train + data.val + data.test}
    for done, total in media.load(needed):
        yield Progress("loading media", done, total, "decoding media")
    for item_id, err in list(media.errors.items())[:3]:
        messages.append(f"left out item {item_id}: {err}")
    if len(media.errors) > 3:
        messages.append(f"... and {len(media.errors) - 3} more unreadable media files left out")
    return media


def _train_kind(kind: ItemKind, train_q: list[QA], data: _RunData, args: TrainingArgs, device: torch.device,
                deadline: float | None, version: str, curves: list, messages: list[str]
                ) -> Generator[Progress, None, tuple[NetSet, dict[str, Any], Precision]]:
    """One modality: its members (and student) trained, calibrated and evaluated -> (networks,
    metrics, the precision trained in)."""
    val_q = [qa for qa in data.val if qa.kind is kind]
    test_q = [qa for qa in data.test if qa.kind is kind]
    train_ds = VQADataset(train_q, data.media, data.encoders)
    val_ds = VQADataset(val_q, data.media, data.encoders) if val_q else None
    config = model_config(args, kind, data.encoders)
    precision = choose_precision(device, args.amp, probe=distributed.timed(precision_probe, config, train_ds, device, args))
    if precision.reason:
        messages.append(f"{kind.value}: precision {precision.name} ({precision.reason})")
    members: list[VQANet] = []
    for m in range(args.ensemble):
        net = yield from _train_member(kind, m, config, train_ds, val_ds, data, args, device, precision, deadline,
                                       curves, messages)
        members.append(net)
    student = None
    if args.distill and len(members) > 1:
        result = yield from train_net(VQANet(config), train_ds, val_ds, args, device, precision, seed=args.seed + 99,
                                      label=f"{kind.value} student: ", teacher=[m.to(device) for m in members])
        student = result.net.to("cpu")
        for m_ in members:
            m_.to("cpu")
    ns = NetSet(kind, VQANet(config).config_dict(), members, 1.0, student)
    if not distributed.is_main():
        return ns, {}, precision
    metrics = yield from _calibrate_and_evaluate(ns, data, args, precision, device, version,
                                                 val_ds if val_ds is not None else train_ds,
                                                 val_q, test_q)
    metrics["n_train"], metrics["n_val"] = len(train_q), len(val_q)
    ns.metrics = metrics
    return ns, metrics, precision


def _train_member(kind: ItemKind, m: int, config: ModelConfig, train_ds: VQADataset, val_ds: VQADataset | None,
                  data: _RunData, args: TrainingArgs, device: torch.device, precision: Precision,
                  deadline: float | None, curves: list, messages: list[str]) -> Generator[Progress, None, VQANet]:
    """Ensemble member ``m``: from a seed (full) or from the parent's member (fine-tuning, with at least
    ``finetune_min_steps`` steps, judged on the new corrections too); back on the CPU."""
    parent = data.parent
    if parent is not None and kind in parent.nets:
        src = parent.nets[kind].members[m % parent.nets[kind].n_members]
        net = VQANet.from_config(parent.nets[kind].config)
        net.load_state_dict(src.state_dict())
        lr = args.lr * args.finetune_lr_scale
    else:
        torch.manual_seed(args.seed + 7919 * m)
        net = VQANet(config)
        lr = args.lr
        if data.init_source is not None:
            report = init_from_file(net, kind.value, data.init_source, words=data.encoders.vocab.to_list(),
                                    answers=data.encoders.answers.answers, source_name=str(args.init_from))
            if m == 0:
                messages.append(f"{kind.value}: {report.summary()}")
    label = f"{kind.value} member {m + 1}/{args.ensemble}: " if args.ensemble > 1 else f"{kind.value}: "
    epochs, focus = int(args.kind_epochs.get(kind.value, args.epochs)), None
    if parent is not None:  # few corrections: still enough steps to learn them
        per_epoch = max(1, math.ceil(train_ds.n_questions / args.batch_size))
        epochs = max(epochs, math.ceil(args.finetune_min_steps / per_epoch))
        focus = VQADataset([qa for qa in data.new_items if qa.kind is kind], data.media, data.encoders)
    result = yield from train_net(net, train_ds, val_ds, args, device, precision, seed=args.seed + m,
                                  label=label, lr=lr, epochs=epochs, deadline=deadline, focus=focus)
    curves.extend({**c, "kind": kind.value, "member_index": m} for c in result.curves)
    data.dynamics.setdefault(kind, result.dynamics)  # the first member's p(true answer) per epoch
    if result.stopped:
        messages.append(f"{label}stopped after epoch {result.epochs_run}: {result.stopped}")
    return result.net.to("cpu")


def _calibrate_and_evaluate(ns: NetSet, data: _RunData, args: TrainingArgs, precision: Precision,
                            device: torch.device, version: str, calib_ds: VQADataset, val_q: list[QA],
                            test_q: list[QA]) -> Generator[Progress, None, dict[str, Any]]:
    """Temperature scaling on ``calib_ds`` (the validation split, else the training questions), ECE
    before and after, accuracy on validation and test, and the ensemble / student / int8 reports."""
    kind, members, media, encoders = ns.kind, ns.members, data.media, data.encoders
    yield Progress("calibrating", 0, 1, f"{kind.value}: temperature scaling on the validation split")
    # one inference pass per split: the same logits fit the temperature, measure ECE and give the
    # answers whose accuracy is reported (what predict_answers would compute again)
    logits, labels, qids = collect_logits(members, calib_ds, torch.device("cpu"))
    if test_q:
        e_logits, e_labels, e_qids = collect_logits(members, VQADataset(test_q, media, encoders), torch.device("cpu"))
    else:
        e_logits, e_labels, e_qids = logits, labels, qids
    metrics: dict[str, Any] = {"precision": precision.name, "device": str(device)}
    if len(labels):
        ns.temperature = calibration.fit_temperature(logits, labels)
        before = calibration.apply_temperature(e_logits, 1.0)
        after = calibration.apply_temperature(e_logits, ns.temperature)
        metrics.update({
            "temperature": ns.temperature, "ece_on": "test" if test_q else "val",
            "ece_before": calibration.expected_calibration_error(before, e_labels),
            "ece_after": calibration.expected_calibration_error(after, e_labels),
            "reliability_before": _jsonable(calibration.reliability_diagram(before, e_labels)),
            "reliability_after": _jsonable(calibration.reliability_diagram(after, e_labels)),
        })
    bundle_k = ModelBundle(version, encoders, {kind: ns}, image_size=args.image_size, cloud_points=args.cloud_points)
    yield Progress("evaluating", 0, 1, f"{kind.value}: accuracy on the validation and test splits")
    answers = encoders.answers.answers
    metrics["val"] = accuracy_report(_top_answers(logits, qids, ns.temperature, answers) if val_q else {}, val_q)
    metrics["test"] = accuracy_report(_top_answers(e_logits, e_qids, ns.temperature, answers), test_q) \
        if test_q else {"n": 0}
    if ns.student is not None:
        metrics["test_student"] = accuracy_report(predict_answers(bundle_k, media, test_q, use_student=True), test_q) \
            if test_q else {"n": 0}
    if len(members) > 1 and val_q and test_q:
        yield Progress("evaluating", 0, 1, f"{kind.value}: question-type re-voting of the ensemble")
        metrics["revote"] = _revote_report(ns, encoders, media, val_q, test_q)
    if args.quantize:
        yield Progress("evaluating", 0, 1, f"{kind.value}: int8 quantization")
        metrics["quantized"] = _quantize_report(ns, bundle_k, media, test_q or val_q)
    return metrics


def _make_bundle(version: str, data: _RunData, nets: dict[ItemKind, NetSet], by_kind: dict[str, Any],
                 args: TrainingArgs, precision: Precision, device: torch.device) -> ModelBundle:
    """The new model: its networks, vocabularies, training arguments, data snapshot and metrics."""
    labelled_now = data.snapshot.labelled()
    bundle = ModelBundle(
        version=version, encoders=data.encoders, nets=nets, parent=data.parent_version, image_size=args.image_size,
        cloud_points=args.cloud_points, training=args.to_dict(),
        snapshot={"max_correction_id": data.snapshot.max_correction_id, "n_labels": len(labelled_now),
                  "labels_digest": data.snapshot.label_digest(labelled_now), "n_train": len(data.train),
                  "n_val": len(data.val), "n_test": len(data.test),
                  "answers": list(data.encoders.answers.answers)},  # what the model can propose (read without torch)
        created_at=time.strftime("%Y-%m-%dT%H:%M:%S"),
    )
    bundle.metrics = _overall_metrics(by_kind)
    bundle.metrics["by_kind"] = by_kind
    bundle.metrics["precision"] = precision.name
    bundle.metrics["device"] = describe_device(device)
    return bundle


def _member_probs(ns: NetSet, encoders: Encoders, media: MediaTensors, questions: Sequence[QA]):
    """Each member's calibrated probabilities [N, C, M], in the order of ``questions``' dataset."""
    from ..data.dataset import batches
    from ..uncertainty import sampling

    ds = VQADataset(questions, media, encoders)
    probs = sampling.ensemble_probs(ns.members, list(batches(ds, 256, shuffle=False)), temperature=ns.temperature)
    order = [qa for group in ds.groups for qa in group]
    return probs, order


def _revote_report(ns: NetSet, encoders: Encoders, media: MediaTensors, val_q: Sequence[QA],
                   test_q: Sequence[QA]) -> dict[str, Any]:
    """Fit question-type re-voting weights on validation; compare with plain averaging on test."""
    from ..uncertainty.revote import fit_revote_weights, revote

    answers = encoders.answers.answers
    v_probs, v_order = _member_probs(ns, encoders, media, val_q)
    labels = np.asarray([encoders.answers.index(qa.answer or "") for qa in v_order])
    weights = fit_revote_weights(v_probs, labels, [qa.question_type for qa in v_order])
    t_probs, t_order = _member_probs(ns, encoders, media, test_q)

    def acc(p: np.ndarray) -> float:
        return float(np.mean([vqa_accuracy(answers[i], qa.label_answers()) for i, qa in zip(p.argmax(1), t_order)]))

    plain = acc(t_probs.mean(axis=2))
    voted = acc(revote(t_probs, [qa.question_type for qa in t_order], weights))
    ns.revote = weights.to_dict()
    return {"test_plain_average": plain, "test_revote": voted, "beats_plain": voted > plain,
            "n_types": len(weights.by_type)}


def _quantize_report(ns: NetSet, bundle: ModelBundle, media: MediaTensors, questions: Sequence[QA]) -> dict[str, Any]:
    """Dynamic int8 quantization of the inference network (the student if there is one): speed and
    accuracy before and after, on the CPU."""
    from ..model.registry import quantized_copy

    target = ns.student if ns.student is not None else ns.members[0]
    q = quantized_copy(target)
    out: dict[str, Any] = {"network": "student" if ns.student is not None else "member 1"}
    for name, net in (("fp32", target), ("int8", q)):
        probe = NetSet(ns.kind, ns.config, [net], ns.temperature)
        b = ModelBundle(bundle.version, bundle.encoders, {ns.kind: probe}, image_size=bundle.image_size,
                        cloud_points=bundle.cloud_points)
        t = time.perf_counter()
        pred = predict_answers(b, media, questions)
        seconds = time.perf_counter() - t
        out[name] = {"accuracy": accuracy_report(pred, questions)["overall"], "items_per_s": len(questions) / seconds}
    out["speedup"] = out["int8"]["items_per_s"] / out["fp32"]["items_per_s"]
    out["accuracy_change"] = out["int8"]["accuracy"] - out["fp32"]["accuracy"]
    ns.quantize = True
    return out


def _overall_metrics(by_kind: dict[str, Any]) -> dict[str, Any]:
    """Accuracy over every modality, weighted by question count."""
    out: dict[str, Any] = {}
    for split in ("val", "test"):
        n = sum(m.get(split, {}).get("n", 0) for m in by_kind.values())
        if n:
            out[f"{split}_accuracy"] = sum(m[split]["overall"] * m[split]["n"] for m in by_kind.values()
                                           if m.get(split, {}).get("n")) / n
            types: dict[str, list[float]] = defaultdict(list)
            for m in by_kind.values():
                for t, v in m.get(split, {}).get("by_answer_type", {}).items():
                    types[t].append(v)
            out[f"{split}_by_answer_type"] = {t: float(np.mean(v)) for t, v in types.items()}
    return out


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in d.items():
        if isinstance(v, np.ndarray):
            out[k] = [None if (isinstance(x, float) and math.isnan(x)) else (float(x) if not isinstance(x, (int, np.integer)) else int(x))
                      for x in v.tolist()]
        else:
            out[k] = v
    return out
