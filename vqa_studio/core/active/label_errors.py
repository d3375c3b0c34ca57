"""Label errors by confident learning (Northcutt, Jiang & Chuang, JAIR 2021).

Given *out-of-sample* predicted probabilities ``probs`` [N, C] (each row from a model that did not
train on that question: cross-validation folds, see ``core.train.crossval``) and the stored labels [N]:

1. per-class thresholds ``t_j`` = the mean self-confidence of the questions labelled j;
2. the confident joint ``C[i, j]``: questions labelled i whose probability of class j is at least
   ``t_j`` (the most probable such j when several are), i.e. "labelled i, confidently j";
3. calibrate it to the label counts and normalise: the joint ``Q`` of (given, true) labels; the
   expected number of label errors is ``N`` times its off-diagonal mass;
4. prune by noise rate: for each off-diagonal (i, j), the ``round(N * Q[i, j])`` questions labelled i
   with the largest margin ``p(j) - p(i)`` are flagged; a question whose label is also the model's
   top answer is never flagged.

Flagged questions come most suspicious first: lowest normalised margin (the label's probability
minus the best other class's).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class LabelErrors:
    indices: np.ndarray  # int [K]: rows flagged, most suspicious first
    expected_count: float  # N x the off-diagonal mass of the calibrated joint
    per_class_threshold: np.ndarray  # float [C] (inf: no question has that label)
    confident_joint: np.ndarray  # int [C, C]: rows given label, columns confident class
    suggested: np.ndarray  # int [K]: the model's top class for each flagged row
    margin: np.ndarray  # float [K]: p(label) - max other p, of each flagged row

    def __len__(self) -> int:
        return int(self.indices.shape[0])


def _check(probs, labels) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64).ravel()
    if p.ndim == 3:  # [N, C, T]: the mean over samples
        p = p.mean(axis=2)
    if p.ndim != 2 or p.shape[0] != y.shape[0]:
        raise ValueError(f"probs must be [N, C] with one label per row: got {p.shape} and {y.shape[0]} labels")
    if y.size and (y.min() < 0 or y.max() >= p.shape[1]):
        raise ValueError("labels must be class indices in [0, C); leave out questions whose answer the model "
                         "cannot output")
    return p, y


def find_label_errors(probs, labels, *, min_per_class: int = 1) -> LabelErrors:
    """Questions whose stored label the out-of-sample probabilities confidently contradict (see the
    module doc). ``min_per_class``: a class with fewer labelled questions gets no threshold."""
    p, y = _check(probs, labels)
    n, c = p.shape
    empty = np.zeros(0, np.int64)
    if n == 0:
        return LabelErrors(empty, 0.0, np.full(c, np.inf), np.zeros((c, c), np.int64), empty, np.zeros(0))
    counts = np.bincount(y, minlength=c)
    self_conf = p[np.arange(n), y]
    sums = np.bincount(y, weights=self_conf, minlength=c)
    thresholds = np.where(counts >= min_per_class, sums / np.maximum(counts, 1), np.inf)
    thresholds = np.where(counts > 0, thresholds, np.inf)
    above = p >= thresholds[None, :] - 1e-12
    confident = np.where(above, p, -1.0).argmax(axis=1)
    has = above.any(axis=1)
    joint = np.zeros((c, c), np.int64)
    np.add.at(joint, (y[has], confident[has]), 1)
    # calibrate: each row sums to its label count, then the whole joint to 1
    row = joint.sum(axis=1, keepdims=True)
    cal = np.where(row > 0, joint / np.maximum(row, 1) * counts[:, None], 0.0)
    q = cal / max(cal.sum(), 1e-12)
    off = q.copy()
    np.fill_diagonal(off, 0.0)
    expected = float(off.sum() * n)
    flagged = np.zeros(n, dtype=bool)
    for i, j in zip(*np.nonzero(off)):
        m = int(round(n * off[i, j]))
        if m <= 0:
            continue
        rows = np.flatnonzero(y == i)
        margin_ij = p[rows, j] - p[rows, i]
        flagged[rows[np.argsort(-margin_ij, kind="stable")[:m]]] = True
    top = p.argmax(axis=1)
    flagged &= top != y
    idx = np.flatnonzero(flagged)
    others = p.copy()
    others[np.arange(n), y] = -np.inf
    margin = self_conf - others.max(axis=1)
    order = idx[np.argsort(margin[idx], kind="stable")]
    return LabelErrors(order, expected, thresholds, joint, top[order], margin[order])
