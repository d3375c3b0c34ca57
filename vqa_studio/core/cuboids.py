"""The 3D cuboids of an item, their edit history, and the counting questions linked to them.

Storage: a cuboid is a row of ``cuboids`` (its current geometry, ``deleted`` for a soft delete);
every change is one row of ``cuboid_edits`` written in the same committed transaction as the change
(``action`` create / update / delete / undo / redo, ``before`` and ``after`` geometry as JSON, or
null where the cuboid did not exist / was deleted, the annotator, the time). Nothing is ever
deleted for real, so the history of a cuboid always explains its current row::

    c = cuboids.create(project, item_id, Cuboid(0, 0, 0.5, 2, 1, 1, 0.3, "box"), "alice")
    cuboids.update(project, c.id, geometry.translate(c.cuboid, dx=0.5), "alice")
    cuboids.delete(project, c.id, "alice")
    cuboids.history(project, c.id)   # [create, update, delete]

Edits as commands with inverses (``CreateCuboid``, ``UpdateCuboid``, ``DeleteCuboid``,
``LinkCuboids``): each ``do`` / ``undo`` / ``redo`` is one transaction; ``undo`` writes an ``undo``
row and restores the geometry before the command, ``redo`` a ``redo`` row. The GUI's QUndoStack only
wraps them (``qt/views/cuboid_undo.py``). Undo and redo are refused with ``ConflictError`` when the
cuboid changed since (another window, another annotator): they never overwrite newer work.

A failed edit (unknown cuboid, a cuboid deleted meanwhile, a bad geometry, a database error) raises
and writes nothing: the change and its history row commit together or not at all.

No Qt here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from sqlalchemy import Connection, delete as sql_delete, insert, select, update as sql_update

from .errors import ConflictError, ProjectError
from .geometry import Cuboid
from .store import schema as s
from .store.db import utcnow

if TYPE_CHECKING:  # pragma: no cover
    from .project import Project
    from .synth.scenes3d import Scene3D

__all__ = [
    "StoredCuboid",
    "CuboidEdit",
    "CommandStateError",
    "to_json",
    "from_json",
    "same_geometry",
    "list_cuboids",
    "get",
    "create",
    "update",
    "delete",
    "history",
    "item_history",
    "import_cuboids",
    "link",
    "linked",
    "labels",
    "CuboidCommand",
    "CreateCuboid",
    "UpdateCuboid",
    "DeleteCuboid",
    "LinkCuboids",
    "add_demo_scene",
]

ACTIONS = ("create", "update", "delete", "undo", "redo")
_GEOMETRY_KEYS = ("cx", "cy", "cz", "length", "width", "height", "yaw")
_TOL = 1e-9


@dataclass(frozen=True)
class StoredCuboid:
    """A cuboid as stored: its id, item, geometry (with the label) and provenance."""

    id: int
    item_id: int
    cuboid: Cuboid
    source: str  # import | human
    annotator: str | None
    deleted: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def label(self) -> str:
        return self.cuboid.label


@dataclass(frozen=True)
class CuboidEdit:
    """One row of a cuboid's history. ``before`` / ``after`` are None where the cuboid did not exist
    (before a create, after a delete or an undone create)."""

    id: int
    cuboid_id: int
    action: str
    before: Cuboid | None
    after: Cuboid | None
    annotator: str
    created_at: datetime


class CommandStateError(RuntimeError):
    """A command was asked to undo before it was done, or to redo before it was undone."""


# --- geometry <-> JSON ----------------------------------------------------------------------------------

def to_json(c: Cuboid | None) -> dict[str, Any] | None:
    """The JSON stored in ``cuboid_edits.before`` / ``after``."""
    if c is None:
        return None
    out: dict[str, Any] = {k: float(getattr(c, k)) for k in _GEOMETRY_KEYS}
    out["label"] = c.label
    return out


def from_json(d: dict[str, Any] | None) -> Cuboid | None:
    if d is None:
        return None
    return Cuboid(*(float(d[k]) for k in _GEOMETRY_KEYS), label=str(d.get("label", "")))


def same_geometry(a: Cuboid | None, b: Cuboid | None, tol: float = _TOL) -> bool:
    """True when both are None, or both have the same label and numbers (within ``tol``)."""
    if a is None or b is None:
        return a is b
    if a.label != b.label:
        return False
    return all(math.isclose(getattr(a, k), getattr(b, k), rel_tol=0.0, abs_tol=tol) for k in _GEOMETRY_KEYS)


def _row_values(c: Cuboid) -> dict[str, Any]:
    label = str(c.label or "")
    if len(label) > 64:
        raise ValueError(f"a cuboid label has at most 64 characters, got {len(label)}: {label[:20]!r}...")
    return {"label": label, **{k: float(getattr(c, k)) for k in _GEOMETRY_KEYS}}


def _stored(row) -> StoredCuboid:
    geom = Cuboid(row.cx, row.cy, row.cz, row.length, row.width, row.height, row.yaw, row.label)
    return StoredCuboid(id=row.id, item_id=row.item_id, cuboid=geom, source=row.source, annotator=row.annotator,
                        deleted=bool(row.deleted), created_at=row.created_at, updated_at=row.updated_at)


def _edit(row) -> CuboidEdit:
    return CuboidEdit(id=row.id, cuboid_id=row.cuboid_id, action=row.action, before=from_json(row.before),
                      after=from_json(row.after), annotator=row.annotator, created_at=row.created_at)


def _annotator(project: "Project", annotator: str | None) -> str:
    return annotator or getattr(project, "annotator", None) or "annotator"


# --- low level, inside a transaction -----------------------------------------------------------------

def _get(conn: Connection, cuboid_id: int) -> StoredCuboid | None:
    row = conn.execute(select(s.cuboids).where(s.cuboids.c.id == cuboid_id)).first()
    return _stored(row) if row else None


def _require(conn: Connection, cuboid_id: int) -> StoredCuboid:
    found = _get(conn, cuboid_id)
    if found is None:
        raise ProjectError(f"no cuboid {cuboid_id} in this project")
    return found


def _write_edit(conn: Connection, cuboid_id: int, action: str, before: Cuboid | None, after: Cuboid | None,
                annotator: str, now: datetime) -> CuboidEdit:
    eid = conn.execute(insert(s.cuboid_edits).values(
        cuboid_id=cuboid_id, action=action, before=to_json(before), after=to_json(after), annotator=annotator,
        created_at=now,
    ).returning(s.cuboid_edits.c.id)).scalar_one()
    return CuboidEdit(eid, cuboid_id, action, before, after, annotator, now)


def _set_state(conn: Connection, cuboid_id: int, geometry: Cuboid | None, deleted: bool, now: datetime) -> None:
    values: dict[str, Any] = {"deleted": deleted, "updated_at": now}
    if geometry is not None:
        values.update(_row_values(geometry))
    conn.execute(sql_update(s.cuboids).where(s.cuboids.c.id == cuboid_id).values(**values))


def _insert(conn: Connection, item_id: int, c: Cuboid, source: str, annotator: str, now: datetime) -> int:
    return conn.execute(insert(s.cuboids).values(
        item_id=item_id, source=source, annotator=annotator, deleted=False, created_at=now, updated_at=now,
        **_row_values(c),
    ).returning(s.cuboids.c.id)).scalar_one()


def _check_item(conn: Connection, item_id: int) -> None:
    if conn.execute(select(s.items.c.id).where(s.items.c.id == item_id)).scalar() is None:
        raise ProjectError(f"no item {item_id} in this project")


def _transition(conn: Connection, cuboid_id: int, action: str, expect: Cuboid | None, target: Cuboid | None,
                annotator: str, what: str) -> CuboidEdit:
    """Move a cuboid from state ``expect`` to ``target`` (None: deleted) and write the history row.
    Refused (ConflictError) when the cuboid is not in state ``expect`` now."""
    cur = _require(conn, cuboid_id)
    current = None if cur.deleted else cur.cuboid
    if not same_geometry(current, expect):
        now_txt = "deleted" if current is None else "changed"
        raise ConflictError(f"cuboid {cuboid_id} was {now_txt} since; {what} refused (it would overwrite newer work)")
    now = utcnow()
    _set_state(conn, cuboid_id, target, target is None, now)
    return _write_edit(conn, cuboid_id, action, current, target, annotator, now)


# --- queries ---------------------------------------------------------------------------------------------

def list_cuboids(project: "Project", item_id: int, include_deleted: bool = False) -> list[StoredCuboid]:
    """The item's cuboids, by id (the deleted ones only with ``include_deleted``)."""
    stmt = select(s.cuboids).where(s.cuboids.c.item_id == item_id).order_by(s.cuboids.c.id)
    if not include_deleted:
        stmt = stmt.where(s.cuboids.c.deleted.is_(False))
    with project.engine.connect() as conn:
        return [_stored(r) for r in conn.execute(stmt)]


def get(project: "Project", cuboid_id: int) -> StoredCuboid:
    """One cuboid (deleted or not); ``ProjectError`` if there is none with that id."""
    with project.engine.connect() as conn:
        return _require(conn, cuboid_id)


def history(project: "Project", cuboid_id: int) -> list[CuboidEdit]:
    """Every edit of one cuboid, oldest first."""
    e = s.cuboid_edits
    with project.engine.connect() as conn:
        return [_edit(r) for r in conn.execute(select(e).where(e.c.cuboid_id == cuboid_id).order_by(e.c.id))]


def item_history(project: "Project", item_id: int) -> list[CuboidEdit]:
    """Every edit of every cuboid of one item, oldest first."""
    e, c = s.cuboid_edits, s.cuboids
    stmt = select(e).select_from(e.join(c, c.c.id == e.c.cuboid_id)).where(c.c.item_id == item_id).order_by(e.c.id)
    with project.engine.connect() as conn:
        return [_edit(r) for r in conn.execute(stmt)]


def labels(project: "Project", item_id: int | None = None) -> list[str]:
    """The labels in use (in one item, or in the whole project), sorted."""
    stmt = select(s.cuboids.c.label).distinct().where(s.cuboids.c.deleted.is_(False))
    if item_id is not None:
        stmt = stmt.where(s.cuboids.c.item_id == item_id)
    with project.engine.connect() as conn:
        return sorted(x for x in conn.execute(stmt).scalars() if x)


# --- edits (each one committed transaction) -----------------------------------------------------------

def create(project: "Project", item_id: int, cuboid: Cuboid, annotator: str | None = None,
           source: str = "human") -> StoredCuboid:
    """Add a cuboid to an item (and its ``create`` history row)."""
    return _create(project, item_id, cuboid, annotator, source)[0]


def _create(project: "Project", item_id: int, cuboid: Cuboid, annotator: str | None,
            source: str) -> tuple[StoredCuboid, CuboidEdit]:
    who = _annotator(project, annotator)
    with project.writer.begin() as conn:
        _check_item(conn, item_id)
        now = utcnow()
        cid = _insert(conn, item_id, cuboid, source, who, now)
        row = _write_edit(conn, cid, "create", None, cuboid, who, now)
        return _require(conn, cid), row


def update(project: "Project", cuboid_id: int, new_cuboid: Cuboid, annotator: str | None = None,
           expect: Cuboid | None = None) -> CuboidEdit:
    """Give a cuboid a new geometry (and label). With ``expect``, refused (``ConflictError``) unless
    the cuboid still has that geometry. A deleted cuboid cannot be updated."""
    who = _annotator(project, annotator)
    with project.writer.begin() as conn:
        cur = _require(conn, cuboid_id)
        if cur.deleted:
            raise ConflictError(f"cuboid {cuboid_id} is deleted; undo the delete first")
        if expect is not None and not same_geometry(cur.cuboid, expect):
            raise ConflictError(f"cuboid {cuboid_id} was changed since; the edit is refused")
        now = utcnow()
        _set_state(conn, cuboid_id, new_cuboid, False, now)
        return _write_edit(conn, cuboid_id, "update", cur.cuboid, new_cuboid, who, now)


def delete(project: "Project", cuboid_id: int, annotator: str | None = None) -> CuboidEdit:
    """Soft-delete a cuboid (``deleted=True``; its row and history stay)."""
    who = _annotator(project, annotator)
    with project.writer.begin() as conn:
        cur = _require(conn, cuboid_id)
        if cur.deleted:
            raise ConflictError(f"cuboid {cuboid_id} is already deleted")
        now = utcnow()
        _set_state(conn, cuboid_id, None, True, now)
        return _write_edit(conn, cuboid_id, "delete", cur.cuboid, None, who, now)


def import_cuboids(project: "Project", item_id: int, cuboids: Iterable[Cuboid], annotator: str = "import",
                   source: str = "import", replace: bool = False) -> list[StoredCuboid]:
    """Add ground-truth cuboids to an item in one transaction (source ``import``, one ``create`` row
    each). With ``replace``, the item's current cuboids from the same source are deleted first (soft,
    with history), so re-importing does not duplicate them."""
    boxes = list(cuboids)
    with project.writer.begin() as conn:
        _check_item(conn, item_id)
        now = utcnow()
        if replace:
            old = conn.execute(select(s.cuboids).where(
                s.cuboids.c.item_id == item_id, s.cuboids.c.source == source, s.cuboids.c.deleted.is_(False))).all()
            for row in old:
                st = _stored(row)
                _set_state(conn, st.id, None, True, now)
                _write_edit(conn, st.id, "delete", st.cuboid, None, annotator, now)
        ids = []
        for c in boxes:
            cid = _insert(conn, item_id, c, source, annotator, now)
            _write_edit(conn, cid, "create", None, c, annotator, now)
            ids.append(cid)
        return [_require(conn, cid) for cid in ids]


# --- counting questions -> cuboids ------------------------------------------------------------------------

def _linked(conn: Connection, question_id: int, include_deleted: bool) -> list[int]:
    qc, c = s.question_cuboids, s.cuboids
    stmt = select(qc.c.cuboid_id).select_from(qc.join(c, c.c.id == qc.c.cuboid_id)).where(
        qc.c.question_id == question_id).order_by(qc.c.cuboid_id)
    if not include_deleted:
        stmt = stmt.where(c.c.deleted.is_(False))
    return list(conn.execute(stmt).scalars())


def _set_links(conn: Connection, question_id: int, cuboid_ids: Sequence[int]) -> None:
    item_id = conn.execute(select(s.questions.c.item_id).where(s.questions.c.id == question_id)).scalar()
    if item_id is None:
        raise ProjectError(f"no question {question_id} in this project")
    ids = sorted({int(i) for i in cuboid_ids})
    if ids:
        rows = dict(conn.execute(select(s.cuboids.c.id, s.cuboids.c.item_id).where(s.cuboids.c.id.in_(ids))).all())
        missing = [i for i in ids if i not in rows]
        if missing:
            raise ProjectError(f"no cuboid {missing[0]} in this project")
        other = [i for i in ids if rows[i] != item_id]
        if other:
            raise ProjectError(f"cuboid {other[0]} belongs to item {rows[other[0]]}, "
                               f"not to item {item_id} of question {question_id}")
    conn.execute(sql_delete(s.question_cuboids).where(s.question_cuboids.c.question_id == question_id))
    if ids:
        conn.execute(insert(s.question_cuboids), [{"question_id": question_id, "cuboid_id": i} for i in ids])


def link(project: "Project", question_id: int, cuboid_ids: Iterable[int]) -> list[int]:
    """Make ``cuboid_ids`` the set of cuboids a (counting) question counts, replacing the previous
    set, in one transaction. The cuboids must belong to the question's item. Returns the sorted ids."""
    ids = sorted({int(i) for i in cuboid_ids})
    with project.writer.begin() as conn:
        _set_links(conn, question_id, ids)
    return ids


def linked(project: "Project", question_id: int, include_deleted: bool = False) -> list[int]:
    """The ids of the cuboids a question counts (sorted; deleted ones only with ``include_deleted``)."""
    with project.engine.connect() as conn:
        return _linked(conn, question_id, include_deleted)


# --- commands with inverses ---------------------------------------------------------------------------

@dataclass
class CuboidCommand:
    """Base class: ``do`` once, then ``undo`` / ``redo`` alternately; ``apply`` is ``do`` the first
    time and ``redo`` afterwards (what a ``QUndoCommand.redo`` needs). ``rows`` are the history rows
    this command wrote, in order."""

    annotator: str | None = field(default=None, kw_only=True)
    rows: list[CuboidEdit] = field(default_factory=list, kw_only=True)
    _state: str = field(default="new", kw_only=True, repr=False)  # new | done | undone

    @property
    def done(self) -> bool:
        return self._state == "done"

    @property
    def state(self) -> str:
        """new (never done), done (in effect) or undone."""
        return self._state

    @property
    def cuboid_ids(self) -> list[int]:
        """The cuboids this command touches (known once it was done)."""
        cid = getattr(self, "cuboid_id", None)
        return [cid] if cid is not None else []

    def text(self) -> str:  # pragma: no cover - overridden
        return type(self).__name__

    def do(self, project: "Project"):
        if self._state != "new":
            raise CommandStateError("this command was already done; use redo()")
        out = self._do(project)
        self._state = "done"
        return out

    def undo(self, project: "Project"):
        if self._state != "done":
            raise CommandStateError("nothing to undo: the command is not in effect")
        out = self._undo(project)
        self._state = "undone"
        return out

    def redo(self, project: "Project"):
        if self._state != "undone":
            raise CommandStateError("nothing to redo: the command was not undone")
        out = self._redo(project)
        self._state = "done"
        return out

    def apply(self, project: "Project"):
        return self.do(project) if self._state == "new" else self.redo(project)

    # a transition of one cuboid, recorded in ``rows``
    def _move(self, project: "Project", cuboid_id: int, action: str, expect: Cuboid | None,
              target: Cuboid | None, what: str) -> CuboidEdit:
        who = _annotator(project, self.annotator)
        with project.writer.begin() as conn:
            row = _transition(conn, cuboid_id, action, expect, target, who, what)
        self.rows.append(row)
        return row


@dataclass
class CreateCuboid(CuboidCommand):
    """Add a cuboid to an item. Undo soft-deletes it; redo brings it back (same id)."""

    item_id: int
    cuboid: Cuboid
    source: str = "human"
    cuboid_id: int | None = None

    def text(self) -> str:
        return f"New cuboid '{self.cuboid.label}'" if self.cuboid.label else "New cuboid"

    def _do(self, project: "Project") -> StoredCuboid:
        st, row = _create(project, self.item_id, self.cuboid, self.annotator, self.source)
        self.cuboid_id = st.id
        self.rows.append(row)
        return st

    def _undo(self, project: "Project") -> CuboidEdit:
        return self._move(project, self.cuboid_id, "undo", self.cuboid, None, "undo")

    def _redo(self, project: "Project") -> CuboidEdit:
        return self._move(project, self.cuboid_id, "redo", None, self.cuboid, "redo")


@dataclass
class UpdateCuboid(CuboidCommand):
    """Give a cuboid a new geometry / label. ``old`` is read from the store when the command is done
    (or checked against it, when given). Undo restores ``old``."""

    cuboid_id: int
    new: Cuboid
    old: Cuboid | None = None
    kind: str = "edit"  # move | resize | rotate | label | edit: for menus and merging key nudges

    def text(self) -> str:
        names = {"move": "Move", "resize": "Resize", "rotate": "Rotate", "label": "Relabel"}
        what = names.get(self.kind, "Edit")
        if self.kind == "label":
            return f"{what} cuboid {self.cuboid_id} '{self.new.label}'"
        return f"{what} cuboid {self.cuboid_id}"

    def _do(self, project: "Project") -> CuboidEdit:
        row = update(project, self.cuboid_id, self.new, self.annotator, expect=self.old)
        self.old = row.before
        self.rows.append(row)
        return row

    def _undo(self, project: "Project") -> CuboidEdit:
        return self._move(project, self.cuboid_id, "undo", self.new, self.old, "undo")

    def _redo(self, project: "Project") -> CuboidEdit:
        return self._move(project, self.cuboid_id, "redo", self.old, self.new, "redo")

    def absorb(self, project: "Project", other: "UpdateCuboid") -> bool:
        """Fold a later update of the same cuboid (done right after this one) into this command, so
        that one undo takes both back (a run of key nudges). Both stay in the history. Returns False
        (and changes nothing) when they do not chain."""
        if (not isinstance(other, UpdateCuboid) or other.cuboid_id != self.cuboid_id or not self.done
                or not other.done or not same_geometry(other.old, self.new)):
            return False
        self.new = other.new
        self.rows.extend(other.rows)
        return True


@dataclass
class DeleteCuboid(CuboidCommand):
    """Soft-delete a cuboid. Undo brings it back with the geometry it had."""

    cuboid_id: int
    old: Cuboid | None = None

    def text(self) -> str:
        return f"Delete cuboid {self.cuboid_id}"

    def _do(self, project: "Project") -> CuboidEdit:
        row = delete(project, self.cuboid_id, self.annotator)
        self.old = row.before
        self.rows.append(row)
        return row

    def _undo(self, project: "Project") -> CuboidEdit:
        return self._move(project, self.cuboid_id, "undo", None, self.old, "undo")

    def _redo(self, project: "Project") -> CuboidEdit:
        return self._move(project, self.cuboid_id, "redo", self.old, None, "redo")


@dataclass
class LinkCuboids(CuboidCommand):
    """Set the cuboids a counting question counts. Undo restores the previous set (refused if the
    links changed since). Links have no history rows of their own (``cuboid_edits`` is per cuboid)."""

    question_id: int
    cuboid_ids_after: Sequence[int] = ()
    cuboid_ids_before: list[int] | None = None

    def text(self) -> str:
        return f"Link {len(self.cuboid_ids_after)} cuboids to question {self.question_id}"

    @property
    def cuboid_ids(self) -> list[int]:
        return sorted(set(self.cuboid_ids_after) | set(self.cuboid_ids_before or ()))

    def _swap(self, project: "Project", expect: Sequence[int] | None, target: Sequence[int]) -> list[int]:
        with project.writer.begin() as conn:
            current = _linked(conn, self.question_id, include_deleted=True)
            if expect is not None and current != sorted(set(expect)):
                raise ConflictError(f"the cuboids of question {self.question_id} changed since; refused")
            _set_links(conn, self.question_id, target)
        return current

    def _do(self, project: "Project") -> list[int]:
        self.cuboid_ids_after = sorted({int(i) for i in self.cuboid_ids_after})
        self.cuboid_ids_before = self._swap(project, None, self.cuboid_ids_after)
        return list(self.cuboid_ids_after)

    def _undo(self, project: "Project") -> list[int]:
        self._swap(project, self.cuboid_ids_after, self.cuboid_ids_before or [])
        return list(self.cuboid_ids_before or [])

    def _redo(self, project: "Project") -> list[int]:
        self._swap(project, self.cuboid_ids_before or [], self.cuboid_ids_after)
        return list(self.cuboid_ids_after)


# --- the 3D demo ------------------------------------------------------------------------------------------

def counted_objects(scene: "Scene3D", family: str, question: str) -> list[int] | None:
    """Indices of the objects a counting question counts, or None for other questions."""
    from .synth import scenes3d

    if family == "count_shape":
        for shape, plural in scenes3d.PLURAL.items():
            if f" {plural} " in f" {question} ":
                return [i for i, o in enumerate(scene.objects) if o.shape == shape]
    if family == "count_color":
        for color in scenes3d.COLORS:
            if f" {color} things" in question:
                return [i for i, o in enumerate(scene.objects) if o.color == color]
    return None


def add_demo_scene(project: "Project", path: str | Path, scene: "Scene3D", *, with_answers: bool = True
                   ) -> tuple[int, list[int], list[StoredCuboid]]:
    """Add one written 3D demo scene (``scenes3d.write_dataset``) to a project: the item, its
    questions, its ground-truth cuboids (source ``import``, label = shape) and the links from each
    counting question to the cuboids it counts. Returns (item id, question ids, cuboids)."""
    item_id = project.add_item(path, split=scene.split)
    existing = list_cuboids(project, item_id)
    stored = existing if existing else import_cuboids(project, item_id, scene.cuboids)
    known = {q.text: q.id for q in project.questions_of_item(item_id)}
    qids = []
    for qa in scene.questions:
        qid = known.get(qa.question)
        if qid is None:
            qid = project.add_question(item_id, qa.question, answers=[qa.answer] if with_answers else [],
                                       answer_type=qa.answer_type)
            counted = counted_objects(scene, qa.family, qa.question)
            if counted is not None and len(stored) == len(scene.objects):
                link(project, qid, [stored[i].id for i in counted])
        qids.append(qid)
    return item_id, qids, stored
