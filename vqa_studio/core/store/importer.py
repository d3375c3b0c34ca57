"""The bulk writes of an import, and the lookups it makes first. ``core.importing`` runs them inside
its one transaction; the ids come back in row order."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Connection, Table, func, insert, literal_column, select

from . import schema as s


def item_ids_by_uri(conn: Connection) -> dict[str, int]:
    """media uri -> item id, for every item."""
    return {uri: iid for iid, uri in conn.execute(select(s.items.c.id, s.items.c.uri))}


def question_keys(conn: Connection) -> set[tuple[int, str, str]]:
    """What makes an imported question one the project has already: (item id, "id", the dataset's
    question id) for questions imported with an id, else (item id, "text", the question text)."""
    q = s.questions.c
    return {(iid, "id", ext) if ext else (iid, "text", text)
            for iid, text, ext in conn.execute(select(q.item_id, q.text, q.external_id))}


def question_ids_by_item_and_text(conn: Connection) -> dict[tuple[int, str], int]:
    """(item id, question text) -> question id, for every question."""
    return {(iid, text): qid for qid, iid, text in
            conn.execute(select(s.questions.c.id, s.questions.c.item_id, s.questions.c.text))}


def insert_items(conn: Connection, rows: list[dict[str, Any]], now: datetime) -> list[int]:
    """Bulk insert of ``items`` rows (kind, uri, sha256, split, width, height, n_points, external_id,
    meta); returns the new ids in row order."""
    return _insert_rows(conn, s.items, rows, now)


def insert_questions(conn: Connection, rows: list[dict[str, Any]], now: datetime) -> list[int]:
    """Bulk insert of ``questions`` rows (created and updated at ``now``); the new ids in row order."""
    return _insert_rows(conn, s.questions, rows, now, updated=True)


def insert_answers(conn: Connection, rows: list[dict[str, Any]], now: datetime) -> None:
    """Bulk insert of ``answers`` rows (``repository.encode_answer_rows`` plus question_id, source,
    annotator)."""
    _insert_rows(conn, s.answers, rows, now, want_ids=False)


def _insert_rows(conn: Connection, table: Table, rows: list[dict[str, Any]], now: datetime, updated: bool = False,
                 want_ids: bool = True) -> list[int]:
    """Bulk insert; returns the new ids in row order (or nothing when ``want_ids`` is false).

    The time goes in as a SQL literal, so the rows skip per-row datetime conversion. On SQLite (the
    transaction already holds the write lock) the ids are assigned here and the rows go straight to
    the driver's ``executemany`` as tuples, several times faster than INSERT ... RETURNING through the
    ORM-level parameter processing. Other databases (PostgreSQL) use ``INSERT ... RETURNING`` in row
    order.
    """
    if not rows:
        return []
    now_sql = literal_column("'" + now.isoformat(sep=" ") + "'")
    stamps = {"created_at": now_sql, **({"updated_at": now_sql} if updated else {})}
    if conn.dialect.name != "sqlite":
        stmt = insert(table).values(**stamps)
        if not want_ids:
            conn.execute(stmt, rows)
            return []
        return list(conn.execute(stmt.returning(table.c.id, sort_by_parameter_order=True), rows).scalars())
    ids: list[int] = []
    cols = list(rows[0])
    if want_ids:
        start = conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one() + 1
        ids = list(range(start, start + len(rows)))
        cols = ["id", *cols]
    json_cols = {c.name for c in table.columns if isinstance(c.type, JSON)}
    dumps = _json_dumps()
    encoders = [(lambda v: None if v is None else dumps(v)) if c in json_cols else None for c in cols]
    stamp_sql = ", ".join(str(v) for v in stamps.values())
    sql = (f"INSERT INTO {table.name} ({', '.join(cols + list(stamps))}) "
           f"VALUES ({', '.join('?' * len(cols))}, {stamp_sql})")
    columns = [ids] if want_ids else []
    columns += [[r[k] for r in rows] for k in (cols[1:] if want_ids else cols)]
    columns = [col if enc is None else list(map(enc, col)) for col, enc in zip(columns, encoders)]
    conn.exec_driver_sql(sql, list(zip(*columns)))
    return ids


def _json_dumps():
    """orjson where installed (several times faster on millions of answer lists; compact JSON, which
    the JSON columns read the same), else the standard json."""
    try:
        import orjson
    except ImportError:
        return json.dumps
    dumps, keys = orjson.dumps, orjson.OPT_NON_STR_KEYS
    return lambda v: dumps(v, option=keys).decode("utf-8")
