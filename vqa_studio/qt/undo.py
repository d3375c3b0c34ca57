"""``QUndoCommand`` adapters over the core commands (``core.commands``, ``core.cuboids``): one policy
for every undoable edit of the app's one undo stack.

The core command does the work and knows its inverse. The adapter never touches the database: its
``redo`` / ``undo`` hand ``(command, op)`` to an executor, which runs the command's ``do`` / ``undo``
/ ``redo`` on the writer thread (a one-worker ``workers.TaskRunner``: writes happen in order) and
tells the views on the GUI thread once it is applied. The first ``redo`` that ``QUndoStack.push``
makes is the action itself (``do``); later ones are ``redo`` rows in the history.

A write that fails is reported by the executor, which then calls ``discard(stack)``: the step
is ``dead`` (its undo and redo do nothing) and obsolete, so the stack drops it instead of keeping a
step that no longer applies.

``write_on(writer, project, command, op, on_done, on_error)`` is that executor's one line for any
core command: the review controller and the cuboid editor both submit through it.
"""
from __future__ import annotations

from typing import Any, Callable

from PySide6.QtGui import QUndoCommand, QUndoStack

from ..core.commands import ReviewCommand

Execute = Callable[[Any, str], None]  # (core command, op: do | undo | redo)


def write_on(writer, project, command, op: str, on_done: Callable[[Any], None],
             on_error: Callable[[BaseException], None]) -> bool:
    """Run ``command``'s ``op`` (do | undo | redo) on ``writer`` (a ``TaskRunner``); ``on_done(result)``
    or ``on_error(exc)`` follow on the GUI thread. False (and nothing runs) once the writer is shut
    down."""
    fn: Callable = {"do": command.do, "undo": command.undo, "redo": command.redo}[op]
    return writer.submit(fn, project, on_done=on_done, on_error=on_error) is not None


class UndoAdapter(QUndoCommand):
    """A core command on the undo stack; ``execute(command, op)`` runs it (see the module docstring)."""

    def __init__(self, command, execute: Execute | None):
        super().__init__(command.text())
        self.command = command
        self._execute = execute
        self._first = True
        self.dead = False  # set when a write failed: nothing to undo or redo any more

    def redo(self) -> None:
        if self.dead:
            return
        op = "do" if self._first else "redo"
        self._first = False
        self._execute(self.command, op)

    def undo(self) -> None:
        if self.dead:
            return
        self._execute(self.command, "undo")

    def discard(self, stack: QUndoStack | None) -> None:
        """After a failed write: the step does nothing any more and leaves ``stack`` (at once when it
        is next to the stack's index, otherwise when the stack next passes over it)."""
        self.dead = True
        self.setObsolete(True)
        if stack is None:
            return
        idx = stack.index()
        if idx > 0 and stack.command(idx - 1) is self:
            stack.undo()  # an obsolete command is deleted instead of undone
        elif idx < stack.count() and stack.command(idx) is self:
            stack.redo()  # redo() of a dead step does nothing; then the stack deletes it


class ReviewUndoCommand(UndoAdapter):
    """A review command (accept, pick, correct, flag, skip); its executor is the review controller's."""

    def __init__(self, command: ReviewCommand, execute: Callable[[ReviewCommand, str], None]):
        super().__init__(command, execute)
