"""Scoring the pool with a ViLT model (``vilt:<source>``): MC-dropout on its answer head.

The transformer runs once per batch of questions; only the head is sampled T times
(``ViltProposer.sample``), so probabilities come as ``[N, C, T]`` like every other model's and the
same acquisition functions, top-5 answers and votes are stored under the model's version. ViLT reads
each image from its file at full resolution. It has no region attention: the stored attention is a
single cell (the overlay stays flat).
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Generator, Sequence

import numpy as np

from ..data.dataset import QA, Snapshot
from ..errors import BadInputError
from ..types import ItemKind, Progress
from ..uncertainty import acquisition
from .args import ScoringArgs

if TYPE_CHECKING:  # pragma: no cover - scoring imports this module when it meets a ViLT model
    from .scoring import ScoreResult

CHUNK = 256  # questions between two progress records (cancel points)


def vilt_probs(model, snapshot: Snapshot, questions: Sequence[QA], args: ScoringArgs
               ) -> Generator[Progress, None, tuple[np.ndarray, list[QA], list[str]]]:
    """``[N, C, T]`` MC-dropout probabilities of the ``questions`` whose image could be read, those
    questions, and what was left out (an unreadable image is skipped and named, never the end of
    the job)."""
    parts, kept, skipped = [], [], []
    n = len(questions)
    for start in range(0, n, CHUNK):
        chunk = list(questions[start:start + CHUNK])
        try:
            parts.append(_sample(model, snapshot, chunk, args, start))
            kept += chunk
        except BadInputError:  # find the unreadable ones, keep the rest
            for k, qa in enumerate(chunk):
                try:
                    parts.append(_sample(model, snapshot, [qa], args, start + k))
                    kept.append(qa)
                except BadInputError as exc:
                    skipped.append(str(exc))
        yield Progress("scoring", min(n, start + CHUNK), n, f"ViLT: {min(n, start + CHUNK):,} of {n:,} questions")
    c = len(model.proposer.answers)
    probs = np.concatenate(parts) if parts else np.zeros((0, c, args.mc_samples), np.float32)
    return probs, kept, skipped


def _sample(model, snapshot: Snapshot, chunk: Sequence[QA], args: ScoringArgs, seed: int) -> np.ndarray:
    paths = [snapshot.media_path(qa.item_id) for qa in chunk]
    return model.proposer.sample(paths, [qa.text for qa in chunk], args.mc_samples,
                                 batch_size=min(args.batch_size, 32), seed=args.seed + seed)


def score_vilt(project, model, args: ScoringArgs, snapshot: Snapshot | None = None,
               activate_proposals: bool = False) -> Generator[Progress, None, "ScoreResult"]:
    """Score every image question of the project with the ViLT ``model`` and store the results."""
    from . import scoring

    t0 = time.perf_counter()
    snapshot = snapshot or Snapshot.load(project)
    qs = [qa for qa in snapshot.questions if qa.kind is ItemKind.IMAGE]
    probs, qs, skipped = yield from vilt_probs(model, snapshot, qs, args)
    if skipped:
        yield Progress("scoring", 1, 1, f"left out {len(skipped)} questions whose image could not be read: {skipped[0]}")
    methods = list(args.methods or acquisition.acquisition_names())
    idx, p = acquisition.top_k(probs, scoring.TOP_K)
    cols = {"question_ids": np.asarray([qa.question_id for qa in qs], np.int64), "top_idx": idx, "top_p": p,
            "scores": acquisition.score_all(probs, methods), "votes": [acquisition.votes(probs)],
            "attention": [np.full((len(qs), 1, 1), 1.0, np.float16)], "centres": [[None] * len(qs)],
            "mean": [probs.mean(axis=2)], "fused": []}
    yield Progress("saving", 0, 1, "writing predictions")
    outside = {qa.question_id for qa in qs if qa.answer and model.proposer.index(qa.answer) is None}
    n = scoring.write_predictions(project, model.version, model.proposer.answers, cols, outside)
    if activate_proposals:
        scoring.mark_proposed(project, model.version)
    yield Progress("saving", 1, 1, f"{n} predictions written")
    return scoring.ScoreResult(model.version, n, sorted(cols["scores"]), time.perf_counter() - t0)
