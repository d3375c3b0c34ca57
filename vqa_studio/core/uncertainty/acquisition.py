"""Acquisition functions: probabilities ``[N, C, T]`` -> scores ``[N]``, HIGHER = MORE informative.

T samples are MC-dropout passes, ensemble members or heads alike (``sampling.py``); a plain
``[N, C]`` prediction is taken as T = 1. With ``p_t`` the t-th sample and ``p = mean_t p_t``
(natural logs, 0 log 0 = 0):

=================  ====================================================================  ===========
name               score                                                                 range
=================  ====================================================================  ===========
entropy            H[p] = -sum_c p_c log p_c  (max-entropy of the mean prediction)        0 .. log C
least_confidence   1 - max_c p_c                                                         0 .. 1-1/C
margin             1 - (p_(1) - p_(2)), the top two classes of p; 1 - margin so that     0 .. 1
                   higher means more uncertain (baal's ``Margin`` is the raw margin, low
                   first)
bald               H[p] - mean_t H[p_t]: mutual information between the prediction and   0 .. log C
                   the model (epistemic part); high when confident samples disagree, ~0
                   when they agree, even if each is uniform (aleatoric)
variation_ratio    1 - (votes for the modal class) / T, votes = argmax_c p_t              0 .. 1-1/T
vote_entropy       entropy of the vote histogram over the T hard votes                   0 .. log T
mean_kl            mean_t KL(p_t || p): query-by-committee "KL to the consensus"         0 .. log C
                   (McCallum & Nigam 1998). In exact arithmetic this equals BALD; it is
                   computed directly (differs from ``bald`` by round-off only)
=================  ====================================================================  ===========

All are computed in float64 in chunks of rows (any N fits in memory), never NaN for finite input
(one-hot rows included), and returned as float64 ``[N]``. BALD and mean_kl are clipped at 0
against round-off.
"""
from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

from ..registry import NamespaceView, default_registry

AcquisitionFn = Callable[[np.ndarray], np.ndarray]

_CHUNK = 2048


def _as_samples(probs) -> np.ndarray:
    a = np.asarray(probs)
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3:
        raise ValueError(f"acquisition functions take probabilities [N, C, T] (or [N, C]), got {a.shape}")
    if a.shape[1] < 1 or a.shape[2] < 1:
        raise ValueError(f"need at least one class and one sample, got {a.shape}")
    return a


def _chunks(n: int):
    for i in range(0, n, _CHUNK):
        yield slice(i, min(i + _CHUNK, n))


def _plogp(p: np.ndarray) -> np.ndarray:
    """p log p with 0 log 0 = 0 (p >= 0)."""
    return p * np.log(np.where(p > 0, p, 1.0))


def _entropy(p: np.ndarray, axis: int) -> np.ndarray:
    return np.maximum(-_plogp(p).sum(axis=axis), 0.0)


def _vote_counts(chunk: np.ndarray) -> np.ndarray:
    """[n, C, T] -> [n, C] how many of the T samples vote (argmax) for each class."""
    n, c, _ = chunk.shape
    v = chunk.argmax(axis=1)  # [n, T]
    flat = (v + c * np.arange(n)[:, None]).ravel()
    return np.bincount(flat, minlength=n * c).reshape(n, c)


# --- per-chunk kernels (float64 [n, C, T] in, [n] out) ---------------------------------------------------


def _k_entropy(x):
    return _entropy(x.mean(axis=2), axis=1)


def _k_least_confidence(x):
    return 1.0 - x.mean(axis=2).max(axis=1)


def _k_margin(x):
    m = x.mean(axis=2)
    if m.shape[1] == 1:
        return 1.0 - m[:, 0]
    top2 = -np.partition(-m, 1, axis=1)[:, :2]
    return 1.0 - (top2[:, 0] - top2[:, 1])


def _k_bald(x):
    return np.maximum(_entropy(x.mean(axis=2), axis=1) - (-_plogp(x).sum(axis=1)).mean(axis=1), 0.0)


def _k_variation_ratio(x):
    return 1.0 - _vote_counts(x).max(axis=1) / x.shape[2]


def _k_vote_entropy(x):
    return _entropy(_vote_counts(x) / x.shape[2], axis=1)


def _k_mean_kl(x):
    m = x.mean(axis=2, keepdims=True)
    # sum_c p_t log p_t - p_t log m; where p_t > 0, m >= p_t / T > 0, so the log is finite
    log_m = np.log(np.where(x > 0, m, 1.0))
    kl = (_plogp(x) - x * log_m).sum(axis=1)  # [n, T]
    return np.maximum(kl.mean(axis=1), 0.0)


def _chunked(kernel) -> AcquisitionFn:
    def fn(probs) -> np.ndarray:
        a = _as_samples(probs)
        out = np.empty(a.shape[0], dtype=np.float64)
        for s in _chunks(a.shape[0]):
            out[s] = kernel(a[s].astype(np.float64, copy=False))
        return out

    fn.__name__ = kernel.__name__[3:]
    fn.__qualname__ = fn.__name__
    return fn


entropy = _chunked(_k_entropy)
least_confidence = _chunked(_k_least_confidence)
margin = _chunked(_k_margin)
bald = _chunked(_k_bald)
variation_ratio = _chunked(_k_variation_ratio)
vote_entropy = _chunked(_k_vote_entropy)
mean_kl = _chunked(_k_mean_kl)

entropy.__doc__ = "H[mean_t p_t], the entropy of the mean prediction (max-entropy)."
least_confidence.__doc__ = "1 - the mean prediction's top probability."
margin.__doc__ = "1 - (top1 - top2) of the mean prediction: higher = smaller margin = more uncertain."
bald.__doc__ = "BALD mutual information H[mean_t p_t] - mean_t H[p_t] (epistemic uncertainty)."
variation_ratio.__doc__ = "1 - (frequency of the modal hard vote over the T samples)."
vote_entropy.__doc__ = "Entropy of the histogram of the T hard votes."
mean_kl.__doc__ = "mean_t KL(p_t || mean_t p_t), KL to the consensus (equal to BALD up to round-off)."

#: name -> function, in the order menus should list them: a live view of the one registry
#: (``core/registry.py``), where the built-ins above register as plugins do (``core/builtins.py``)
ACQUISITIONS = NamespaceView("acquisitions", "add_acquisition")
_BUILTIN: dict[str, AcquisitionFn] = {
    "entropy": entropy,
    "least_confidence": least_confidence,
    "margin": margin,
    "bald": bald,
    "variation_ratio": variation_ratio,
    "vote_entropy": vote_entropy,
    "mean_kl": mean_kl,
}


def register_acquisition(name: str, fn: AcquisitionFn | str, *, replace: bool = False) -> None:
    """Add ``fn(probs [N, C, T]) -> [N]`` (higher = more informative) under ``name`` (a callable or
    a ``"module:attr"`` string imported on first use)."""
    default_registry().add_acquisition(name, fn, replace=replace)


def get_acquisition(name: str) -> AcquisitionFn:
    entries = default_registry().acquisitions
    try:
        entry = entries[name]
    except KeyError:
        raise KeyError(f"unknown acquisition function {name!r} (known: {', '.join(entries)})") from None
    return entry.get()


def acquisition_names() -> list[str]:
    return list(default_registry().acquisitions)


def sort_methods(scored: Iterable[str] = ()) -> list[str]:
    """The methods a queue can be sorted by: every registered acquisition function (plugins' too), in
    the registry's order, then any other method a model version has stored scores for (``scored``)."""
    names = acquisition_names()
    return names + sorted(set(scored) - set(names))


def score_all(probs, names: list[str] | None = None) -> dict[str, np.ndarray]:
    """Every (or the named) acquisition score at once: ``{name: [N] float64}``.

    The built-ins share the mean prediction, the per-sample entropies and the vote histogram per
    chunk instead of recomputing them; registered extras are called as they are.
    """
    a = _as_samples(probs)
    names = acquisition_names() if names is None else list(names)
    fns = {name: get_acquisition(name) for name in names}  # unknown names fail before any work
    builtin = [n for n in names if fns[n] is _BUILTIN.get(n)]
    out = {n: np.empty(a.shape[0], dtype=np.float64) for n in builtin}
    t = a.shape[2]
    for s in _chunks(a.shape[0]):
        x = a[s].astype(np.float64, copy=False)
        m = x.mean(axis=2)
        h_mean = _entropy(m, axis=1)
        need_votes = {"variation_ratio", "vote_entropy"} & set(builtin)
        counts = _vote_counts(x) if need_votes else None
        for n in builtin:
            if n == "entropy":
                out[n][s] = h_mean
            elif n == "least_confidence":
                out[n][s] = 1.0 - m.max(axis=1)
            elif n == "margin":
                out[n][s] = _k_margin(x)
            elif n == "bald":
                out[n][s] = np.maximum(h_mean - (-_plogp(x).sum(axis=1)).mean(axis=1), 0.0)
            elif n == "variation_ratio":
                out[n][s] = 1.0 - counts.max(axis=1) / t
            elif n == "vote_entropy":
                out[n][s] = _entropy(counts / t, axis=1)
            elif n == "mean_kl":
                out[n][s] = _k_mean_kl(x)
    for n in names:
        if n not in out:
            out[n] = np.asarray(fns[n](a), dtype=np.float64)
    return {n: out[n] for n in names}


def votes(probs) -> np.ndarray:
    """Hard vote (argmax class) of every sample, [N, T]: int16 (int32 when C > 32767)."""
    a = _as_samples(probs)
    dtype = np.int16 if a.shape[1] <= np.iinfo(np.int16).max + 1 else np.int32
    return a.argmax(axis=1).astype(dtype)


def top_k(probs, k: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """The k most probable classes of the mean prediction: (indices [N, k] int64, probs [N, k]
    float32), most probable first. Takes [N, C] or [N, C, T] (averaged over T); k is cut to C."""
    a = np.asarray(probs)
    if a.ndim == 3:
        a = a.mean(axis=2)
    if a.ndim != 2:
        raise ValueError(f"top_k takes [N, C] or [N, C, T], got {a.shape}")
    k = max(0, min(int(k), a.shape[1]))
    if k == 0:
        return np.empty((a.shape[0], 0), np.int64), np.empty((a.shape[0], 0), np.float32)
    idx = np.argpartition(-a, k - 1, axis=1)[:, :k] if k < a.shape[1] else np.tile(np.arange(a.shape[1]), (a.shape[0], 1))
    vals = np.take_along_axis(a, idx, axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")
    idx = np.take_along_axis(idx, order, axis=1).astype(np.int64)
    return idx, np.take_along_axis(vals, order, axis=1).astype(np.float32)


__all__ = [
    "ACQUISITIONS",
    "entropy",
    "least_confidence",
    "margin",
    "bald",
    "variation_ratio",
    "vote_entropy",
    "mean_kl",
    "register_acquisition",
    "get_acquisition",
    "acquisition_names",
    "sort_methods",
    "score_all",
    "votes",
    "top_k",
]
