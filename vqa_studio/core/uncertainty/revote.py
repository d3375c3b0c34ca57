"""Question-type re-voting: weight each ensemble member by how good it is at this kind of question.

Members often differ by question type (one counts well, another knows colours). On validation data,
:func:`fit_revote_weights` measures each member's accuracy per question type; :func:`revote` then
combines the members' predictions for each item with the weights of that item's question type::

    p(c | item) = sum_m w[type, m] p_m(c | item) / sum_m w[type, m]

(``hard=True``: each member casts a one-hot vote for its argmax instead of its probabilities).
Types never seen in validation (or seen fewer than ``min_count`` times) use each member's overall
accuracy. ``prior_strength`` a > 0 shrinks a type's accuracy towards the overall one:
``(correct + a * overall) / (n + a)``. When every member scores 0 on a type, members count equally.
Labels of -1 (answers outside the vocabulary) are ignored.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np


@dataclass
class RevoteWeights:
    overall: np.ndarray  # [M] each member's accuracy on all labelled validation items
    by_type: dict[str, np.ndarray] = field(default_factory=dict)  # question type -> [M]
    counts: dict[str, int] = field(default_factory=dict)  # labelled validation items per type

    @property
    def n_members(self) -> int:
        return int(self.overall.shape[0])

    def for_types(self, qtypes: Sequence[str]) -> np.ndarray:
        """[N, M] weights for items of these question types (overall accuracy for unseen types)."""
        return np.stack([self.by_type.get(t, self.overall) for t in qtypes]) if len(qtypes) else \
            np.empty((0, self.n_members))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON, to keep next to the ensemble's checkpoints."""
        return {
            "overall": self.overall.tolist(),
            "by_type": {t: w.tolist() for t, w in self.by_type.items()},
            "counts": dict(self.counts),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RevoteWeights":
        return cls(
            overall=np.asarray(data["overall"], dtype=np.float64),
            by_type={t: np.asarray(w, dtype=np.float64) for t, w in data.get("by_type", {}).items()},
            counts={t: int(c) for t, c in data.get("counts", {}).items()},
        )


def _check(member_probs: np.ndarray, n: int | None = None) -> np.ndarray:
    a = np.asarray(member_probs)
    if a.ndim != 3:
        raise ValueError(f"member probabilities are [N, C, M], got {a.shape}")
    if n is not None and a.shape[0] != n:
        raise ValueError(f"{a.shape[0]} items of probabilities but {n} labels / question types")
    return a


def fit_revote_weights(
    member_probs_val,
    labels_val,
    qtypes_val: Sequence[str],
    *,
    prior_strength: float = 0.0,
    min_count: int = 1,
) -> RevoteWeights:
    """Each member's accuracy (argmax == label) per question type on validation data."""
    labels = np.asarray(labels_val).astype(np.int64)
    a = _check(member_probs_val, labels.shape[0])
    if len(qtypes_val) != labels.shape[0]:
        raise ValueError(f"{len(qtypes_val)} question types for {labels.shape[0]} labels")
    m = a.shape[2]
    keep = labels >= 0
    correct = (a.argmax(axis=1) == labels[:, None]) & keep[:, None]  # [N, M]
    n_all = int(keep.sum())
    overall = correct.sum(axis=0) / n_all if n_all else np.ones(m)
    qtypes = np.asarray(list(qtypes_val), dtype=object)
    by_type: dict[str, np.ndarray] = {}
    counts: dict[str, int] = {}
    for t in dict.fromkeys(qtypes[keep].tolist()):  # labelled types, first-seen order
        rows = keep & (qtypes == t)
        n = int(rows.sum())
        counts[t] = n
        if n < min_count:
            continue
        by_type[t] = (correct[rows].sum(axis=0) + prior_strength * overall) / (n + prior_strength)
    return RevoteWeights(np.asarray(overall, dtype=np.float64), by_type, counts)


def revote(member_probs, qtypes: Sequence[str], weights: RevoteWeights, *, hard: bool = False) -> np.ndarray:
    """Members' predictions [N, C, M] re-weighted per question type -> [N, C] (float32, rows sum 1)."""
    a = _check(member_probs, len(qtypes))
    if a.shape[2] != weights.n_members:
        raise ValueError(f"{a.shape[2]} members but weights for {weights.n_members}")
    w = weights.for_types(qtypes).astype(np.float64)  # [N, M]
    w = np.where(w.sum(axis=1, keepdims=True) > 0, w, 1.0)
    if hard:
        a = (a.argmax(axis=1)[:, None, :] == np.arange(a.shape[1])[None, :, None]).astype(np.float64)
    out = np.einsum("ncm,nm->nc", a.astype(np.float64, copy=False), w) / w.sum(axis=1, keepdims=True)
    return out.astype(np.float32)


__all__ = ["RevoteWeights", "fit_revote_weights", "revote"]
