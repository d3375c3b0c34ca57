"""Review edits as small command objects that know their inverse.

Every command works on a ``Project`` and keeps the ids of the history rows it wrote, so that it can
be undone and redone any number of times; each ``do`` / ``undo`` / ``redo`` is one committed
transaction of the project (one row of the ``corrections`` history). The GUI's ``QUndoStack`` only
wraps these (``qt/undo.py``); undo works in tests and scripts without Qt::

    cmd = ReviewCommand(qid, Action.CORRECT, answer="blue")
    cmd.do(project)      # a 'correct' row
    cmd.undo(project)    # an 'undo' row pointing at it
    cmd.redo(project)    # a 'redo' row pointing at the undo
    cmd.undo(project)    # an 'undo' row pointing at the redo

Undo and redo are refused (``ConflictError``) when the question changed since, e.g. another
annotator edited it: they never overwrite newer work.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .types import Action, Correction

if TYPE_CHECKING:  # pragma: no cover
    from .project import Project

_LABELS = {
    Action.ACCEPT: "Accept",
    Action.PICK: "Pick",
    Action.CORRECT: "Correct",
    Action.FLAG: "Flag",
    Action.SKIP: "Skip",
    Action.AUTO_ACCEPT: "Auto-accept",
}


class CommandStateError(RuntimeError):
    """A command was asked to undo before it was done, or to redo before it was undone."""


@dataclass
class ReviewCommand:
    """One review action on one question (accept, pick, correct, flag, skip, auto-accept)."""

    question_id: int
    action: Action | str
    answer: str | None = None
    pick: int | None = None
    note: str | None = None
    acquisition: str | None = None
    annotator: str | None = None
    # the history rows this command wrote: the action itself, then alternately undo / redo rows
    rows: list[Correction] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.action = Action(self.action)
        if self.action in (Action.UNDO, Action.REDO):
            raise ValueError("undo and redo are what a command does, not commands themselves")

    # --- state -------------------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        """True when the command's effect is in place (done or redone, and not undone since)."""
        return bool(self.rows) and self.rows[-1].action is not Action.UNDO

    @property
    def correction(self) -> Correction | None:
        """The first history row: what the action did."""
        return self.rows[0] if self.rows else None

    @property
    def result(self) -> Correction | None:
        """The last history row this command wrote."""
        return self.rows[-1] if self.rows else None

    def text(self) -> str:
        """A short description for menus ("Undo Correct 'blue' (question 12)")."""
        what = _LABELS.get(self.action, self.action.value)
        if self.action is Action.CORRECT and self.answer:
            what += f" '{self.answer}'"
        elif self.action is Action.PICK and self.pick:
            what += f" #{self.pick}"
        return f"{what} (question {self.question_id})"

    # --- doing ---------------------------------------------------------------------------------------
    def do(self, project: "Project") -> Correction:
        if self.rows:
            raise CommandStateError("this command was already done; use redo()")
        row = project.record(self.question_id, self.action, self.answer, pick=self.pick, note=self.note,
                             annotator=self.annotator, acquisition=self.acquisition)
        self.rows.append(row)
        return row

    def undo(self, project: "Project") -> Correction:
        if not self.done:
            raise CommandStateError("nothing to undo: the command is not in effect")
        row = project.undo(self.rows[-1].id, annotator=self.annotator)
        self.rows.append(row)
        return row

    def redo(self, project: "Project") -> Correction:
        if not self.rows or self.rows[-1].action is not Action.UNDO:
            raise CommandStateError("nothing to redo: the command was not undone")
        row = project.redo(self.rows[-1].id, annotator=self.annotator)
        self.rows.append(row)
        return row

    def apply(self, project: "Project") -> Correction:
        """``do`` the first time, ``redo`` after an undo (what a QUndoCommand's redo() needs)."""
        return self.do(project) if not self.rows else self.redo(project)


def accept(question_id: int) -> ReviewCommand:
    return ReviewCommand(question_id, Action.ACCEPT)


def pick(question_id: int, k: int) -> ReviewCommand:
    return ReviewCommand(question_id, Action.PICK, pick=k)


def correct(question_id: int, answer: str) -> ReviewCommand:
    return ReviewCommand(question_id, Action.CORRECT, answer=answer)


def flag(question_id: int, note: str | None = None) -> ReviewCommand:
    return ReviewCommand(question_id, Action.FLAG, note=note)


def skip(question_id: int) -> ReviewCommand:
    return ReviewCommand(question_id, Action.SKIP)
