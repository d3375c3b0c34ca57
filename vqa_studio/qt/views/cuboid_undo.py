"""The undo adapter over the core cuboid commands (``core.cuboids``), for the app's one undo stack
(the same stack as the review answers), with the one policy of ``qt/undo.py``: the core command's
do / undo / redo (one committed transaction each) runs on the writer thread, and the editor is told
on the GUI thread once it is applied. A command that fails (the cuboid changed elsewhere, a database
error) reports the error, tells the editor (``op == "failed"``) and leaves the stack.

Consecutive keyboard nudges of one cuboid (same kind, within ``MERGE_WINDOW_S``) merge into one
undo step; every nudge still has its own history row. The merge is decided on the GUI thread when
the nudge is pushed; the core ``absorb`` runs on the writer after the nudge's own write.
"""
from __future__ import annotations

import time
import weakref
from typing import Any, Callable

from PySide6.QtGui import QUndoCommand, QUndoStack

from ...core.cuboids import CuboidCommand, UpdateCuboid, same_geometry
from ..undo import UndoAdapter, write_on

MERGE_ID = 0x3DB0
MERGE_WINDOW_S = 1.5


class CuboidUndoCommand(UndoAdapter):
    """``writer``: the ``TaskRunner`` the writes go through; ``stack``: the stack the command is
    pushed on (a failed step is dropped from it); ``listener``: the editor, whose
    ``command_queued(cmd, op, target)`` is called when a write is handed to the writer and
    ``command_applied(cmd, op, project, item_id)`` after it is applied (or failed)."""

    def __init__(self, command: CuboidCommand, project: Any, writer, stack: QUndoStack | None = None,
                 listener: Any = None, on_error: Callable[[BaseException], None] | None = None,
                 merge_key: str | None = None, item_id: int | None = None):
        super().__init__(command, None)
        self._execute = self._write
        self.project = project
        self.item_id = item_id  # the item the cuboid belongs to (a main window may want to show it)
        self._writer = writer
        self._stack = weakref.ref(stack) if stack is not None else None
        # the editor (weakly: the stack outlives a closed editor)
        self._listener = weakref.ref(listener) if listener is not None else None
        self._on_error = on_error
        self.merge_key = merge_key
        self.stamp = time.monotonic()
        self.error: BaseException | None = None
        self.merged_into: CuboidUndoCommand | None = None  # set when a later nudge was folded in
        # the geometry this step leaves the cuboid in, as far as the GUI knows (merges move it on
        # before the writer has run the core ``absorb``)
        self.tip = command.new if isinstance(command, UpdateCuboid) else None

    # --- the writes ----------------------------------------------------------------------------------
    def _write(self, command: CuboidCommand, op: str) -> None:
        listener = self._get_listener()
        if listener is not None and hasattr(listener, "command_queued"):
            listener.command_queued(command, op, self.target(op))
        if not write_on(self._writer, self.project, command, op, lambda _r: self._applied(op),
                        lambda exc: self._failed(exc)):
            self._failed(RuntimeError("the editor is closed: the edit was not saved"))

    def target(self, op: str):
        """``(cuboid id, geometry)`` an update leaves after ``op`` (None for other commands)."""
        cmd = self.command
        if not isinstance(cmd, UpdateCuboid) or cmd.old is None:
            return None
        return cmd.cuboid_id, (cmd.old if op == "undo" else self.tip)

    def _get_listener(self):
        return self._listener() if self._listener is not None else None

    def _notify(self, op: str) -> None:
        listener = self._get_listener()
        if listener is not None:
            try:
                listener.command_applied(self.command, op, self.project, self.item_id)
            except RuntimeError:  # the editor's C++ side is gone
                pass

    def _applied(self, op: str) -> None:
        self._notify(op)

    def _failed(self, exc: BaseException) -> None:
        self.error = exc
        if self._on_error is not None:
            self._on_error(exc)
        if self.merged_into is None:  # a merged step has no stack entry of its own any more
            try:
                self.discard(self._stack() if self._stack is not None else None)
            except RuntimeError:  # the stack was cleared meanwhile: its C++ side is gone
                pass
        self._notify("failed")

    # --- merging key nudges -------------------------------------------------------------------------
    def id(self) -> int:  # noqa: A003 - Qt's name
        return MERGE_ID if self.merge_key else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, CuboidUndoCommand) or other.merge_key != self.merge_key or self.merge_key is None:
            return False
        if other.stamp - self.stamp > MERGE_WINDOW_S or self.dead or other.dead:
            return False
        mine, theirs = self.command, other.command
        if (not isinstance(mine, UpdateCuboid) or not isinstance(theirs, UpdateCuboid)
                or theirs.cuboid_id != mine.cuboid_id or not same_geometry(theirs.old, self.tip)):
            return False
        # the writer runs in order: this comes after both writes
        self._writer.submit(mine.absorb, self.project, theirs)
        other.merged_into = self
        self.tip = other.tip
        self.stamp = other.stamp
        return True
