"""Rows of the ``models`` table (the registry; checkpoints are written by ``core.model.registry``)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert

from . import schema as s
from .db import utcnow


def insert_model(conn: Connection, *, version: str, parent: str | None, path: str, arch: str,
                 metrics: dict[str, Any], config: dict[str, Any], snapshot: dict[str, Any],
                 run_id: int | None) -> None:
    """Register model ``version`` (its checkpoint at ``path``, a project URI)."""
    conn.execute(insert(s.models).values(version=version, parent=parent, path=path, arch=arch, metrics=metrics,
                                         config=config, snapshot=snapshot, run_id=run_id, created_at=utcnow()))
