"""Jobs that fail on purpose, run in a child process by name (``Job("tests.core.train.failing_jobs:crash")``):
the fault lives in the tests, not in the product."""
from __future__ import annotations

import os

from vqa_studio.core.types import Progress


def crash(project, params):
    """Fail after some progress (``raise``), or die outright with ``{"hard": True}``."""
    yield Progress("train", 1, 3, "about to fail")
    if params.get("hard"):
        os._exit(3)
    raise RuntimeError("boom (a deliberate test failure)")
