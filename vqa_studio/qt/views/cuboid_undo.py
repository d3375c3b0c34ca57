"""``QUndoCommand`` wrapper over the core cuboid commands (``core.cuboids``), for the app's one undo
stack (the same stack as the review answers).

The core command does the work (one committed transaction per do / undo / redo) and knows its
inverse; the wrapper forwards ``redo`` / ``undo`` and tells the editor what changed. A command that
fails (the cuboid changed elsewhere, a database error) reports the error and makes itself obsolete,
so QUndoStack drops it instead of keeping a step that no longer applies.

Consecutive keyboard nudges of one cuboid (same kind, within ``MERGE_WINDOW_S``) merge into one
undo step; every nudge still has its own history row.
"""
from __future__ import annotations

import time
import weakref
from typing import Any, Callable

from PySide6.QtGui import QUndoCommand

from ...core.cuboids import CuboidCommand, UpdateCuboid

MERGE_ID = 0x3DB0
MERGE_WINDOW_S = 1.5


class CuboidUndoCommand(QUndoCommand):
    def __init__(self, command: CuboidCommand, project: Any, listener: Any = None,
                 on_error: Callable[[BaseException], None] | None = None, merge_key: str | None = None,
                 item_id: int | None = None):
        super().__init__(command.text())
        self.command = command
        self.project = project
        self.item_id = item_id  # the item the cuboid belongs to (a main window may want to show it)
        # the editor (weakly: the stack outlives a closed editor); its
        # ``command_applied(cmd, op, project, item_id)`` is called after every do / undo / redo
        self._listener = weakref.ref(listener) if listener is not None else None
        self._on_error = on_error
        self.merge_key = merge_key
        self.stamp = time.monotonic()
        self.error: BaseException | None = None

    def _notify(self, op: str) -> None:
        listener = self._listener() if self._listener is not None else None
        if listener is not None:
            try:
                listener.command_applied(self.command, op, self.project, self.item_id)
            except RuntimeError:  # the editor's C++ side is gone
                pass

    def _fail(self, exc: BaseException) -> None:
        self.error = exc
        self.setObsolete(True)
        if self._on_error is not None:
            self._on_error(exc)

    def redo(self) -> None:
        op = "do" if self.command.state == "new" else "redo"
        try:
            self.command.apply(self.project)
        except Exception as exc:  # noqa: BLE001 - reported to the user, the step is dropped
            self._fail(exc)
            self._notify("failed")
            return
        self._notify(op)

    def undo(self) -> None:
        try:
            self.command.undo(self.project)
        except Exception as exc:  # noqa: BLE001
            self._fail(exc)
            self._notify("failed")
            return
        self._notify("undo")

    def id(self) -> int:  # noqa: A003 - Qt's name
        return MERGE_ID if self.merge_key else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, CuboidUndoCommand) or other.merge_key != self.merge_key or self.merge_key is None:
            return False
        if other.stamp - self.stamp > MERGE_WINDOW_S or not isinstance(self.command, UpdateCuboid):
            return False
        if not self.command.absorb(self.project, other.command):
            return False
        self.stamp = other.stamp
        self.setText(self.command.text())
        return True
