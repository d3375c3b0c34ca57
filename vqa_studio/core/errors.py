"""Errors the core raises on purpose. Each names what the user can act on."""
from __future__ import annotations

from pathlib import Path


class VQAStudioError(Exception):
    """Base class: an expected failure with a message meant for the user."""


class BadInputError(VQAStudioError):
    """A file (or one record of it) cannot be used.

    ``path`` is the file, ``record`` says where in it (``"questions[12] (question_id 42)"``,
    ``"line 7"``), ``problem`` says what is wrong.
    """

    def __init__(self, path: str | Path | None, problem: str, record: str | None = None):
        self.path = str(path) if path is not None else None
        self.record = record
        self.problem = problem
        where = self.path or "<input>"
        if record:
            where = f"{where}: {record}"
        super().__init__(f"{where}: {problem}")


class ProjectError(VQAStudioError):
    """The project folder or its database cannot be opened or used as asked."""


class SchemaTooNewError(ProjectError):
    """The project was written by a newer VQA Studio than this one."""


class ConflictError(VQAStudioError):
    """An edit no longer applies: the question changed since (another annotator, another window)."""


class EditConflictError(ConflictError):
    """Two annotators edited one question at once: this edit was based on ``base_version`` but the
    question is now at ``current_version`` (someone else's edit came first). Nothing was written.

    ``mine`` is the answer this edit would have stored (None for a flag or skip), ``theirs`` the
    answer in place now, ``their_status`` its status and ``their_annotator`` who made that change.
    Keeping mine is a new edit based on ``current_version``; taking theirs writes nothing.
    """

    def __init__(self, question_id: int, *, mine: str | None, action: str, theirs: str | None,
                 their_status: str, their_annotator: str | None, base_version: int, current_version: int):
        self.question_id = question_id
        self.mine = mine
        self.action = action
        self.theirs = theirs
        self.their_status = their_status
        self.their_annotator = their_annotator
        self.base_version = base_version
        self.current_version = current_version
        who = their_annotator or "someone else"
        super().__init__(
            f"question {question_id} was changed by {who} while you were on it (now '{theirs}', {their_status}; "
            f"your {action}: '{mine}'); nothing was overwritten: keep yours or take theirs")


class CheckpointError(VQAStudioError):
    """A model file that does not fit (other version, other vocabulary, other architecture)."""


class Cancelled(VQAStudioError):
    """Long work was cancelled by the user."""
