"""Whole-project reads of the review history (``corrections``): every question's history at once
(export) and the chain of states (``Project.verify_history``). The per-question reads and the
writes are in ``repository``."""
from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import Connection, select

from ..types import Correction
from . import schema as s
from .repository import _correction


class StateChange(NamedTuple):
    """One history row as a change of state; statuses as stored (text)."""

    id: int
    question_id: int
    before_answer: str | None
    before_status: str
    after_answer: str | None
    after_status: str


def all_histories(conn: Connection) -> dict[int, list[Correction]]:
    """question id -> its history rows, oldest first, for every question that has any."""
    c = s.corrections
    out: dict[int, list[Correction]] = {}
    for r in conn.execute(select(c).order_by(c.c.id)):
        out.setdefault(r.question_id, []).append(_correction(r))
    return out


def question_states(conn: Connection) -> dict[int, tuple[str | None, str]]:
    """question id -> (answer, status as stored), for every question."""
    q = s.questions
    return {r.id: (r.answer, r.status) for r in conn.execute(select(q.c.id, q.c.answer, q.c.status))}


def state_changes(conn: Connection) -> list[StateChange]:
    """Every history row's before and after state, in the order they were written."""
    c = s.corrections
    rows = conn.execute(select(c.c.id, c.c.question_id, c.c.before_answer, c.c.before_status,
                               c.c.after_answer, c.c.after_status).order_by(c.c.id))
    return [StateChange(*r) for r in rows]
