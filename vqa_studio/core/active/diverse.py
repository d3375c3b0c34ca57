"""Batch-aware selection: which k questions to label next, so a retraining round is not spent on
near-duplicates (top-k of any acquisition score picks many copies of the same confusion: Kirsch et
al., BatchBALD, NeurIPS 2019).

- ``"top"``: the k highest scores (the plain queue order).
- ``"power"``: stochastic power sampling (Kirsch et al., "Stochastic Batch Acquisition", TMLR 2023):
  k questions drawn without replacement with probability proportional to ``score ** beta`` (the
  Gumbel-top-k trick). No embeddings needed; diverse because near-equal scores are drawn at random.
- ``"cluster"``: score-weighted k-means++ seeding in the model's embedding space (as BADGE,
  Ash et al. 2020, does with gradient embeddings): among the ``candidates * k`` best-scored questions,
  the first pick is the best; each next is drawn with probability proportional to its score times its
  squared (cosine) distance to the nearest question already picked, so a near-duplicate of a pick is
  almost never picked again.

``balance=True`` with ``question_types`` shares the k slots equally among the question types present
(a type with fewer candidates gives its unused slots to the others) and selects within each type.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

METHODS = ("power", "cluster", "top")
DEFAULT_BETA = 1.0
DEFAULT_CANDIDATES = 10


def _positive(scores: np.ndarray) -> np.ndarray:
    s = np.nan_to_num(np.asarray(scores, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    lo = s.min() if s.size else 0.0
    s = s - lo if lo < 0 else s
    return s + 1e-12


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-scores, kind="stable")[:k]


def _power(scores: np.ndarray, k: int, rng: np.random.Generator, beta: float) -> np.ndarray:
    gumbel = -np.log(-np.log(rng.uniform(1e-12, 1.0, size=scores.size)))
    return np.argsort(-(beta * np.log(_positive(scores)) + gumbel), kind="stable")[:k]


def _cluster(scores: np.ndarray, emb: np.ndarray, k: int, rng: np.random.Generator, candidates: int) -> np.ndarray:
    pool = _top(scores, min(scores.size, max(k, candidates * k)))
    x = np.asarray(emb[pool], dtype=np.float32)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-8)
    w = _positive(scores[pool])
    chosen = [0]  # the best-scored candidate
    dist = np.maximum(1.0 - x @ x[0], 0.0)
    for _ in range(1, min(k, pool.size)):
        p = w * dist ** 2
        p[chosen] = 0.0
        total = p.sum()
        if total <= 1e-18:  # every candidate left duplicates a pick: fall back to the best scores left
            rest = [i for i in range(pool.size) if i not in set(chosen)]
            nxt = rest[0]
        else:
            nxt = int(rng.choice(pool.size, p=p / total))
        chosen.append(nxt)
        dist = np.minimum(dist, np.maximum(1.0 - x @ x[nxt], 0.0))
    return pool[np.asarray(chosen, dtype=np.int64)]


def _select(scores: np.ndarray, emb: np.ndarray | None, k: int, method: str, rng: np.random.Generator,
            beta: float, candidates: int) -> np.ndarray:
    if k <= 0 or scores.size == 0:
        return np.zeros(0, np.int64)
    k = min(k, scores.size)
    if method == "top":
        return _top(scores, k)
    if method == "power":
        return _power(scores, k, rng, beta)
    return _cluster(scores, emb, k, rng, candidates)


def _quotas(sizes: list[int], k: int) -> list[int]:
    """k slots shared equally among groups of ``sizes`` (what a small group cannot use goes to the rest)."""
    quota = [0] * len(sizes)
    left, open_ = min(k, sum(sizes)), [g for g, s in enumerate(sizes) if s > 0]
    while left > 0 and open_:
        share = max(1, left // len(open_))
        for g in list(open_):
            take = min(share, sizes[g] - quota[g], left)
            quota[g] += take
            left -= take
            if quota[g] >= sizes[g]:
                open_.remove(g)
            if left == 0:
                break
    return quota


def select_batch(scores, embeddings=None, k: int = 1, *, method: str = "power",
                 question_types: Sequence[str] | None = None, balance: bool = False,
                 rng: np.random.Generator | int | None = None, beta: float = DEFAULT_BETA,
                 candidates: int = DEFAULT_CANDIDATES) -> np.ndarray:
    """Indices (into ``scores``) of the k questions to label next, by ``method`` (see the module doc)."""
    if method not in METHODS:
        raise ValueError(f"selection method must be one of {', '.join(METHODS)}, not {method!r}")
    s = np.asarray(scores, dtype=np.float64).ravel()
    emb = None if embeddings is None else np.asarray(embeddings)
    if method == "cluster":
        if emb is None:
            raise ValueError("cluster selection needs the questions' embeddings (score the pool first)")
        if emb.ndim != 2 or emb.shape[0] != s.size:
            raise ValueError(f"embeddings must be [N, D] with N = {s.size}, not {emb.shape}")
    rng = np.random.default_rng(rng)
    k = int(k)
    if not balance or question_types is None:
        return _select(s, emb, k, method, rng, beta, candidates)
    types = np.asarray(list(question_types), dtype=object)
    if types.size != s.size:
        raise ValueError(f"question_types has {types.size} entries for {s.size} scores")
    names = sorted(set(types.tolist()))
    members = [np.flatnonzero(types == t) for t in names]
    quota = _quotas([m.size for m in members], k)
    picked = [m[_select(s[m], None if emb is None else emb[m], q, method, rng, beta, candidates)]
              for m, q in zip(members, quota) if q]
    out = np.concatenate(picked) if picked else np.zeros(0, np.int64)
    return out[np.argsort(-s[out], kind="stable")]


def near_duplicates(embeddings, indices, *, cosine: float = 0.98) -> int:
    """How many of the selected questions duplicate an earlier one of the selection (cosine
    similarity of their embeddings at least ``cosine``): what diverse selection keeps low."""
    x = np.asarray(embeddings, dtype=np.float32)[np.asarray(indices, dtype=np.int64)]
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-8)
    sim = x @ x.T
    return int(sum(bool((sim[i, :i] >= cosine).any()) for i in range(1, len(x))))
