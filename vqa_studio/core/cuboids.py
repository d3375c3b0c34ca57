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

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

from .commands import Command, CommandStateError
from .cuboid_types import CuboidEdit, StoredCuboid, from_json, same_geometry, to_json
from .errors import ConflictError, ProjectError
from .geometry import Cuboid
from .store import cuboid_rows
from .store import importer as import_rows
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
    "add_demo_scenes",
]

ACTIONS = ("create", "update", "delete", "undo", "redo")


def _annotator(project: "Project", annotator: str | None) -> str:
    return annotator or getattr(project, "annotator", None) or "annotator"


# --- low level, inside a transaction -----------------------------------------------------------------

def _require(conn, cuboid_id: int) -> StoredCuboid:
    found = cuboid_rows.get_cuboid(conn, cuboid_id)
    if found is None:
        raise ProjectError(f"no cuboid {cuboid_id} in this project")
    return found


def _check_item(conn, item_id: int) -> None:
    if not cuboid_rows.item_exists(conn, item_id):
        raise ProjectError(f"no item {item_id} in this project")


def _transition(conn, cuboid_id: int, action: str, expect: Cuboid | None, target: Cuboid | None,
                annotator: str, what: str) -> CuboidEdit:
    """Move a cuboid from state ``expect`` to ``target`` (None: deleted) and write the history row.
    Refused (ConflictError) when the cuboid is not in state ``expect`` now."""
    cur = _require(conn, cuboid_id)
    current = None if cur.deleted else cur.cuboid
    if not same_geometry(current, expect):
        now_txt = "deleted" if current is None else "changed"
        raise ConflictError(f"cuboid {cuboid_id} was {now_txt} since; {what} refused (it would overwrite newer work)")
    now = utcnow()
    cuboid_rows.set_cuboid_state(conn, cuboid_id, target, target is None, now)
    return cuboid_rows.insert_edit(conn, cuboid_id, action, current, target, annotator, now)


def _add_new(conn, item_id: int, cuboid: Cuboid, source: str, annotator: str, now) -> tuple[int, CuboidEdit]:
    """Insert a cuboid and its ``create`` history row."""
    cid = cuboid_rows.insert_cuboid(conn, item_id, cuboid, source, annotator, now)
    return cid, cuboid_rows.insert_edit(conn, cid, "create", None, cuboid, annotator, now)


# --- queries ---------------------------------------------------------------------------------------------

def list_cuboids(project: "Project", item_id: int, include_deleted: bool = False) -> list[StoredCuboid]:
    """The item's cuboids, by id (the deleted ones only with ``include_deleted``)."""
    with project.engine.connect() as conn:
        return cuboid_rows.cuboids_of_item(conn, item_id, include_deleted)


def get(project: "Project", cuboid_id: int) -> StoredCuboid:
    """One cuboid (deleted or not); ``ProjectError`` if there is none with that id."""
    with project.engine.connect() as conn:
        return _require(conn, cuboid_id)


def history(project: "Project", cuboid_id: int) -> list[CuboidEdit]:
    """Every edit of one cuboid, oldest first."""
    with project.engine.connect() as conn:
        return cuboid_rows.edits_of_cuboid(conn, cuboid_id)


def item_history(project: "Project", item_id: int) -> list[CuboidEdit]:
    """Every edit of every cuboid of one item, oldest first."""
    with project.engine.connect() as conn:
        return cuboid_rows.edits_of_item(conn, item_id)


def labels(project: "Project", item_id: int | None = None) -> list[str]:
    """The labels in use (in one item, or in the whole project), sorted."""
    with project.engine.connect() as conn:
        return cuboid_rows.cuboid_labels(conn, item_id)


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
        cid, row = _add_new(conn, item_id, cuboid, source, who, utcnow())
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
        cuboid_rows.set_cuboid_state(conn, cuboid_id, new_cuboid, False, now)
        return cuboid_rows.insert_edit(conn, cuboid_id, "update", cur.cuboid, new_cuboid, who, now)


def delete(project: "Project", cuboid_id: int, annotator: str | None = None) -> CuboidEdit:
    """Soft-delete a cuboid (``deleted=True``; its row and history stay)."""
    who = _annotator(project, annotator)
    with project.writer.begin() as conn:
        cur = _require(conn, cuboid_id)
        if cur.deleted:
            raise ConflictError(f"cuboid {cuboid_id} is already deleted")
        now = utcnow()
        cuboid_rows.set_cuboid_state(conn, cuboid_id, None, True, now)
        return cuboid_rows.insert_edit(conn, cuboid_id, "delete", cur.cuboid, None, who, now)


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
            for st in cuboid_rows.cuboids_of_item(conn, item_id, source=source):
                cuboid_rows.set_cuboid_state(conn, st.id, None, True, now)
                cuboid_rows.insert_edit(conn, st.id, "delete", st.cuboid, None, annotator, now)
        ids = [_add_new(conn, item_id, c, source, annotator, now)[0] for c in boxes]
        return [_require(conn, cid) for cid in ids]


# --- counting questions -> cuboids ------------------------------------------------------------------------

def _set_links(conn, question_id: int, cuboid_ids: Sequence[int]) -> None:
    item_id = cuboid_rows.item_of_question(conn, question_id)
    if item_id is None:
        raise ProjectError(f"no question {question_id} in this project")
    ids = sorted({int(i) for i in cuboid_ids})
    if ids:
        items = cuboid_rows.items_of_cuboids(conn, ids)
        missing = [i for i in ids if i not in items]
        if missing:
            raise ProjectError(f"no cuboid {missing[0]} in this project")
        other = [i for i in ids if items[i] != item_id]
        if other:
            raise ProjectError(f"cuboid {other[0]} belongs to item {items[other[0]]}, "
                               f"not to item {item_id} of question {question_id}")
    cuboid_rows.replace_links(conn, question_id, ids)


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
        return cuboid_rows.linked_cuboid_ids(conn, question_id, include_deleted)


# --- commands with inverses ---------------------------------------------------------------------------

@dataclass
class CuboidCommand(Command):
    """Base class of the cuboid edits (the state machine is ``core.commands.Command``'s). ``rows``
    are the history rows this command wrote, in order."""

    annotator: str | None = field(default=None, kw_only=True)
    rows: list[CuboidEdit] = field(default_factory=list, kw_only=True)

    @property
    def cuboid_ids(self) -> list[int]:
        """The cuboids this command touches (known once it was done)."""
        cid = getattr(self, "cuboid_id", None)
        return [cid] if cid is not None else []

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
            current = cuboid_rows.linked_cuboid_ids(conn, self.question_id, include_deleted=True)
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


def add_demo_scenes(project: "Project", scenes: Sequence[tuple[str | Path, "Scene3D"]]) -> None:
    """Each imported 3D demo scene's ground-truth cuboids, and each counting question linked to what
    it counts, in ONE transaction (the rows ``import_cuboids`` and ``link`` write, one ``create``
    history row per cuboid): a commit per scene and per question, each an fsync with
    ``synchronous=FULL``, made the 3D demo take minutes. The scenes' items and questions must be in
    the project already (``core.demo`` imports them first)."""
    with project.engine.connect() as conn:
        item_of = import_rows.item_ids_by_uri(conn)
        question_of = import_rows.question_ids_by_item_and_text(conn)
    with project.writer.begin() as conn:
        now = utcnow()
        for path, scene in scenes:
            item_id = item_of[project.uri_for(Path(path).resolve())]
            stored = [_add_new(conn, item_id, c, "import", "import", now)[0] for c in scene.cuboids]
            for qa in scene.questions:
                counted = counted_objects(scene, qa.family, qa.question)
                qid = question_of.get((item_id, qa.question))
                if counted is not None and qid is not None:
                    _set_links(conn, qid, [stored[i] for i in counted])
