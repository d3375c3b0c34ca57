"""Outlier flags of a model version: dataset cartography of its training questions, and outlier
scores transferred to every other question (see ``cartography.py`` for the definitions).

After a training run (``core.train.pipeline``), ``store_training_dynamics`` turns each modality's
recorded history (its first ensemble member's) into per-question confidence, variability, category
and outlier score, and gives every question the model did not train on (the unlabelled pool, the
validation and test splits) a transferred score: the mean outlier score of its 10 nearest training
questions in the model's embedding space (the fused features saved by scoring), blended half and
half with its question type's mean (the type's hard-to-learn rate). All of it is stored with the
model version (``training_dynamics``).

A question is a *likely outlier* when its score is at least ``DEFAULT_THRESHOLD`` (0.5): for a
trained question, (1 - confidence)(1 - 2 variability) >= 0.5 means it was mostly wrong all along
without the model wavering (hard to learn); for a transferred one, most of its neighbourhood is.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from ..store import dynamics_rows
from ..uncertainty.oov import DEFAULT_FALSE_FLAG_RATE, OOV, fit_oov_threshold
from .cartography import cartography, transfer_outlier_scores

DEFAULT_THRESHOLD = 0.5
NEIGHBOURS = 10
TYPE_WEIGHT = 0.5


def _embeddings(project, version: str) -> tuple[np.ndarray, np.ndarray] | None:
    from .scoring import embeddings_path

    path = embeddings_path(project, version)
    if not path.exists():
        return None
    with np.load(path) as z:
        return np.asarray(z["question_ids"], np.int64), np.asarray(z["fused"], np.float32)


def dynamics_rows_of(histories: Mapping, question_types: Mapping[int, str],
                     embeddings: tuple[np.ndarray, np.ndarray] | None) -> list[dict]:
    """The ``training_dynamics`` rows: one per trained question (``histories``: TrainingDynamics per
    modality) and one per other question that has an embedding (transferred score)."""
    rows: list[dict] = []
    trained_ids, trained_scores = [], []
    for rec in histories.values():
        hist = rec.history()
        seen = np.isfinite(hist).any(axis=1) if hist.shape[1] else np.zeros(len(hist), bool)
        if not seen.any():
            continue
        cart = cartography(hist[seen])
        for j, qid in enumerate(rec.question_ids[seen].tolist()):
            rows.append({"question_id": int(qid), "source": "trained", "confidence": float(cart.confidence[j]),
                         "variability": float(cart.variability[j]), "category": str(cart.category[j]),
                         "outlier_score": float(cart.outlier_score[j]), "epochs": int(cart.epochs[j])})
        trained_ids.append(rec.question_ids[seen])
        trained_scores.append(cart.outlier_score)
    if not trained_ids or embeddings is None:
        return rows
    ids = np.concatenate(trained_ids)
    scores = np.concatenate(trained_scores)
    e_ids, emb = embeddings
    row_of = {int(q): r for r, q in enumerate(e_ids.tolist())}
    have = np.asarray([int(q) in row_of for q in ids.tolist()])
    if not have.any():
        return rows
    lab_rows = np.asarray([row_of[int(q)] for q in ids[have].tolist()], np.int64)
    trained = set(ids.tolist())
    pool = np.asarray([q for q in e_ids.tolist() if q not in trained], np.int64)
    if not pool.size:
        return rows
    pool_rows = np.asarray([row_of[int(q)] for q in pool.tolist()], np.int64)
    got = transfer_outlier_scores(emb[lab_rows], scores[have], emb[pool_rows], k=NEIGHBOURS,
                                  labelled_types=[question_types.get(int(q), "") for q in ids[have].tolist()],
                                  pool_types=[question_types.get(int(q), "") for q in pool.tolist()],
                                  type_weight=TYPE_WEIGHT)
    rows += [{"question_id": int(q), "source": "neighbours", "confidence": None, "variability": None,
              "category": None, "outlier_score": float(v), "epochs": 0} for q, v in zip(pool.tolist(), got.tolist())]
    return rows


def store_training_dynamics(project, version: str, histories: Mapping, snapshot) -> int:
    """Compute and store the outlier rows of ``version`` (see the module doc); -> rows written."""
    if not histories:
        return 0
    types = {qa.question_id: qa.question_type for qa in snapshot.questions}
    rows = dynamics_rows_of(histories, types, _embeddings(project, version))
    with project.writer.begin() as conn:
        return dynamics_rows.replace_dynamics(conn, version, rows)


@dataclass(frozen=True)
class OutlierRow:
    question_id: int
    outlier_score: float
    source: str  # "trained" (its own training dynamics) or "neighbours" (transferred)
    category: str | None  # easy | ambiguous | hard for trained questions
    confidence: float | None
    variability: float | None
    epochs: int
    text: str
    question_type: str
    status: str
    answer: str | None


def load_outliers(project, version: str | None = None, *, threshold: float | None = DEFAULT_THRESHOLD
                  ) -> list[OutlierRow]:
    """Questions of ``version`` (default: the active model), highest outlier score first; with a
    ``threshold`` only the likely outliers (score at least it)."""
    version = version or project.active_model
    if not version:
        return []
    with project.engine.connect() as conn:
        rows = dynamics_rows.dynamics(conn, version)
    out = [OutlierRow(r.question_id, r.outlier_score, r.source, r.category, r.confidence, r.variability, r.epochs,
                      r.text, r.question_type, r.status, r.answer) for r in rows]
    return [r for r in out if threshold is None or r.outlier_score >= threshold]


def outlier_scores(project, version: str | None = None) -> dict[int, float]:
    """question id -> outlier score of ``version`` (default: the active model; empty without one, or
    for a model trained before outliers were recorded)."""
    version = version or project.active_model
    if not version:
        return {}
    with project.engine.connect() as conn:
        return {q: v for q, (v, _cat) in dynamics_rows.outlier_scores(conn, version).items()}


def category_counts(rows: list[OutlierRow]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in rows:
        key = r.category or "not trained on"
        out[key] = out.get(key, 0) + 1
    return out


@dataclass(frozen=True)
class OOVReport:
    """Questions whose right answer may be outside the model's vocabulary (``uncertainty/oov.py``)."""

    threshold: float  # fitted on labelled validation questions whose answer is in the vocabulary
    false_flag_rate: float
    n_fitted: int  # how many such questions the threshold was fitted on
    flagged: list[tuple[int, float, str, str | None]]  # (question id, score, text, top answer), highest first
    n_scored: int


def oov_report(project, version: str | None = None, *, false_flag_rate: float = DEFAULT_FALSE_FLAG_RATE,
               statuses: tuple[str, ...] | None = ("new", "proposed", "auto_accepted")) -> OOVReport:
    """Flag the questions (by default those no person has answered) whose stored OOV score is above
    the threshold fitted on labelled validation questions with in-vocabulary answers (all labelled
    ones when the validation split has none)."""
    version = version or project.active_model
    if not version:
        return OOVReport(1.0, false_flag_rate, 0, [], 0)
    with project.engine.connect() as conn:
        rows = dynamics_rows.method_scores(conn, version, OOV)
    labelled = {"labelled", "accepted", "corrected"}
    fit = [r.value for r in rows if r.status in labelled and r.in_vocab and r.answer and r.split == "val"]
    if not fit:
        fit = [r.value for r in rows if r.status in labelled and r.in_vocab and r.answer]
    threshold = fit_oov_threshold(fit, false_flag_rate)
    flagged = sorted(((r.question_id, r.value, r.text, r.top) for r in rows
                      if r.value > threshold and (statuses is None or r.status in statuses)), key=lambda t: -t[1])
    return OOVReport(threshold, false_flag_rate, len(fit), flagged, len(rows))
