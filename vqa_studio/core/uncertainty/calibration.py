"""Calibration: temperature scaling, expected calibration error, reliability diagram.

* :func:`fit_temperature` finds the single T > 0 that minimises the validation NLL of
  ``softmax(logits / T)`` (Guo et al. 2017). The NLL is convex in beta = 1/T, so a safeguarded
  Newton search on beta inside ``[1/t_max, 1/t_min]`` (bisection whenever a Newton step leaves
  the bracket) finds the optimum in a handful of passes over the data, deterministically, with no
  learning rate to tune. Labels < 0 (answers outside the vocabulary) are ignored.
* :func:`expected_calibration_error`: ``sum_b n_b / N * |accuracy_b - confidence_b|`` over
  ``n_bins`` equal-width confidence bins ``(lo, hi]`` (the first also takes 0); confidence is the top
  class probability of the (mean) prediction. Labels < 0 are ignored here too, so the ECE describes
  the same items the temperature was fitted on.
* :func:`reliability_diagram`: the per-bin numbers behind the ECE, for plotting (empty bins: count 0
  and NaN accuracy / confidence; plot only bins with a count).

Inputs may be numpy arrays or torch tensors; probabilities ``[N, C]`` or ``[N, C, T]`` (averaged).
"""
from __future__ import annotations

from typing import Any

import numpy as np

_CHUNK = 4096


def _np(x) -> np.ndarray:
    if hasattr(x, "detach"):  # a torch tensor, without importing torch here
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _nll_grad_hess(logits: np.ndarray, labels: np.ndarray, beta: float) -> tuple[float, float, float]:
    """Mean NLL of softmax(beta * z) and its first two derivatives in beta."""
    nll = grad = hess = 0.0
    for i in range(0, logits.shape[0], _CHUNK):
        z = logits[i : i + _CHUNK].astype(np.float64)
        y = labels[i : i + _CHUNK]
        s = beta * z
        mx = s.max(axis=1, keepdims=True)
        e = np.exp(s - mx)
        tot = e.sum(axis=1, keepdims=True)
        p = e / tot
        zy = np.take_along_axis(z, y[:, None], axis=1)[:, 0]
        ez = (p * z).sum(axis=1)
        ez2 = (p * z * z).sum(axis=1)
        nll += float((np.log(tot[:, 0]) + mx[:, 0] - beta * zy).sum())
        grad += float((ez - zy).sum())
        hess += float(np.maximum(ez2 - ez * ez, 0.0).sum())
    n = logits.shape[0]
    return nll / n, grad / n, hess / n


def fit_temperature(logits, labels, *, t_min: float = 0.05, t_max: float = 20.0, tol: float = 1e-7,
                    max_iter: int = 100) -> float:
    """The temperature T in [t_min, t_max] minimising the NLL of softmax(logits / T) on
    (logits [N, C], labels [N]); labels < 0 are ignored; 1.0 when no label is usable."""
    z = _np(logits)
    y = _np(labels).astype(np.int64)
    if z.ndim != 2 or y.shape != (z.shape[0],):
        raise ValueError(f"fit_temperature takes logits [N, C] and labels [N], got {z.shape} and {y.shape}")
    if not 0 < t_min < t_max:
        raise ValueError("need 0 < t_min < t_max")
    keep = (y >= 0) & (y < z.shape[1])
    z, y = z[keep], y[keep]
    if not np.all(np.isfinite(z)):
        raise ValueError("the logits contain NaN or infinity")
    if z.shape[0] == 0:
        return 1.0
    lo, hi = 1.0 / t_max, 1.0 / t_min  # bracket on beta; d NLL / d beta is increasing (convexity)
    _, g_lo, _ = _nll_grad_hess(z, y, lo)
    if g_lo >= 0:
        return float(t_max)
    _, g_hi, _ = _nll_grad_hess(z, y, hi)
    if g_hi <= 0:
        return float(t_min)
    beta = min(max(1.0, lo), hi)
    for _ in range(max_iter):
        _, g, h = _nll_grad_hess(z, y, beta)
        if g > 0:
            hi = beta
        else:
            lo = beta
        step = beta - g / h if h > 0 else None
        nxt = step if step is not None and lo < step < hi else 0.5 * (lo + hi)
        if abs(nxt - beta) <= tol * max(1.0, beta) or hi - lo <= tol * max(1.0, beta):
            beta = nxt
            break
        beta = nxt
    return float(1.0 / beta)


def apply_temperature(logits, temperature: float) -> np.ndarray:
    """softmax(logits / temperature) along the class axis (1), float32, numerically stable."""
    z = _np(logits).astype(np.float64) / float(temperature)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def _confidence_correct(probs, labels) -> tuple[np.ndarray, np.ndarray]:
    p = _np(probs)
    if p.ndim == 3:
        p = p.mean(axis=2)
    y = _np(labels).astype(np.int64)
    if p.ndim != 2 or y.shape != (p.shape[0],):
        raise ValueError(f"calibration takes probs [N, C] (or [N, C, T]) and labels [N], got {p.shape}, {y.shape}")
    keep = y >= 0
    p, y = p[keep], y[keep]
    return p.max(axis=1).astype(np.float64), (p.argmax(axis=1) == y).astype(np.float64)


def reliability_diagram(probs, labels, n_bins: int = 15) -> dict[str, Any]:
    """dict(bin_edges [n_bins+1], accuracy [n_bins], confidence [n_bins], count [n_bins], ece)."""
    if n_bins < 1:
        raise ValueError("n_bins must be >= 1")
    conf, correct = _confidence_correct(probs, labels)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, n_bins - 1)
    count = np.bincount(bins, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = np.where(count > 0, np.bincount(bins, weights=correct, minlength=n_bins) / count, np.nan)
        confidence = np.where(count > 0, np.bincount(bins, weights=conf, minlength=n_bins) / count, np.nan)
    n = count.sum()
    filled = count > 0
    ece = float((count[filled] / n * np.abs(accuracy[filled] - confidence[filled])).sum()) if n else 0.0
    return {"bin_edges": edges, "accuracy": accuracy, "confidence": confidence, "count": count, "ece": ece}


def expected_calibration_error(probs, labels, n_bins: int = 15) -> float:
    """ECE with n_bins equal-width bins (0 when there is no labelled item)."""
    return reliability_diagram(probs, labels, n_bins)["ece"]


__all__ = ["fit_temperature", "apply_temperature", "expected_calibration_error", "reliability_diagram"]
