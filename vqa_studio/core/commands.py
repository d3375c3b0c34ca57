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

``Command`` is the one command base: its do / undo / redo / apply state machine (and its one
``CommandStateError``) serves these review commands and the cuboid edits of ``core.cuboids`` alike.
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
class Command:
    """The one command base: ``do`` once, then ``undo`` / ``redo`` alternately; ``apply`` is ``do`` the
    first time and ``redo`` afterwards (what a ``QUndoCommand.redo`` needs). A step asked out of turn
    raises ``CommandStateError``; a step that fails (``ConflictError``, a database error) leaves the
    state as it was. Subclasses write ``_do`` / ``_undo`` / ``_redo`` (each one committed transaction)
    and ``text``. Review edits (``ReviewCommand``) and cuboid edits (``core.cuboids``) derive from it."""

    _state: str = field(default="new", kw_only=True, repr=False, compare=False)  # new | done | undone

    @property
    def state(self) -> str:
        """new (never done), done (in effect) or undone."""
        return self._state

    @property
    def done(self) -> bool:
        """True when the command's effect is in place (done or redone, and not undone since)."""
        return self._state == "done"

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
        """``do`` the first time, ``redo`` after an undo."""
        return self.do(project) if self._state == "new" else self.redo(project)

    def _do(self, project: "Project"):  # pragma: no cover - abstract
        raise NotImplementedError

    def _undo(self, project: "Project"):  # pragma: no cover - abstract
        raise NotImplementedError

    def _redo(self, project: "Project"):  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass
class ReviewCommand(Command):
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

    def _do(self, project: "Project") -> Correction:
        row = project.record(self.question_id, self.action, self.answer, pick=self.pick, note=self.note,
                             annotator=self.annotator, acquisition=self.acquisition)
        self.rows.append(row)
        return row

    def _undo(self, project: "Project") -> Correction:
        row = project.undo(self.rows[-1].id, annotator=self.annotator)
        self.rows.append(row)
        return row

    def _redo(self, project: "Project") -> Correction:
        row = project.redo(self.rows[-1].id, annotator=self.annotator)
        self.rows.append(row)
        return row


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
