"""Queries behind the insight views (``core.insights``): score distributions, answers that changed
between two model versions, labelled questions, similar items and the answers in use."""
from __future__ import annotations

from typing import NamedTuple, Sequence

from sqlalchemy import Connection, and_, func, select

from ..types import LABEL_STATUSES, Status
from . import schema as s


def score_values(conn: Connection, version: str, method: str) -> list[float]:
    """Every question's score by ``method`` under model ``version`` (unordered)."""
    ps = s.prediction_scores
    return conn.execute(select(ps.c.value).where(ps.c.model_version == version, ps.c.method == method)).scalars().all()


class TopAnswers(NamedTuple):
    """A question (id, text, status, current answer) with the top answers and probabilities of two
    model versions."""

    question_id: int
    text: str
    status: Status
    answer: str | None
    old_answer: str | None
    old_prob: float | None
    new_answer: str | None
    new_prob: float | None


def top_answers_of_two_versions(conn: Connection, old: str, new: str) -> list[TopAnswers]:
    """Every question predicted by both ``old`` and ``new``, with each version's top answer."""
    q, p = s.questions, s.predictions
    po, pn = p.alias("po"), p.alias("pn")
    stmt = (select(q.c.id, q.c.text, q.c.status, q.c.answer, po.c.answers.label("oa"), po.c.probs.label("op"),
                   pn.c.answers.label("na"), pn.c.probs.label("np_"))
            .select_from(q.join(pn, and_(pn.c.question_id == q.c.id, pn.c.model_version == new))
                         .join(po, and_(po.c.question_id == q.c.id, po.c.model_version == old))))
    return [TopAnswers(r.id, r.text, Status(r.status), r.answer, r.oa[0] if r.oa else None,
                       float(r.op[0]) if r.op else None, r.na[0] if r.na else None,
                       float(r.np_[0]) if r.np_ else None)
            for r in conn.execute(stmt)]


def labelled_question_ids(conn: Connection) -> list[int]:
    """The questions with a label (labelled, accepted or corrected, and an answer)."""
    q = s.questions
    return list(conn.execute(select(q.c.id).where(q.c.status.in_([st.value for st in LABEL_STATUSES]),
                                                  q.c.answer.is_not(None))).scalars())


class QuestionWithMedia(NamedTuple):
    question_id: int
    item_id: int
    text: str
    answer: str | None
    status: Status
    media_uri: str


def questions_with_media(conn: Connection, question_ids: Sequence[int]) -> dict[int, QuestionWithMedia]:
    """question id -> the question with its item's media uri, for those of ``question_ids`` that exist."""
    q, i = s.questions, s.items
    rows = conn.execute(select(q.c.id, q.c.item_id, q.c.text, q.c.answer, q.c.status, i.c.uri)
                        .select_from(q.join(i, i.c.id == q.c.item_id)).where(q.c.id.in_(list(question_ids))))
    return {r.id: QuestionWithMedia(r.id, r.item_id, r.text, r.answer, Status(r.status), r.uri) for r in rows}


def answers_by_frequency(conn: Connection) -> list[str]:
    """Every distinct current answer, most frequent first (ties by answer)."""
    q = s.questions
    rows = conn.execute(select(q.c.answer, func.count()).where(q.c.answer.is_not(None))
                        .group_by(q.c.answer).order_by(func.count().desc(), q.c.answer)).all()
    return [r[0] for r in rows]
