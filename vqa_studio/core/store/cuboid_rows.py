"""Queries over ``cuboids``, ``cuboid_edits`` and ``question_cuboids``. They run inside the caller's
connection or transaction (``core.cuboids`` groups them) and return ``core.cuboid_types`` values."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

from sqlalchemy import Connection, delete, insert, select, update

from ..cuboid_types import GEOMETRY_KEYS, CuboidEdit, StoredCuboid, from_json, to_json
from ..geometry import Cuboid
from . import schema as s


def _row_values(c: Cuboid) -> dict[str, Any]:
    label = str(c.label or "")
    if len(label) > 64:
        raise ValueError(f"a cuboid label has at most 64 characters, got {len(label)}: {label[:20]!r}...")
    return {"label": label, **{k: float(getattr(c, k)) for k in GEOMETRY_KEYS}}


def _stored(row) -> StoredCuboid:
    geom = Cuboid(row.cx, row.cy, row.cz, row.length, row.width, row.height, row.yaw, row.label)
    return StoredCuboid(id=row.id, item_id=row.item_id, cuboid=geom, source=row.source, annotator=row.annotator,
                        deleted=bool(row.deleted), created_at=row.created_at, updated_at=row.updated_at)


def _edit(row) -> CuboidEdit:
    return CuboidEdit(id=row.id, cuboid_id=row.cuboid_id, action=row.action, before=from_json(row.before),
                      after=from_json(row.after), annotator=row.annotator, created_at=row.created_at)


# --- cuboids ------------------------------------------------------------------------------------------

def get_cuboid(conn: Connection, cuboid_id: int) -> StoredCuboid | None:
    row = conn.execute(select(s.cuboids).where(s.cuboids.c.id == cuboid_id)).first()
    return _stored(row) if row else None


def cuboids_of_item(conn: Connection, item_id: int, include_deleted: bool = False,
                    source: str | None = None) -> list[StoredCuboid]:
    """The item's cuboids by id (only those from ``source`` when given; deleted ones on request)."""
    stmt = select(s.cuboids).where(s.cuboids.c.item_id == item_id).order_by(s.cuboids.c.id)
    if not include_deleted:
        stmt = stmt.where(s.cuboids.c.deleted.is_(False))
    if source is not None:
        stmt = stmt.where(s.cuboids.c.source == source)
    return [_stored(r) for r in conn.execute(stmt)]


def cuboid_labels(conn: Connection, item_id: int | None = None) -> list[str]:
    """The labels of the cuboids not deleted (of one item, or of all), sorted, empty ones left out."""
    stmt = select(s.cuboids.c.label).distinct().where(s.cuboids.c.deleted.is_(False))
    if item_id is not None:
        stmt = stmt.where(s.cuboids.c.item_id == item_id)
    return sorted(x for x in conn.execute(stmt).scalars() if x)


def item_exists(conn: Connection, item_id: int) -> bool:
    return conn.execute(select(s.items.c.id).where(s.items.c.id == item_id)).scalar() is not None


def insert_cuboid(conn: Connection, item_id: int, c: Cuboid, source: str, annotator: str, now: datetime) -> int:
    return conn.execute(insert(s.cuboids).values(
        item_id=item_id, source=source, annotator=annotator, deleted=False, created_at=now, updated_at=now,
        **_row_values(c),
    ).returning(s.cuboids.c.id)).scalar_one()


def set_cuboid_state(conn: Connection, cuboid_id: int, geometry: Cuboid | None, deleted: bool,
                     now: datetime) -> None:
    """The cuboid's current row: ``deleted``, and the new geometry unless it is None (kept)."""
    values: dict[str, Any] = {"deleted": deleted, "updated_at": now}
    if geometry is not None:
        values.update(_row_values(geometry))
    conn.execute(update(s.cuboids).where(s.cuboids.c.id == cuboid_id).values(**values))


# --- history ------------------------------------------------------------------------------------------

def insert_edit(conn: Connection, cuboid_id: int, action: str, before: Cuboid | None, after: Cuboid | None,
                annotator: str, now: datetime) -> CuboidEdit:
    eid = conn.execute(insert(s.cuboid_edits).values(
        cuboid_id=cuboid_id, action=action, before=to_json(before), after=to_json(after), annotator=annotator,
        created_at=now,
    ).returning(s.cuboid_edits.c.id)).scalar_one()
    return CuboidEdit(eid, cuboid_id, action, before, after, annotator, now)


def edits_of_cuboid(conn: Connection, cuboid_id: int) -> list[CuboidEdit]:
    e = s.cuboid_edits
    return [_edit(r) for r in conn.execute(select(e).where(e.c.cuboid_id == cuboid_id).order_by(e.c.id))]


def edits_of_item(conn: Connection, item_id: int) -> list[CuboidEdit]:
    e, c = s.cuboid_edits, s.cuboids
    stmt = select(e).select_from(e.join(c, c.c.id == e.c.cuboid_id)).where(c.c.item_id == item_id).order_by(e.c.id)
    return [_edit(r) for r in conn.execute(stmt)]


# --- counting questions -> cuboids ---------------------------------------------------------------------

def linked_cuboid_ids(conn: Connection, question_id: int, include_deleted: bool) -> list[int]:
    qc, c = s.question_cuboids, s.cuboids
    stmt = select(qc.c.cuboid_id).select_from(qc.join(c, c.c.id == qc.c.cuboid_id)).where(
        qc.c.question_id == question_id).order_by(qc.c.cuboid_id)
    if not include_deleted:
        stmt = stmt.where(c.c.deleted.is_(False))
    return list(conn.execute(stmt).scalars())


def item_of_question(conn: Connection, question_id: int) -> int | None:
    return conn.execute(select(s.questions.c.item_id).where(s.questions.c.id == question_id)).scalar()


def items_of_cuboids(conn: Connection, cuboid_ids: Sequence[int]) -> dict[int, int]:
    """cuboid id -> item id, for those of ``cuboid_ids`` that exist."""
    ids = list(cuboid_ids)
    if not ids:
        return {}
    return dict(conn.execute(select(s.cuboids.c.id, s.cuboids.c.item_id).where(s.cuboids.c.id.in_(ids))).all())


def replace_links(conn: Connection, question_id: int, cuboid_ids: Sequence[int]) -> None:
    """Make ``cuboid_ids`` the question's linked cuboids (the previous links go)."""
    conn.execute(delete(s.question_cuboids).where(s.question_cuboids.c.question_id == question_id))
    if cuboid_ids:
        conn.execute(insert(s.question_cuboids), [{"question_id": question_id, "cuboid_id": i} for i in cuboid_ids])
