"""Rows of the ``runs`` table: a training run from its start to its end, and a model file's import."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, update

from . import schema as s
from .db import utcnow


def start_run(conn: Connection, kind: str, config: dict[str, Any]) -> int:
    """A new run, status ``running``; its id."""
    return conn.execute(insert(s.runs).values(kind=kind, status="running", config=config, started_at=utcnow())
                        .returning(s.runs.c.id)).scalar_one()


def finish_run(conn: Connection, run_id: int, status: str, curves: list | None = None,
               error: str | None = None) -> None:
    """End a run: ``done``, ``cancelled`` or ``failed`` (with the traceback in ``error``)."""
    conn.execute(update(s.runs).where(s.runs.c.id == run_id).values(
        status=status, curves=curves, error=error, finished_at=utcnow()))


def record_import(conn: Connection, config: dict[str, Any]) -> int:
    """A finished run of kind ``import`` (a model file registered from elsewhere); its id."""
    now = utcnow()
    return conn.execute(insert(s.runs).values(kind="import", status="done", config=config, started_at=now,
                                              finished_at=now).returning(s.runs.c.id)).scalar_one()


def set_run_model(conn: Connection, run_id: int, version: str) -> None:
    """The model version a run produced."""
    conn.execute(update(s.runs).where(s.runs.c.id == run_id).values(model_version=version))
