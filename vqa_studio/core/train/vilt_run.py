"""Training a ViLT model (``vqa-studio train --model vilt:<folder or hub id>``).

The project's labelled image questions fine-tune ViLT's answer head (and, with ``--unfreeze N``, its
last N transformer layers); answers the checkpoint does not know get new classifier rows (the old
rows are kept). The version is evaluated on the validation and test splits, saved (only what
fine-tuning changed: ``ViltModel``), used to score the pool (MC-dropout on the head) and registered
like any other version. Runs inside ``run_training`` (same run record, cancel and failure handling).
"""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Generator, Sequence

from ..data.dataset import QA, Snapshot
from ..errors import VQAStudioError
from ..model.vilt import load_vilt, source_of
from ..model.vilt_model import ViltModel, is_vilt_model
from ..model.vilt_train import finetune
from ..types import ItemKind, Progress
from .config import TrainingArgs

BATCH = 16  # questions a fine-tuning step (ViLT is large next to our own model)


def run_vilt(project, args: TrainingArgs, run_id: int, version: str, path: Path, curves: list, t0: float
             ) -> Generator[Progress, None, Any]:
    from ..model.registry import load_version
    from ..store.db import utcnow
    from .pipeline import TrainOutcome
    from .publish import publish

    snapshot = Snapshot.load(project, include_auto_accepted=args.include_auto_accepted)
    train = snapshot.labelled(["train"], ItemKind.IMAGE)
    if not train:
        raise VQAStudioError("ViLT answers questions about images: label some image questions of the train split first")
    messages: list[str] = []
    parent = load_version(project) if args.mode == "finetune" and project.active_model else None
    if parent is not None and is_vilt_model(parent):
        proposer, parent_version = parent.proposer, parent.version
        messages.append(f"fine-tuned {parent.version} further")
    else:
        yield Progress("preparing", 0, None, f"loading ViLT from {source_of(args.model)}")
        proposer, parent_version = load_vilt(source_of(args.model)), None
    steps = max(1, args.epochs * math.ceil(len(train) / BATCH))
    result = yield from finetune(proposer, [snapshot.media_path(qa.item_id) for qa in train], [qa.text for qa in train],
                                 [qa.answer or "" for qa in train], steps=steps, lr=min(args.lr, 1e-3),
                                 batch_size=BATCH, unfreeze=args.unfreeze, seed=args.seed)
    if result["added"]:
        messages.append(f"{len(result['added'])} answers new to the model got classifier rows (e.g. '{result['added'][0]}')")
    curves.append({"epoch": args.epochs, "loss": result["loss"], "seconds": time.perf_counter() - t0,
                   "questions": len(train) * args.epochs, "kind": "image", "member_index": 0})
    yield Progress("evaluating", 0, 1, "accuracy on the validation and test splits")
    metrics = _metrics(proposer, snapshot)
    model = ViltModel(version, proposer, parent_version, metrics, {**args.to_dict(), "model": args.model},
                      {"n_labels": len(train)}, utcnow().isoformat())
    yield from publish(project, model, path, run_id, version, args.scoring_args(version), snapshot=snapshot)
    return TrainOutcome(version, path, metrics, curves, messages, time.perf_counter() - t0)


def _metrics(proposer, snapshot: Snapshot) -> dict[str, Any]:
    from .pipeline import accuracy_report

    out: dict[str, Any] = {"by_kind": {"image": {}}}
    for split in ("val", "test"):
        qs = snapshot.labelled([split], ItemKind.IMAGE)
        if not qs:
            continue
        report = accuracy_report(predict_vilt(proposer, snapshot, qs), qs)
        out[f"{split}_accuracy"] = report["overall"]
        out[f"{split}_by_answer_type"] = report["by_answer_type"]
        out["by_kind"]["image"][split] = report
    return out


def predict_vilt(proposer, snapshot: Snapshot, questions: Sequence[QA], entropy: dict[int, float] | None = None
                 ) -> dict[int, tuple[str, float]]:
    """question id -> (ViLT's top answer, its probability), no dropout; ``entropy`` receives each
    question's entropy of the answer distribution when given."""
    import numpy as np

    probs = proposer.probabilities([snapshot.media_path(qa.item_id) for qa in questions], [qa.text for qa in questions])
    probs = np.asarray(probs, dtype=np.float64)
    top = probs.argmax(-1)
    if entropy is not None:
        h = -(probs * np.log(np.clip(probs, 1e-12, 1.0))).sum(-1)
        entropy.update(zip((qa.question_id for qa in questions), h.tolist()))
    return {qa.question_id: (proposer.answers[i], float(probs[r, i])) for r, (qa, i) in enumerate(zip(questions, top))}
