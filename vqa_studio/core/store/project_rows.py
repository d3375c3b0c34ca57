"""Queries behind ``Project``'s single adds, statistics, lists and exports (plain python values and
``core.types``; never rows)."""
from __future__ import annotations

from datetime import datetime
from typing import NamedTuple, Sequence

from sqlalchemy import Connection, func, insert, select

from ..types import ItemKind, Stats
from . import schema as s
from .repository import all_info, count_by, encode_answer_rows


# --- single items and questions ---------------------------------------------------------------------

def item_id_by_uri(conn: Connection, uri: str) -> int | None:
    return conn.execute(select(s.items.c.id).where(s.items.c.uri == uri)).scalar()


def insert_item(conn: Connection, *, kind: str, uri: str, sha256: str, split: str, width: int | None,
                height: int | None, n_points: int | None, external_id: str | None, meta: dict | None,
                now: datetime) -> int:
    return conn.execute(insert(s.items).values(
        kind=kind, uri=uri, sha256=sha256, split=split, width=width, height=height, n_points=n_points,
        external_id=external_id, meta=meta, created_at=now,
    ).returning(s.items.c.id)).scalar_one()


def insert_question(conn: Connection, *, item_id: int, text: str, question_type: str, answer_type: str | None,
                    external_id: str | None, status: str, answer: str | None, now: datetime) -> int:
    return conn.execute(insert(s.questions).values(
        item_id=item_id, text=text, question_type=question_type, answer_type=answer_type, external_id=external_id,
        status=status, answer=answer, created_at=now, updated_at=now,
    ).returning(s.questions.c.id)).scalar_one()


def insert_imported_answers(conn: Connection, question_id: int, answers: Sequence[str], representative: str,
                            now: datetime) -> None:
    """A question's imported answers, as the one row ``encode_answer_rows`` makes of them."""
    row = encode_answer_rows([(a, None, None) for a in answers], representative)
    conn.execute(insert(s.answers).values(question_id=question_id, source="import", created_at=now, **row))


# --- statistics and lists ---------------------------------------------------------------------------

def _count(conn: Connection, table) -> int:
    return conn.execute(select(func.count()).select_from(table)).scalar_one()


def project_stats(conn: Connection, default_name: str, schema_version: str) -> Stats:
    q, i, c = s.questions, s.items, s.corrections
    info = all_info(conn)
    return Stats(
        name=info.get("name") or default_name,
        n_items=_count(conn, i),
        n_items_by_kind=count_by(conn, i.c.kind),
        n_questions=_count(conn, q),
        by_status=count_by(conn, q.c.status),
        by_split=count_by(conn, i.c.split, join_items=True),
        by_answer_type=count_by(conn, q.c.answer_type),
        by_question_type=count_by(conn, q.c.question_type),
        n_corrections=_count(conn, c),
        by_action=count_by(conn, c.c.action),
        annotators=count_by(conn, c.c.annotator),
        active_model=info.get("active_model"),
        n_models=_count(conn, s.models),
        n_predictions=_count(conn, s.predictions),
        schema_version=schema_version,
    )


def question_types(conn: Connection) -> list[str]:
    """The question types in use, sorted."""
    return sorted(count_by(conn, s.questions.c.question_type))


def answer_types(conn: Connection) -> list[str]:
    """The answer types in use, sorted."""
    return sorted(count_by(conn, s.questions.c.answer_type))


def splits(conn: Connection) -> list[str]:
    """The item splits in use, sorted."""
    return sorted(count_by(conn, s.items.c.split))


# --- export ---------------------------------------------------------------------------------------------

class ExportRow(NamedTuple):
    """One question as an export reads it, with its item's uri, split, external id and meta."""

    id: int
    external_id: str | None
    text: str
    question_type: str | None
    answer_type: str | None
    status: str
    answer: str | None
    meta: dict | None
    item_id: int
    uri: str
    split: str
    item_external_id: str | None
    item_meta: dict | None


def export_question_rows(conn: Connection, splits: Sequence[str] | None = None,
                         kinds: Sequence[ItemKind | str] | None = None) -> list[ExportRow]:
    """Every question (of the given splits and item kinds) with its item's fields, by split and id."""
    q, i = s.questions, s.items
    stmt = select(q.c.id, q.c.external_id, q.c.text, q.c.question_type, q.c.answer_type, q.c.status, q.c.answer,
                  q.c.meta, q.c.item_id, i.c.uri, i.c.split, i.c.external_id.label("item_external_id"),
                  i.c.meta.label("item_meta")).select_from(
        q.join(i, i.c.id == q.c.item_id)).order_by(i.c.split, q.c.id)
    if splits:
        stmt = stmt.where(i.c.split.in_(list(splits)))
    if kinds:
        stmt = stmt.where(i.c.kind.in_([ItemKind(k).value for k in kinds]))
    return [ExportRow._make(r) for r in conn.execute(stmt)]


def export_item_rows(conn: Connection, splits: Sequence[str] | None = None) -> list[tuple[str, int, str]]:
    """``(split, item id, uri)`` of every item, by split and id."""
    i = s.items
    stmt = select(i.c.split, i.c.id, i.c.uri).order_by(i.c.split, i.c.id)
    if splits:
        stmt = stmt.where(i.c.split.in_(list(splits)))
    return [(split, iid, uri) for split, iid, uri in conn.execute(stmt)]
