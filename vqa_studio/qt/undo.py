"""``QUndoCommand`` adapters over the core review commands (``core.commands``).

The core command does the work and knows its inverse; the adapter only forwards ``redo`` /
``undo`` to an executor (the review controller's writer thread, which also refreshes the views).
The first ``redo`` that ``QUndoStack.push`` makes is the action itself (``do``); later ones are
``redo`` rows in the history.
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtGui import QUndoCommand

from ..core.commands import ReviewCommand


class ReviewUndoCommand(QUndoCommand):
    def __init__(self, command: ReviewCommand, execute: Callable[[ReviewCommand, str], None]):
        super().__init__(command.text())
        self.command = command
        self._execute = execute
        self._first = True
        self.dead = False  # set when the action itself failed: nothing to undo or redo

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
