"""Dataset cartography (Swayamdipta et al., EMNLP 2020) and outlier scores (Karamcheti et al., ACL 2021).

Training records, for each labelled question, the model's probability of its true (stored) answer
after each epoch: ``history`` [n_questions, n_epochs] (NaN where a question was not trained on in an
epoch, e.g. skipped as easy). From it:

- ``confidence``: the mean of those probabilities;
- ``variability``: their standard deviation;
- ``category``: ``"ambiguous"`` where the variability is at least ``ambiguous_variability`` (the
  model kept changing its mind), else ``"easy"`` where the confidence is at least ``easy_confidence``,
  else ``"hard"`` (hard to learn: the model never got it and did not waver either);
- ``outlier_score`` in [0, 1]: ``(1 - confidence) * (1 - 2 * variability)`` (the standard deviation
  of values in [0, 1] is at most 0.5). Hard-to-learn questions (low confidence *and* low variability)
  score highest: those are the "collective outliers" -- unanswerable, mislabelled or needing outside
  knowledge -- that uncertainty sampling keeps feeding annotators and no model learns.

Unlabelled questions have no history; ``transfer_outlier_scores`` gives them one by their neighbours:
the mean outlier score of their k nearest labelled questions in the model's embedding space (cosine),
blended with the mean outlier score of their question type (its hard-to-learn rate, which transfers
where the embedding neighbourhood says little).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

CATEGORIES = ("easy", "ambiguous", "hard")
EASY_CONFIDENCE = 0.5
AMBIGUOUS_VARIABILITY = 0.2


@dataclass
class Cartography:
    confidence: np.ndarray  # float [N]: mean p(true answer) over epochs
    variability: np.ndarray  # float [N]: its standard deviation
    category: np.ndarray  # str [N]: "easy" | "ambiguous" | "hard"
    outlier_score: np.ndarray  # float [N] in [0, 1]: higher = more likely unlearnable
    correctness: np.ndarray  # float [N]: share of epochs with p(true answer) > 0.5
    epochs: np.ndarray  # int [N]: epochs that observed the question

    def __len__(self) -> int:
        return int(self.confidence.shape[0])

    def counts(self) -> dict[str, int]:
        return {c: int(np.count_nonzero(self.category == c)) for c in CATEGORIES}


def cartography(history, *, easy_confidence: float = EASY_CONFIDENCE,
                ambiguous_variability: float = AMBIGUOUS_VARIABILITY) -> Cartography:
    """Confidence, variability, category and outlier score of each row of ``history`` (see the module
    doc). A row never observed (all NaN) counts as hard with confidence 0."""
    h = np.asarray(history, dtype=np.float64)
    if h.ndim == 1:
        h = h[:, None]
    if h.ndim != 2:
        raise ValueError(f"history must be [n_questions, n_epochs], not shape {h.shape}")
    h = np.clip(h, 0.0, 1.0)
    seen = np.isfinite(h)
    n_seen = seen.sum(axis=1)
    filled = np.where(seen, h, 0.0)
    conf = filled.sum(axis=1) / np.maximum(n_seen, 1)
    var = np.sqrt((np.where(seen, (h - conf[:, None]) ** 2, 0.0)).sum(axis=1) / np.maximum(n_seen, 1))
    correct = np.where(seen, h > 0.5, False).sum(axis=1) / np.maximum(n_seen, 1)
    category = np.where(var >= ambiguous_variability, "ambiguous",
                        np.where(conf >= easy_confidence, "easy", "hard")).astype(object)
    score = np.clip((1.0 - conf) * (1.0 - 2.0 * var), 0.0, 1.0)
    return Cartography(conf, var, category, score, correct, n_seen.astype(np.int64))


def outlier_mask(cart: Cartography | np.ndarray, fraction_or_threshold: float, *, by: str = "fraction") -> np.ndarray:
    """Bool [N]: the likely outliers. ``by="fraction"``: the ``fraction_or_threshold`` share of rows
    with the highest outlier scores (ties by position); ``by="threshold"``: rows scoring at least it.
    ``cart`` may also be an array of outlier scores."""
    scores = np.asarray(cart.outlier_score if isinstance(cart, Cartography) else cart, dtype=np.float64)
    value = float(fraction_or_threshold)
    if by == "threshold":
        return np.nan_to_num(scores, nan=-np.inf) >= value
    if by != "fraction":
        raise ValueError(f"by must be 'fraction' or 'threshold', not {by!r}")
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"the outlier fraction must be between 0 and 1, not {value!r}")
    k = int(round(value * scores.size))
    mask = np.zeros(scores.size, dtype=bool)
    if k:
        mask[np.argsort(-np.nan_to_num(scores, nan=-np.inf), kind="stable")[:k]] = True
    return mask


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-8)


def transfer_outlier_scores(labelled_emb, labelled_scores, pool_emb, *, k: int = 10,
                            labelled_types: Sequence[str] | None = None, pool_types: Sequence[str] | None = None,
                            type_weight: float = 0.5, chunk: int = 4096) -> np.ndarray:
    """Outlier scores for questions without a training history [M]: ``1 - type_weight`` times the mean
    score of the ``k`` nearest labelled questions (cosine similarity of the model's embeddings) plus
    ``type_weight`` times the mean score of labelled questions of the same question type (the global
    mean for a type no labelled question has). Without types, the neighbours alone."""
    ls = np.asarray(labelled_scores, dtype=np.float64)
    pe = np.asarray(pool_emb)
    if ls.size == 0:
        return np.zeros(pe.shape[0])
    le = _unit(labelled_emb)
    pe = _unit(pe)
    k = max(1, min(int(k), ls.size))
    knn = np.empty(pe.shape[0])
    for s in range(0, pe.shape[0], chunk):
        sim = pe[s:s + chunk] @ le.T
        top = np.argpartition(-sim, k - 1, axis=1)[:, :k]
        knn[s:s + chunk] = ls[top].mean(axis=1)
    if labelled_types is None or pool_types is None or type_weight <= 0:
        return knn
    by_type: dict[str, list[float]] = {}
    for t, v in zip(labelled_types, ls.tolist()):
        by_type.setdefault(t, []).append(v)
    mean = float(ls.mean())
    rate = {t: float(np.mean(v)) for t, v in by_type.items()}
    typed = np.asarray([rate.get(t, mean) for t in pool_types])
    return (1.0 - type_weight) * knn + type_weight * typed
