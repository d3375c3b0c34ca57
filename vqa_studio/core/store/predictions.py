"""Queries over a model version's stored predictions (``predictions``, ``prediction_scores``): writing
a scoring's results, forgetting them, proposing their answers, and reading the confidences the
auto-accept policy needs."""
from __future__ import annotations

from typing import Any, NamedTuple, Sequence

from sqlalchemy import Connection, delete, insert, literal_column, select, update

from ..types import Status
from . import schema as s
from .db import utcnow

#: rows per INSERT statement (predictions carry blobs; scores are small)
PREDICTION_CHUNK = 20000
SCORE_CHUNK = 100000


def replace_predictions(conn: Connection, version: str, prediction_rows: Sequence[dict[str, Any]],
                        score_rows: Sequence[dict[str, Any]]) -> int:
    """Replace every prediction and score of ``version`` with these rows (``predictions`` and
    ``prediction_scores`` columns; ``created_at`` is set here, one time for all). The caller's
    transaction makes it all or nothing."""
    now = literal_column("'" + utcnow().isoformat(sep=" ") + "'")
    delete_predictions(conn, version)
    for k in range(0, len(prediction_rows), PREDICTION_CHUNK):
        conn.execute(insert(s.predictions).values(created_at=now), prediction_rows[k:k + PREDICTION_CHUNK])
    for k in range(0, len(score_rows), SCORE_CHUNK):
        conn.execute(insert(s.prediction_scores), score_rows[k:k + SCORE_CHUNK])
    return len(prediction_rows)


def delete_predictions(conn: Connection, version: str) -> None:
    """Remove the predictions and scores of ``version`` (scores first: they refer to the questions)."""
    conn.execute(delete(s.prediction_scores).where(s.prediction_scores.c.model_version == version))
    conn.execute(delete(s.predictions).where(s.predictions.c.model_version == version))


def mark_proposed(conn: Connection, version: str) -> None:
    """Questions nobody has answered yet, and that ``version`` has a proposal for, become 'proposed'."""
    predicted = select(s.predictions.c.question_id).where(s.predictions.c.model_version == version)
    conn.execute(update(s.questions).where(s.questions.c.status == Status.NEW.value, s.questions.c.id.in_(predicted))
                 .values(status=Status.PROPOSED.value, updated_at=utcnow()))


class Confidence(NamedTuple):
    """A question predicted by a model version: its state, its split and the model's top answer."""

    question_id: int
    status: str  # the stored value of ``Status``
    answer: str | None  # the current answer
    split: str
    confidence: float | None  # the calibrated probability of the top answer
    top: str | None  # the top answer


def confidences(conn: Connection, version: str) -> list[Confidence]:
    """Every question ``version`` predicted, with its status, answer, split and the top answer."""
    q, i, p = s.questions, s.items, s.predictions
    stmt = (select(q.c.id, q.c.status, q.c.answer, i.c.split, p.c.confidence, p.c.answer.label("top"))
            .select_from(p.join(q, q.c.id == p.c.question_id).join(i, i.c.id == q.c.item_id))
            .where(p.c.model_version == version))
    return [Confidence(*r) for r in conn.execute(stmt)]
