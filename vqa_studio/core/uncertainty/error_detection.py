"""How well a model's uncertainty points at its own errors.

The annotator's gain comes from proposals that are right and from uncertainty that ranks the wrong
ones first. :func:`error_detection` measures the second: the AUROC of an uncertainty score for
telling the model's wrong answers from its right ones (0.5: no better than chance, 1.0: every wrong
answer is more uncertain than every right one), and the error rates of its most and least confident
tenths (what auto-accepting the most confident tenth would let through, what the review sees first).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ErrorDetection:
    score: str  # the uncertainty score used (entropy, least_confidence, ...)
    auroc: float  # nan when every answer is right or every answer is wrong
    n: int
    n_errors: int
    error_most_confident_tenth: float
    error_least_confident_tenth: float

    def lines(self) -> list[str]:
        auroc = "n/a (no errors or no right answers)" if np.isnan(self.auroc) else f"{self.auroc:.3f}"
        return [
            f"error detection: AUROC {auroc} ({self.score})",
            f"error rate of the most confident tenth: {self.error_most_confident_tenth * 100:.2f}%, "
            f"of the least confident tenth: {self.error_least_confident_tenth * 100:.2f}% "
            f"({self.n_errors} errors in {self.n})",
        ]


def auroc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve of ``scores`` for ``positive`` (the Mann-Whitney U statistic, ties
    counted half); nan when one class is empty."""
    scores = np.asarray(scores, dtype=np.float64)
    positive = np.asarray(positive, dtype=bool)
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    average_rank = ends - (counts - 1) / 2.0  # 1-based average rank of each distinct value
    ranks = average_rank[inverse]
    u = ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def error_detection(uncertainty: np.ndarray, correct: np.ndarray, score: str = "entropy") -> ErrorDetection:
    """``uncertainty`` [N] (higher = less sure) and ``correct`` [N] (bool, or a soft accuracy in
    0..1: below 0.5 counts as an error)."""
    unc = np.asarray(uncertainty, dtype=np.float64)
    corr = np.asarray(correct, dtype=np.float64)
    if unc.shape != corr.shape or unc.ndim != 1:
        raise ValueError(f"uncertainty {unc.shape} and correct {corr.shape} must be two vectors of one length")
    wrong = corr < 0.5
    n = unc.size
    if n == 0:
        return ErrorDetection(score, float("nan"), 0, 0, float("nan"), float("nan"))
    order = np.argsort(unc, kind="stable")  # most confident first
    tenth = max(1, n // 10)
    return ErrorDetection(
        score=score, auroc=auroc(unc, wrong), n=n, n_errors=int(wrong.sum()),
        error_most_confident_tenth=float(wrong[order[:tenth]].mean()),
        error_least_confident_tenth=float(wrong[order[-tenth:]].mean()),
    )
