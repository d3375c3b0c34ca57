"""Batch-aware selection: fewer near-duplicates than top-k, balance across question types."""
from __future__ import annotations

import numpy as np
import pytest

from vqa_studio.core.active.diverse import near_duplicates, select_batch


def _pool(rng):
    """A pool where the most uncertain questions are 60 copies of one confusion (near-identical
    embeddings, high scores) and 200 others are spread out with slightly lower scores."""
    dup_centre = rng.normal(size=32)
    dups = dup_centre + 0.01 * rng.normal(size=(60, 32))
    spread = rng.normal(size=(200, 32))
    emb = np.vstack([dups, spread])
    scores = np.r_[rng.uniform(0.9, 1.0, 60), rng.uniform(0.6, 0.9, 200)]
    return scores, emb


@pytest.mark.parametrize("method", ["cluster", "power"])
def test_diverse_batch_has_fewer_near_duplicates_than_top_k(method):
    rng = np.random.default_rng(0)
    scores, emb = _pool(rng)
    top = select_batch(scores, emb, 30, method="top")
    assert near_duplicates(emb, top) == 29  # all from the one confusion
    picked = select_batch(scores, emb, 30, method=method, rng=1)
    assert len(set(picked.tolist())) == 30
    assert near_duplicates(emb, picked) <= (2 if method == "cluster" else 15)
    assert scores[picked].mean() > 0.6  # still informative questions


def test_balance_across_question_types():
    rng = np.random.default_rng(2)
    scores = np.r_[rng.uniform(0.8, 1, 100), rng.uniform(0, 0.2, 100), rng.uniform(0, 0.2, 3)]
    types = ["colour"] * 100 + ["count"] * 100 + ["shape"] * 3
    got = select_batch(scores, None, 30, method="top", question_types=types, balance=True)
    kinds = [types[i] for i in got]
    assert kinds.count("shape") == 3 and kinds.count("colour") >= 13 and kinds.count("count") >= 13
    assert len(got) == 30 and len(set(got.tolist())) == 30
    plain = select_batch(scores, None, 30, method="top", question_types=types)
    assert all(types[i] == "colour" for i in plain)


def test_bad_arguments_are_messages():
    with pytest.raises(ValueError, match="embeddings"):
        select_batch([1.0, 2.0], None, 1, method="cluster")
    with pytest.raises(ValueError, match="selection method"):
        select_batch([1.0], None, 1, method="best")
    assert select_batch([0.5, 0.2], None, 5, method="power", rng=0).size == 2
