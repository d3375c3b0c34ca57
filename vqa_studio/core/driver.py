"""The one driver of long work.

Long work in the core (import, export, training, scoring, auto-accept) is a plain generator that
yields :class:`~vqa_studio.core.types.Progress` records and returns its result. Everything that runs
such a generator — the CLI's progress bar, ``Project.run`` in scripts and tests, the GUI's
``GeneratorTask`` thread and the child process of a training job — goes through :func:`drive`, so
cancelling, closing and progress throttling behave the same everywhere::

    result = drive(project.import_records(records))                   # no progress shown
    result = drive(gen, on_progress=bar.update, cancelled=event.is_set)

Each yield is a cancel point: when ``cancelled()`` is true the generator is closed (which is how the
core rolls back what it was writing) and :class:`~vqa_studio.core.errors.Cancelled` is raised. An
exception from the generator, or a ``KeyboardInterrupt`` while it runs, closes it too and propagates.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Generator

from .errors import Cancelled
from .types import Progress

__all__ = ["Cancelled", "drive"]


def drive(gen: Generator[Progress, None, Any], *,
          on_progress: Callable[[Progress], None] | None = None,
          cancelled: Callable[[], bool] | None = None,
          min_interval: float = 0.0) -> Any:
    """Run ``gen`` to its end and return its result.

    ``on_progress(p)`` is called for each record, at most every ``min_interval`` seconds except at a
    new stage and at a stage's end (``done >= total``), which are always reported.
    """
    stage: object = object()
    last = float("-inf")
    try:
        while True:
            if cancelled is not None and cancelled():
                gen.close()
                raise Cancelled("cancelled")
            try:
                p = next(gen)
            except StopIteration as stop:
                return stop.value
            if on_progress is None or not isinstance(p, Progress):
                continue
            now = time.monotonic()
            if (p.stage != stage or now - last >= min_interval
                    or (p.total is not None and p.total and p.done >= p.total)):
                stage, last = p.stage, now
                on_progress(p)
    except BaseException:
        # the generator may already be closed (cancel, StopIteration); close() is then a no-op
        gen.close()
        raise
