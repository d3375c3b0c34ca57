"""Out-of-sample probabilities of the labelled questions, by k-fold cross-validation, and the label
errors confident learning finds in them (``core.active.label_errors``). It trains, so it lives with
training (``core.active`` never imports ``core.train``).

Confident learning needs, for every labelled question, probabilities from a model that did not train
on it: the active model has trained on most labels, and its in-sample probabilities agree with them,
errors included. So the labelled questions are split into ``folds`` folds *by item* (the questions of
one image stay together, so no fold learns an image from its neighbours' labels), a network of the
active model's architecture and vocabulary is trained from scratch on the other folds (``epochs``
epochs of the same training loop) and predicts the held-out fold. A question whose stored answer is
outside the active model's vocabulary cannot be checked this way and is left out (the
out-of-vocabulary score in ``uncertainty/oov.py`` covers those).
"""
from __future__ import annotations

import csv
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generator

import numpy as np

from ..errors import VQAStudioError
from ..types import ItemKind, Progress
from ..active.label_errors import LabelErrors, find_label_errors

DEFAULT_FOLDS = 4
DEFAULT_EPOCHS = 4


@dataclass
class CrossValProbs:
    question_ids: np.ndarray  # int64 [N]
    probs: np.ndarray  # float32 [N, C]: each row from the fold model that did not train on it
    labels: np.ndarray  # int64 [N]: the stored answer's class
    answers: list[str]  # the C classes
    folds: int = DEFAULT_FOLDS


def cross_validated_probs(project, *, folds: int = DEFAULT_FOLDS, epochs: int = DEFAULT_EPOCHS, seed: int = 0,
                          version: str | None = None) -> Generator[Progress, None, CrossValProbs]:
    """``CrossValProbs`` of every labelled question whose answer the model can output (see the module doc)."""
    import torch

    from ..data.dataset import Snapshot, VQADataset
    from ..model.pretrained_media import media_for_bundle
    from ..model.registry import load_version
    from .config import FP32, TrainingArgs

    if int(folds) < 2:
        raise VQAStudioError(f"cross-validation needs at least 2 folds, not {folds}")
    bundle = load_version(project, version)
    if getattr(bundle, "kind", None) == "vilt":
        raise VQAStudioError("label errors need a VQA Studio model as the active model (a ViLT model cannot be "
                             "retrained per fold)")
    snapshot = Snapshot.load(project)
    answers = bundle.encoders.answers
    labelled = [qa for qa in snapshot.labelled() if qa.kind in bundle.nets and answers.index(qa.answer) >= 0]
    if len(labelled) < 2 * folds:
        raise VQAStudioError(f"only {len(labelled)} labelled questions the model can answer: too few for "
                             f"{folds}-fold cross-validation")
    media = media_for_bundle(bundle, snapshot, project.folder / "cache")
    for done, total in media.load({qa.item_id for qa in labelled}):
        yield Progress("loading media", done, total, "decoding media")
    labelled = [qa for qa in labelled if qa.item_id not in media.errors]
    targs = TrainingArgs.from_dict({**bundle.training, "epochs": int(epochs), "skip_easy": 0.0,
                                    "freeze_media_at": None, "time_limit_s": None, "ensemble": 1})
    rng = np.random.default_rng(seed)
    items = sorted({qa.item_id for qa in labelled})
    fold_of = dict(zip(items, rng.permutation(len(items)) % folds))
    qids, probs = [], []
    for kind in (ItemKind.IMAGE, ItemKind.CLOUD):
        qs = [qa for qa in labelled if qa.kind is kind]
        for f in range(folds):
            held = [qa for qa in qs if fold_of[qa.item_id] == f]
            train = [qa for qa in qs if fold_of[qa.item_id] != f]
            if not held or not train:
                continue
            got = yield from _fold(bundle, kind, train, held, media, targs, f, folds, seed, torch, VQADataset, FP32)
            qids.append(got[0])
            probs.append(got[1])
    if not qids:
        raise VQAStudioError("no fold had both training and held-out questions")
    q = np.concatenate(qids)
    label_of = {qa.question_id: answers.index(qa.answer) for qa in labelled}
    return CrossValProbs(q, np.concatenate(probs), np.asarray([label_of[int(x)] for x in q], np.int64),
                         list(answers.answers), folds)


def _fold(bundle, kind, train, held, media, targs, f, folds, seed, torch, VQADataset, FP32):
    from ..model.net import VQANet
    from .loop import collect_logits, train_net

    torch.manual_seed(seed + 101 * f)
    net = VQANet.from_config(bundle.nets[kind].config)
    train_ds = VQADataset(train, media, bundle.encoders)
    label = f"{kind.value} fold {f + 1}/{folds}: "
    result = yield from train_net(net, train_ds, None, targs, torch.device("cpu"), FP32, seed=seed + f, label=label)
    logp, _labels, qids = collect_logits([result.net], VQADataset(held, media, bundle.encoders), torch.device("cpu"))
    return qids, np.exp(logp).astype(np.float32)


@dataclass(frozen=True)
class LabelErrorRow:
    question_id: int
    text: str
    answer: str  # the stored label
    suggested: str  # the fold model's top answer
    p_answer: float  # the fold model's probability of the stored label
    p_suggested: float
    margin: float  # p(label) - max other p: lowest is most suspicious


@dataclass
class LabelErrorReport:
    rows: list[LabelErrorRow]
    expected_count: float
    n_checked: int
    folds: int
    seconds: float = 0.0
    errors: LabelErrors | None = field(default=None, repr=False)

    def summary(self) -> str:
        return (f"{len(self.rows):,} likely label errors among {self.n_checked:,} labelled questions "
                f"(confident learning on {self.folds}-fold cross-validated probabilities; expected number of "
                f"label errors {self.expected_count:.1f})")

    def write_csv(self, path: Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["question_id", "question", "answer", "suggested", "p_answer", "p_suggested", "margin"])
            for r in self.rows:
                w.writerow([r.question_id, r.text, r.answer, r.suggested, f"{r.p_answer:.4f}", f"{r.p_suggested:.4f}",
                            f"{r.margin:.4f}"])


def label_errors(project, *, folds: int = DEFAULT_FOLDS, epochs: int = DEFAULT_EPOCHS, seed: int = 0
                 ) -> Generator[Progress, None, LabelErrorReport]:
    """Labelled questions whose stored answer the cross-validated model confidently contradicts, most
    suspicious first (``vqa-studio label-errors``, Review ▸ Label errors…)."""
    t0 = time.perf_counter()
    cv = yield from cross_validated_probs(project, folds=folds, epochs=epochs, seed=seed)
    yield Progress("confident learning", 0, 1, f"{len(cv.question_ids):,} labelled questions")
    found = find_label_errors(cv.probs, cv.labels)
    qids = cv.question_ids[found.indices].tolist()
    questions = project.questions(qids)
    rows = []
    for k, (qid, row) in enumerate(zip(qids, found.indices.tolist())):
        sugg = int(found.suggested[k])
        rows.append(LabelErrorRow(int(qid), questions[qid].text, cv.answers[int(cv.labels[row])], cv.answers[sugg],
                                  float(cv.probs[row, cv.labels[row]]), float(cv.probs[row, sugg]),
                                  float(found.margin[k])))
    return LabelErrorReport(rows, found.expected_count, len(cv.question_ids), cv.folds, time.perf_counter() - t0, found)
