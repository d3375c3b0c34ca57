"""The review queue when its status filter keeps few questions, and the whole queue (issue 16, scale).

``repository.queue_ids`` walks the score index from the most informative question down and keeps
those that pass the filters: a few milliseconds when many pass. When few do (the app's default
"to review" filter on a VQA v2-sized project whose 658,111 questions are all labelled: none pass),
the walk visits every scored question, then every unscored one: 29 s for an empty first page.

:func:`selective_queue_ids` takes those queries the other way round: from the questions of the
wanted statuses (their index), each joined to its score, sorted, paged; the cost follows the
questions that pass, not the project. Whether few pass is counted first, up to ``SELECTIVE``
questions (a bounded count on the status index). The order is the same as the walk's: scored
questions by score (ties by id), then the unscored ones by id.

The whole ordered queue (no ``limit``: what the app reads behind its first page) is always taken
this way: walking the score index reads the questions in score order, one random read each (32 s
for 658,111 questions here), while this reads them in their order and sorts (7 s; 1.3 s for the
65,811 of a "to review" filter).
"""
from __future__ import annotations

from sqlalchemy import Connection, and_, func, select

from ..types import QueueFilter, Status
from . import schema as s

#: at most this many questions of the filter's statuses: take the queue from them
SELECTIVE = 20_000


def selective_queue_ids(conn: Connection, order_by: str, filt: QueueFilter, version: str | None,
                        descending: bool, limit: int | None, offset: int, apply_filters) -> list[int] | None:
    """The queue's ids from the questions (of the filter's statuses) for the whole queue, or for a
    page when at most ``SELECTIVE`` questions have those statuses; None when the usual walk down the
    score index is the better plan (a page of a filter many questions pass)."""
    if not version or order_by == "id" or (limit is not None and not filt.statuses):
        return None
    q, i, ps = s.questions, s.items, s.prediction_scores
    if limit is not None:  # a page: the walk finds it at once unless few questions pass
        statuses = [Status(x).value for x in filt.statuses]
        few = select(q.c.id).where(q.c.status.in_(statuses)).limit(SELECTIVE + 1).subquery()
        if conn.execute(select(func.count()).select_from(few)).scalar_one() > SELECTIVE:
            return None
    value = ps.c.value.desc() if descending else ps.c.value.asc()
    stmt = (
        select(q.c.id)
        .select_from(q.join(i, i.c.id == q.c.item_id).outerjoin(
            ps, and_(ps.c.question_id == q.c.id, ps.c.model_version == version, ps.c.method == order_by)))
        .order_by(ps.c.value.is_(None), value, q.c.id)
    )
    stmt = apply_filters(stmt, filt).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(conn.execute(stmt).scalars())
