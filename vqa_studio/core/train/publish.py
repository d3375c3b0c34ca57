"""The last steps of every training run, whatever trained the model (VQA Studio's own networks,
ViLT, a plugin medium's model): write the model file, re-score the pool with it, register it as the
active version and mark its answers as proposals."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Generator

from ..active.args import ScoringArgs
from ..active.scoring import mark_proposed, score_pool
from ..model.registry import register
from ..types import Progress


def publish(project, model: Any, path: Path, run_id: int, version: str, scoring: ScoringArgs, *,
            snapshot=None, media=None) -> Generator[Progress, None, None]:
    """Save ``model`` to ``path``, score the pool with it, register ``version`` (made active) under
    the training run ``run_id`` and mark the answers it proposes."""
    yield Progress("saving", 0, 1, f"writing {path.name}")
    model.save(path)
    yield from score_pool(project, model, scoring, snapshot=snapshot, media=media)
    yield Progress("registering", 0, 1, f"registering {version}")
    register(project, model, path, run_id, activate=True)
    mark_proposed(project, version)
