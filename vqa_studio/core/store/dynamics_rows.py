"""Queries over ``training_dynamics`` (dataset cartography and outlier scores per model version) and
``audits`` (the audit queue of auto-accepted answers). Issue 13; the logic is in ``core.active``."""
from __future__ import annotations

from typing import Any, NamedTuple, Sequence

from sqlalchemy import Connection, delete, func, insert, select, update

from . import schema as s
from .db import utcnow

CHUNK = 20000


def replace_dynamics(conn: Connection, version: str, rows: Sequence[dict[str, Any]]) -> int:
    """Replace the rows of ``version`` (``training_dynamics`` columns but the version)."""
    t = s.training_dynamics
    conn.execute(delete(t).where(t.c.model_version == version))
    rows = [{**r, "model_version": version} for r in rows]
    for k in range(0, len(rows), CHUNK):
        conn.execute(insert(t), rows[k:k + CHUNK])
    return len(rows)


def delete_dynamics(conn: Connection, version: str) -> None:
    conn.execute(delete(s.training_dynamics).where(s.training_dynamics.c.model_version == version))


class DynamicsRow(NamedTuple):
    question_id: int
    source: str
    confidence: float | None
    variability: float | None
    category: str | None
    outlier_score: float
    epochs: int
    text: str
    question_type: str
    status: str
    answer: str | None


def dynamics(conn: Connection, version: str, question_ids: Sequence[int] | None = None) -> list[DynamicsRow]:
    """Rows of ``version`` with the question's text, type, status and answer, highest outlier score first."""
    t, q = s.training_dynamics, s.questions
    stmt = (select(t.c.question_id, t.c.source, t.c.confidence, t.c.variability, t.c.category, t.c.outlier_score,
                   t.c.epochs, q.c.text, q.c.question_type, q.c.status, q.c.answer)
            .select_from(t.join(q, q.c.id == t.c.question_id)).where(t.c.model_version == version)
            .order_by(t.c.outlier_score.desc(), t.c.question_id))
    if question_ids is not None:
        stmt = stmt.where(t.c.question_id.in_(list(question_ids)))
    return [DynamicsRow(*r) for r in conn.execute(stmt)]


def outlier_scores(conn: Connection, version: str) -> dict[int, tuple[float, str | None]]:
    """question id -> (outlier score, category) of ``version`` (category None: transferred score)."""
    t = s.training_dynamics
    stmt = select(t.c.question_id, t.c.outlier_score, t.c.category).where(t.c.model_version == version)
    return {int(qid): (float(score), cat) for qid, score, cat in conn.execute(stmt)}


# --- audits -----------------------------------------------------------------------------------------------

def add_audits(conn: Connection, rows: Sequence[dict[str, Any]]) -> int:
    """New pending audits (``audits`` columns: question_id, model_version, answer, confidence, threshold)."""
    if rows:
        now = utcnow()
        conn.execute(insert(s.audits), [{**r, "created_at": now} for r in rows])
    return len(rows)


class AuditRow(NamedTuple):
    id: int
    question_id: int
    model_version: str | None
    answer: str | None
    confidence: float | None
    threshold: float | None
    created_at: Any
    outcome: str | None
    decided_answer: str | None
    decided_by: str | None
    text: str
    status: str
    current_answer: str | None


def audits(conn: Connection, *, pending: bool | None = None, limit: int | None = None) -> list[AuditRow]:
    """Audits (with the question's text, status and current answer), oldest first; ``pending``:
    only the undecided (True) or only the decided (False)."""
    a, q = s.audits, s.questions
    stmt = (select(a.c.id, a.c.question_id, a.c.model_version, a.c.answer, a.c.confidence, a.c.threshold,
                   a.c.created_at, a.c.outcome, a.c.decided_answer, a.c.decided_by, q.c.text, q.c.status, q.c.answer)
            .select_from(a.join(q, q.c.id == a.c.question_id)).order_by(a.c.id))
    if pending is True:
        stmt = stmt.where(a.c.outcome.is_(None))
    elif pending is False:
        stmt = stmt.where(a.c.outcome.is_not(None))
    if limit is not None:
        stmt = stmt.limit(limit)
    return [AuditRow(*r) for r in conn.execute(stmt)]


def decide_audit(conn: Connection, audit_id: int, outcome: str, answer: str | None, annotator: str) -> bool:
    """Record an audit's outcome; False when it was decided already (by someone else meanwhile)."""
    a = s.audits
    res = conn.execute(update(a).where(a.c.id == audit_id, a.c.outcome.is_(None))
                       .values(outcome=outcome, decided_answer=answer, decided_by=annotator, decided_at=utcnow()))
    return res.rowcount == 1


def audit_counts(conn: Connection) -> dict[str | None, int]:
    """outcome (None: pending) -> count."""
    a = s.audits
    return {o: int(n) for o, n in conn.execute(select(a.c.outcome, func.count()).group_by(a.c.outcome))}


class MethodScore(NamedTuple):
    question_id: int
    value: float
    split: str
    status: str
    in_vocab: bool
    text: str
    answer: str | None  # the current answer
    top: str | None  # the model's top answer


def method_scores(conn: Connection, version: str, method: str) -> list[MethodScore]:
    """Every stored ``method`` score of ``version`` with the question's split, status and answers."""
    sc, p, q, i = s.prediction_scores, s.predictions, s.questions, s.items
    stmt = (select(sc.c.question_id, sc.c.value, i.c.split, q.c.status, p.c.in_vocab, q.c.text, q.c.answer,
                   p.c.answer.label("top"))
            .select_from(sc.join(q, q.c.id == sc.c.question_id).join(i, i.c.id == q.c.item_id)
                         .join(p, (p.c.question_id == sc.c.question_id) & (p.c.model_version == sc.c.model_version)))
            .where(sc.c.model_version == version, sc.c.method == method))
    return [MethodScore(*r) for r in conn.execute(stmt)]
