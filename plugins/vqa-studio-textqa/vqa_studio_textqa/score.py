"""Scoring the project's story questions with a text-QA model (``core.active.scoring.score_pool``
hands such a model here).

Probabilities are ``[N, C, T]`` (MC-dropout on the answer module: ``mc_samples`` per ensemble
member), so the core's acquisition functions, top-5 answers and votes are stored under the model's
version exactly as for images; the stored attention of each question is its ``[episodes,
sentences]`` gates, which the story view shades.
"""
from __future__ import annotations

import time
from typing import Generator

import numpy as np

from vqa_studio.core.types import ItemKind, Progress

from .data import encode, read_stories
from .infer import encode_all, sample_probs

CHUNK = 512  # questions between two progress records (cancel points)


def score_pool(project, model, args, snapshot=None, activate_proposals: bool = False) -> Generator[Progress, None, object]:
    from vqa_studio.core.active import scoring
    from vqa_studio.core.data.dataset import Snapshot
    from vqa_studio.core.uncertainty import acquisition

    t0 = time.perf_counter()
    snapshot = snapshot or Snapshot.load(project)
    qs = snapshot.select(None, ItemKind("story"))
    stories, bad = read_stories(snapshot, qs)
    if bad:
        yield Progress("scoring", 0, None, f"left out the questions of {len(bad)} unreadable stories: {bad[0]}")
    enc = encode(qs, stories, model.word_id, model.max_words)
    n = len(enc)
    probs_parts, att, feats = [], [], []
    for start in range(0, max(n, 1), CHUNK):
        part = enc.take(np.arange(start, min(n, start + CHUNK)))
        if not len(part):
            break
        e = encode_all(model.members, part, batch_size=min(args.batch_size, 256), device=args.device)
        probs_parts.append(sample_probs(model.members, e.features, args.mc_samples, args.seed + start,
                                        model.temperature))
        att += e.attention
        feats.append(e.features[0].numpy().astype(np.float16))
        yield Progress("scoring", min(n, start + CHUNK), n, f"stories: {min(n, start + CHUNK):,} of {n:,} questions")
    probs = np.concatenate(probs_parts) if probs_parts else np.zeros((0, len(model.answers), args.mc_samples), np.float32)
    methods = list(args.methods or acquisition.acquisition_names())
    idx, p = acquisition.top_k(probs, scoring.TOP_K)
    cols = {"question_ids": enc.question_ids, "top_idx": idx, "top_p": p,
            "scores": acquisition.score_all(probs, methods), "votes": [acquisition.votes(probs)],
            "attention": [att], "centres": [[None] * n], "mean": [probs.mean(axis=2)], "fused": feats}
    yield Progress("saving", 0, 1, "writing predictions")
    by_id = {qa.question_id: qa for qa in qs}
    outside = {int(q) for q in enc.question_ids
               if by_id[int(q)].answer and model.answer_index(by_id[int(q)].answer) < 0}
    written = scoring.write_predictions(project, model.version, model.answers, cols, outside)
    scoring.save_embeddings(project, model.version, cols)
    if activate_proposals:
        scoring.mark_proposed(project, model.version)
    yield Progress("saving", 1, 1, f"{written} predictions written")
    return scoring.ScoreResult(model.version, written, sorted(cols["scores"]), time.perf_counter() - t0)


def predict_answers(model, snapshot, questions, entropy=None) -> dict[int, tuple[str, float]]:
    """question id -> (the calibrated top answer, its probability), no dropout (``vqa-studio evaluate``);
    ``entropy`` receives each question's entropy of the calibrated answer distribution when given."""
    from .infer import mean_probs

    qs = [qa for qa in questions if qa.kind is ItemKind("story")]
    stories, _ = read_stories(snapshot, qs)
    enc = encode(qs, stories, model.word_id, model.max_words)
    if not len(enc):
        return {}
    p = mean_probs(model.members, encode_all(model.members, enc).features, model.temperature)
    if entropy is not None:
        h = -(p * np.log(np.clip(p, 1e-12, 1.0))).sum(-1)
        entropy.update(zip(enc.question_ids.tolist(), h.tolist()))
    top = p.argmax(-1)
    return {int(q): (model.answers[i], float(p[r, i])) for r, (q, i) in enumerate(zip(enc.question_ids, top))}
