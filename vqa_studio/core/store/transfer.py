"""Copying a whole project database to another database (``vqa-studio migrate``): every table in
foreign-key order with its ids kept, then the id sequences set past the copied ids (PostgreSQL).
Claims (leases) are work in progress, not data: they are not copied."""
from __future__ import annotations

from typing import Iterator

from sqlalchemy import Connection, Engine, func, inspect, insert, select, text

from . import schema as s

NOT_COPIED = ("claims",)


def tables() -> list:
    """The tables a project copy carries, parents before children."""
    return [t for t in s.metadata.sorted_tables if t.name not in NOT_COPIED]


def counts(conn: Connection) -> dict[str, int]:
    """Rows per copied table."""
    return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in tables()}


def holds_data(engine: Engine) -> bool:
    """Whether the database has any VQA Studio rows besides its settings (or foreign tables)."""
    with engine.connect() as conn:
        names = set(inspect(conn).get_table_names())
        if not names - {"alembic_version"}:
            return False
        if "questions" not in names:
            return True
        return any(n for t, n in counts(conn).items() if t != "project_info")


def copy_table(src: Connection, dst: Connection, table, chunk: int = 2000) -> Iterator[int]:
    """Copy every row of ``table`` (ids kept), ``chunk`` rows per insert; yields the rows copied so far."""
    order = list(table.primary_key.columns)
    result = src.execution_options(yield_per=chunk).execute(select(table).order_by(*order))
    done = 0
    for part in result.partitions(chunk):
        dst.execute(insert(table), [dict(r._mapping) for r in part])
        done += len(part)
        yield done


def clear_settings(dst: Connection) -> None:
    """Drop the settings a new project was created with (the source's are copied instead)."""
    dst.execute(s.project_info.delete())


def reset_sequences(dst: Connection) -> None:
    """After rows were inserted with their ids: the next id of each table follows the largest."""
    if dst.dialect.name != "postgresql":
        return  # SQLite takes max(rowid) + 1 by itself
    for t in tables():
        cols = list(t.primary_key.columns)
        if len(cols) == 1 and cols[0].name == "id":
            dst.execute(text(f"SELECT setval(pg_get_serial_sequence('{t.name}', 'id'), "
                             f"COALESCE((SELECT MAX(id) FROM {t.name}), 1), "
                             f"(SELECT MAX(id) FROM {t.name}) IS NOT NULL)"))


def model_paths(conn: Connection) -> list[str]:
    return list(conn.execute(select(s.models.c.path).order_by(s.models.c.id)).scalars())
