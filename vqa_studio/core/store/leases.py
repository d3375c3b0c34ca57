"""Claims on questions (team review): the SQL behind ``core.team``.

A claim is a lease: one row per question in ``claims`` with its holder and when it expires. The
queue hands a question to an annotator only if nobody else holds a live lease on it:

* the candidates are read in review order with ``FOR UPDATE OF questions SKIP LOCKED`` on
  PostgreSQL, so annotators claiming at the same moment walk past each other's rows instead of
  queueing on them (on SQLite the write transaction is ``BEGIN IMMEDIATE``: one writer at a time,
  the same guarantee);
* each claim is then written by one guarded upsert (``INSERT .. ON CONFLICT DO UPDATE .. WHERE the
  lease expired or is mine``): a row that another transaction claimed since our snapshot is not
  taken over (the upsert changes no row), so two annotators never hold the same question.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple, Sequence

from sqlalchemy import Connection, delete, exists, or_, select, text, update

from ..types import QueueFilter, Status
from . import schema as s
from .db import utcnow
from .repository import _apply_filters


class ClaimRow(NamedTuple):
    question_id: int
    annotator: str
    claimed_at: datetime
    expires_at: datetime


def _upsert(conn: Connection):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - the two dialects VQA Studio runs on
        raise NotImplementedError(f"claims need PostgreSQL or SQLite, not {conn.dialect.name}")
    return insert


def _free(annotator: str, now: datetime):
    """No live lease by someone else on the question."""
    c = s.claims
    held = exists().where(c.c.question_id == s.questions.c.id, c.c.expires_at > now, c.c.annotator != annotator)
    return ~held


def candidates(conn: Connection, *, annotator: str, now: datetime, order_by: str, version: str | None,
               filt: QueueFilter, limit: int, descending: bool = True) -> list[int]:
    """Up to ``limit`` question ids in review order (scored by ``order_by`` first, then the unscored by
    id) that nobody else holds, row-locked for this transaction (skipping rows locked by another)."""
    q, i, ps = s.questions, s.items, s.prediction_scores
    lock = {"skip_locked": True, "of": q} if conn.dialect.name == "postgresql" else None
    ids: list[int] = []
    if version and order_by != "id":
        stmt = (select(q.c.id).select_from(ps.join(q, q.c.id == ps.c.question_id).join(i, i.c.id == q.c.item_id))
                .where(ps.c.model_version == version, ps.c.method == order_by, _free(annotator, now))
                .order_by(ps.c.value.desc() if descending else ps.c.value.asc(), ps.c.question_id).limit(limit))
        stmt = _apply_filters(stmt, filt)
        ids = list(conn.execute(stmt.with_for_update(**lock) if lock else stmt).scalars())
        if len(ids) >= limit:
            return ids
        scored = exists().where(ps.c.question_id == q.c.id, ps.c.model_version == version, ps.c.method == order_by)
        rest = select(q.c.id).select_from(q.join(i, i.c.id == q.c.item_id)).where(~scored)
    else:
        rest = select(q.c.id).select_from(q.join(i, i.c.id == q.c.item_id))
    rest = _apply_filters(rest.where(_free(annotator, now)), filt).order_by(q.c.id).limit(limit - len(ids))
    ids.extend(conn.execute(rest.with_for_update(**lock) if lock else rest).scalars())
    return ids


def take(conn: Connection, question_id: int, annotator: str, now: datetime, expires: datetime) -> bool:
    """Claim one question unless someone else holds a live lease on it (an expired lease is taken
    over; our own is renewed). True when the claim is ours afterwards."""
    c = s.claims
    ins = _upsert(conn)(c).values(question_id=question_id, annotator=annotator, claimed_at=now, expires_at=expires)
    stmt = ins.on_conflict_do_update(
        index_elements=[c.c.question_id],
        set_={"annotator": annotator, "claimed_at": ins.excluded.claimed_at, "expires_at": expires},
        where=or_(c.c.expires_at <= now, c.c.annotator == annotator),
    )
    return conn.execute(stmt).rowcount == 1


def renew(conn: Connection, question_ids: Sequence[int], annotator: str, expires: datetime) -> list[int]:
    """Extend ``annotator``'s claims on these questions (an expired claim nobody took over is still
    theirs); returns the ids renewed (the others were taken over, or never held)."""
    c = s.claims
    if not question_ids:
        return []
    stmt = (update(c).where(c.c.question_id.in_(list(question_ids)), c.c.annotator == annotator)
            .values(expires_at=expires).returning(c.c.question_id))
    return sorted(conn.execute(stmt).scalars())


def release(conn: Connection, question_ids: Sequence[int] | None, annotator: str) -> int:
    """Drop ``annotator``'s claims (on these questions, or all of them); returns how many."""
    c = s.claims
    stmt = delete(c).where(c.c.annotator == annotator)
    if question_ids is not None:
        stmt = stmt.where(c.c.question_id.in_(list(question_ids)))
    return conn.execute(stmt).rowcount


def holder(conn: Connection, question_id: int) -> ClaimRow | None:
    row = conn.execute(select(s.claims).where(s.claims.c.question_id == question_id)).first()
    return ClaimRow(row.question_id, row.annotator, row.claimed_at, row.expires_at) if row else None


def live_claims(conn: Connection, now: datetime, annotator: str | None = None) -> list[ClaimRow]:
    """The leases that have not expired (of one annotator, or everyone's), by question."""
    c = s.claims
    stmt = select(c).where(c.c.expires_at > now).order_by(c.c.question_id)
    if annotator is not None:
        stmt = stmt.where(c.c.annotator == annotator)
    return [ClaimRow(r.question_id, r.annotator, r.claimed_at, r.expires_at) for r in conn.execute(stmt)]


def db_now(conn: Connection) -> datetime:
    """'Now' for leases, naive UTC: the server's clock on PostgreSQL (annotators' machines may
    disagree by minutes; the server is one clock for all), this machine's for a SQLite file."""
    if conn.dialect.name == "postgresql":
        return conn.execute(text("SELECT timezone('utc', clock_timestamp())")).scalar_one()
    return utcnow()


def lease_end(now: datetime, lease_s: float) -> datetime:
    return now + timedelta(seconds=lease_s)


def to_review_filter(filt: QueueFilter | None) -> QueueFilter:
    """The queue's filter for handing out work: by default the questions still to review."""
    if filt is not None and filt.statuses:
        return filt
    base = filt or QueueFilter()
    return QueueFilter(statuses=[Status.NEW, Status.PROPOSED], splits=base.splits,
                       question_types=base.question_types, answer_types=base.answer_types,
                       item_kinds=base.item_kinds, model_version=base.model_version, search=base.search)


__all__ = ["ClaimRow", "candidates", "take", "renew", "release", "holder", "live_claims", "lease_end", "db_now",
           "to_review_filter"]
