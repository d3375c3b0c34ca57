"""Review policies over the model's stored predictions: auto-accept by a confidence threshold.

The active model's predictions (``predictions`` table) carry its top answer and its *calibrated*
probability (columns ``answer`` and ``confidence``). Auto-accept takes every unreviewed question whose top probability is at least a
threshold and records an ``auto_accept`` action for it (status ``auto_accepted``: it stays in the
queue and can be reviewed like any other). Before doing so, ``AutoAcceptData.preview`` says how
many questions the threshold would take and what error rate to expect there: 1 - the model's VQA
accuracy on the labelled validation questions whose confidence is at least the same threshold.

Everything here reads the database once (``load_auto_accept_data``) and then answers any
threshold with numpy, so a slider in the GUI can preview as it moves.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Generator, Sequence

import numpy as np
from ..data.vocab import vqa_accuracy
from ..errors import ConflictError
from ..store import dynamics_rows
from ..store import predictions as prediction_rows
from ..store import repository as repo
from ..types import LABEL_STATUSES, Action, Progress, Status
from .guarantee import DEFAULT_DELTA, DEFAULT_MODE, DEFAULT_TARGET, Threshold, audit_sample, precision_threshold

#: statuses a person has not looked at yet (what auto-accept may take)
UNREVIEWED = (Status.NEW, Status.PROPOSED)
#: evaluation splits: their unlabelled questions are left for people by default
EVAL_SPLITS = ("val", "test")


@dataclass(frozen=True)
class AutoAcceptPreview:
    threshold: float
    n_accept: int  # unreviewed questions with confidence >= threshold
    n_pool: int  # unreviewed questions with a proposal
    n_val: int  # labelled validation questions with confidence >= threshold
    n_val_total: int  # labelled validation questions with a prediction
    expected_error: float | None  # 1 - mean VQA accuracy on those n_val; None when n_val == 0

    def describe(self) -> str:
        head = f"confidence >= {self.threshold:.2f}: {self.n_accept:,} of {self.n_pool:,} unreviewed questions"
        if self.expected_error is None:
            return head + "; no labelled validation questions at this confidence to estimate the error rate"
        return head + (f"; expected error rate {self.expected_error * 100:.1f}% "
                       f"(from {self.n_val:,} validation questions at this confidence)")


@dataclass
class AutoAcceptData:
    """What the threshold decisions need, loaded once for one model version."""

    version: str | None
    pool_ids: np.ndarray  # int64 [N], sorted by confidence, highest first
    pool_conf: np.ndarray  # float64 [N]
    pool_status: list[Status]
    val_conf: np.ndarray  # float64 [V]
    val_acc: np.ndarray  # float64 [V]: VQA accuracy of the top answer
    n_audits: int = 0  # of the V: decided audits of auto-accepted answers (1 confirmed, 0 corrected)

    @property
    def val_correct(self) -> np.ndarray:
        """bool [V]: the top answer is fully right (VQA accuracy 1; any partial credit is a mistake)."""
        return self.val_acc >= 1.0 - 1e-9

    def guarantee(self, target: float = DEFAULT_TARGET, delta: float = DEFAULT_DELTA, *,
                  mode: str = DEFAULT_MODE) -> Threshold:
        """The lowest threshold whose held-out precision has a one-sided Clopper-Pearson lower bound of
        at least ``target`` (``guarantee.precision_threshold`` on the labelled validation questions
        plus the decided audits)."""
        return precision_threshold(self.val_conf, self.val_correct, target, delta, mode=mode)

    def pool_coverage(self, threshold: float) -> float:
        """Share of the unreviewed pool at or above ``threshold`` (what auto-accept would take)."""
        return float(np.count_nonzero(self.pool_conf >= threshold)) / len(self.pool_conf) if len(self.pool_conf) else 0.0

    def preview(self, threshold: float) -> AutoAcceptPreview:
        n_accept = int(np.count_nonzero(self.pool_conf >= threshold))
        sel = self.val_conf >= threshold
        n_val = int(np.count_nonzero(sel))
        err = float(1.0 - self.val_acc[sel].mean()) if n_val else None
        return AutoAcceptPreview(float(threshold), n_accept, int(len(self.pool_ids)), n_val, int(len(self.val_conf)), err)

    def curve(self, thresholds: Sequence[float]) -> list[AutoAcceptPreview]:
        return [self.preview(t) for t in thresholds]

    def selected(self, threshold: float) -> list[tuple[int, Status]]:
        n = int(np.count_nonzero(self.pool_conf >= threshold))
        return [(int(q), st) for q, st in zip(self.pool_ids[:n].tolist(), self.pool_status[:n])]


def _label_answers(status: Status, answer: str | None, imported: list[dict]) -> tuple[str, ...]:
    # the same rule as training: a person's answer is the one answer, an imported label keeps all its answers
    if answer is None:
        return ()
    if status is Status.LABELLED and imported:
        return tuple(a["answer"] for a in imported)
    return (answer,)


def load_auto_accept_data(project, model_version: str | None = None, *, val_split: str = "val",
                          exclude_splits: Sequence[str] = EVAL_SPLITS) -> AutoAcceptData:
    """Read the confidences of ``model_version`` (default: the active model) once."""
    version = model_version or project.active_model
    empty = np.zeros(0)
    if not version:
        return AutoAcceptData(None, np.zeros(0, np.int64), empty, [], empty, empty)
    pool: list[tuple[float, int, Status]] = []
    val: list[tuple[int, float, str, Status, str | None]] = []
    unreviewed = {st.value for st in UNREVIEWED}
    labels = {st.value for st in LABEL_STATUSES}
    excluded = set(exclude_splits)
    with project.engine.connect() as conn:
        for r in prediction_rows.confidences(conn, version):
            if r.confidence is None or r.top is None:
                continue
            conf = float(r.confidence)
            if r.status in unreviewed and r.split not in excluded:
                pool.append((conf, r.question_id, Status(r.status)))
            elif r.split == val_split and r.status in labels and r.answer is not None:
                val.append((r.question_id, conf, r.top, Status(r.status), r.answer))
        imported = repo.imported_answers_many(conn, [v[0] for v in val]) if val else {}
        audited = [a for a in dynamics_rows.audits(conn, pending=False) if a.confidence is not None]
    pool.sort(key=lambda t: (-t[0], t[1]))
    # the decided audits join the held-out set: a random share of what auto-accept took, checked by a person
    val_conf = np.asarray([v[1] for v in val] + [a.confidence for a in audited], dtype=np.float64)
    val_acc = np.asarray([vqa_accuracy(top, _label_answers(st, ans, imported.get(qid, [])))
                          for qid, _, top, st, ans in val] + [float(a.outcome == "confirmed") for a in audited],
                         dtype=np.float64)
    return AutoAcceptData(
        version,
        np.asarray([t[1] for t in pool], dtype=np.int64),
        np.asarray([t[0] for t in pool], dtype=np.float64),
        [t[2] for t in pool],
        val_conf, val_acc, len(audited),
    )


def preview_auto_accept(project, threshold: float, model_version: str | None = None) -> AutoAcceptPreview:
    return load_auto_accept_data(project, model_version).preview(threshold)


@dataclass
class AutoAcceptResult:
    threshold: float
    accepted: list[int]
    conflicts: int = 0  # questions someone reviewed between the preview and the apply: left alone
    seconds: float = 0.0
    audited: list[int] = field(default_factory=list)  # of the accepted: sent to the audit queue

    def summary(self) -> str:
        extra = f" ({self.conflicts} changed meanwhile and were left alone)" if self.conflicts else ""
        audits = f"; {len(self.audited):,} sent to the audit queue" if self.audited else ""
        return f"auto-accepted {len(self.accepted):,} questions at confidence >= {self.threshold:.4g}{extra}{audits}"


def apply_auto_accept(project, threshold: float, model_version: str | None = None, *,
                      data: AutoAcceptData | None = None, limit: int | None = None, audit_share: float = 0.0,
                      seed: int | None = None) -> Generator[Progress, None, AutoAcceptResult]:
    """Auto-accept every unreviewed question at confidence >= ``threshold``, most confident first.

    Each question is its own transaction (one ``auto_accept`` history row), so closing the
    generator (cancel) keeps what was accepted so far and nothing half-done. A question whose
    status changed since ``data`` was loaded (someone reviewed it) is left alone. A random
    ``audit_share`` of the accepted questions goes to the audit queue (``audit.py``) at the end.
    """
    t0 = time.perf_counter()
    data = data or load_auto_accept_data(project, model_version)
    if data.version and project.active_model != data.version:
        raise ConflictError(f"model {data.version} is no longer the active model; preview again")
    chosen = data.selected(threshold)
    if limit is not None:
        chosen = chosen[:limit]
    result = AutoAcceptResult(float(threshold), [])
    total = len(chosen)
    yield Progress("auto-accept", 0, total, f"{total:,} questions at confidence >= {threshold:.2f}")
    # in chunks of transactions, one history row per question; a question reviewed meanwhile (its
    # status is no longer what the preview saw) is left alone and counted as a conflict
    statuses = {status for _, status in chosen}
    gen = project.record_many([qid for qid, _ in chosen], Action.AUTO_ACCEPT, expect_status=statuses, chunk=200)
    try:
        while True:
            p = next(gen)
            yield Progress("auto-accept", p.done, total, p.message)
    except StopIteration as stop:
        result.accepted = [c.question_id for c in stop.value]
    result.conflicts = total - len(result.accepted)
    if audit_share > 0 and result.accepted:
        result.audited = _queue_audits(project, data, result.accepted, threshold, audit_share, seed)
    result.seconds = time.perf_counter() - t0
    return result


def _queue_audits(project, data: AutoAcceptData, accepted: list[int], threshold: float, share: float,
                  seed: int | None) -> list[int]:
    """Send a uniform random ``share`` of the ``accepted`` questions to the audit queue."""
    picks = [accepted[i] for i in audit_sample(len(accepted), share, seed).tolist()]
    if not picks:
        return []
    conf = dict(zip(data.pool_ids.tolist(), data.pool_conf.tolist()))
    answers = {q: qq.answer for q, qq in project.questions(picks).items()}
    rows = [{"question_id": q, "model_version": data.version, "answer": answers.get(q), "confidence": conf.get(q),
             "threshold": float(threshold)} for q in picks]
    with project.writer.begin() as conn:
        dynamics_rows.add_audits(conn, rows)
    return picks
