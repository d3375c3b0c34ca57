"""Answers outside the vocabulary: flag a question whose right answer the model cannot output yet,
instead of letting it be answered confidently wrong.

The classifier's classes are the distinct *normalised* answers of its training labels (``AnswerVocab``
normalises "Two." and "2" to one class), so a question whose answer is new has no class: the model can
only spread its probability over the answers it knows. The score measures that spread, per question
type where the types are known:

- ``other_mass``: the mean probability on answers never seen with the question's type in training
  (e.g. colours for a "how many" question): the model is reaching outside the type's answers;
- ``spread``: the entropy of the mean distribution over the type's answers (renormalised), divided by
  the log of their number (0: one answer takes everything, 1: uniform over the type's answers);
- ``oov_score = 1 - (1 - other_mass) * (1 - spread)``, in [0, 1].

Without types every class is the type's answer set and the score is the normalised entropy.
A question is flagged when its score is at least a threshold fitted on labelled held-out questions
whose answers *are* in the vocabulary (``fit_oov_threshold``: their ``1 - false_flag_rate``
quantile), so about ``false_flag_rate`` of answerable questions are flagged too: the flag says
"check the answer, it may be one the model has never seen", and it cannot tell a new answer from a
known one the model finds very hard.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

DEFAULT_FALSE_FLAG_RATE = 0.05
#: the name the score is stored under with the uncertainty scores of every prediction
OOV = "oov"


def _mean_probs(probs) -> np.ndarray:
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim == 3:
        p = p.mean(axis=2)
    if p.ndim != 2:
        raise ValueError(f"probs must be [N, C] or [N, C, T], not shape {p.shape}")
    return p / np.maximum(p.sum(axis=1, keepdims=True), 1e-12)


def _spread(p: np.ndarray) -> np.ndarray:
    """Normalised entropy of each row of ``p`` (rows sum to 1 or are all 0) over its columns."""
    c = p.shape[1]
    if c < 2:
        return np.zeros(p.shape[0])
    q = p / np.maximum(p.sum(axis=1, keepdims=True), 1e-12)
    h = -(np.where(q > 0, q * np.log(np.maximum(q, 1e-300)), 0.0)).sum(axis=1)
    return np.clip(h / np.log(c), 0.0, 1.0)


def type_answer_sets(question_types: Sequence[str], labels: Sequence[int]) -> dict[str, np.ndarray]:
    """Class indices seen as answers of each question type in training (labels < 0 are left out)."""
    out: dict[str, set[int]] = {}
    for t, y in zip(question_types, labels):
        if int(y) >= 0:
            out.setdefault(t, set()).add(int(y))
    return {t: np.asarray(sorted(v), dtype=np.int64) for t, v in out.items()}


def oov_scores(probs, question_types: Sequence[str] | None = None,
               type_answers: Mapping[str, Sequence[int]] | None = None) -> np.ndarray:
    """The out-of-vocabulary score of each question [N] (see the module doc)."""
    p = _mean_probs(probs)
    n = p.shape[0]
    if question_types is None or not type_answers:
        return _spread(p)
    types = list(question_types)
    if len(types) != n:
        raise ValueError(f"{len(types)} question types for {n} rows of probabilities")
    out = _spread(p)  # a type never seen in training: the plain normalised entropy
    by_type: dict[str, list[int]] = {}
    for i, t in enumerate(types):
        by_type.setdefault(t, []).append(i)
    for t, rows_list in by_type.items():
        allowed = type_answers.get(t)
        if allowed is None or len(allowed) == 0:
            continue
        rows = np.asarray(rows_list, dtype=np.int64)
        cols = np.asarray(allowed, dtype=np.int64)
        inside = p[np.ix_(rows, cols)]
        other = np.clip(1.0 - inside.sum(axis=1), 0.0, 1.0)
        out[rows] = 1.0 - (1.0 - other) * (1.0 - _spread(inside))
    return out


def fit_oov_threshold(in_vocab_scores, false_flag_rate: float = DEFAULT_FALSE_FLAG_RATE) -> float:
    """The score above which about ``false_flag_rate`` of answerable (in-vocabulary) held-out
    questions lie; 1.0 (flag nothing) without any."""
    s = np.asarray(in_vocab_scores, dtype=np.float64)
    s = s[np.isfinite(s)]
    if not 0.0 < float(false_flag_rate) < 1.0:
        raise ValueError(f"the false-flag rate must be between 0 and 1, not {false_flag_rate!r}")
    if s.size == 0:
        return 1.0
    return float(np.quantile(s, 1.0 - false_flag_rate, method="higher"))


def oov_flags(scores, threshold: float) -> np.ndarray:
    """Bool [N]: questions whose right answer may be outside the vocabulary (score above threshold)."""
    return np.asarray(scores, dtype=np.float64) > float(threshold)
