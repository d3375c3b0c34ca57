"""What the command line's modules share: exit codes, opening the project, printing, usage errors."""
from __future__ import annotations

from .core.errors import VQAStudioError

EXIT_OK, EXIT_BUG, EXIT_BAD_INPUT, EXIT_CANCELLED = 0, 1, 2, 130


def _open(args, create: bool = False):
    from .core.project import Project

    return Project.open(args.project, create=create)


def _print(*a) -> None:
    print(*a, flush=True)


class _UsageError(VQAStudioError):
    pass


def _usage(msg: str) -> _UsageError:
    return _UsageError(msg)
