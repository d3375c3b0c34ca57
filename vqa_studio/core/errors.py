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


class CheckpointError(VQAStudioError):
    """A model file that does not fit (other version, other vocabulary, other architecture)."""


class Cancelled(VQAStudioError):
    """Long work was cancelled by the user."""
