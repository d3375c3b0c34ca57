"""An acquisition function: ``probs [N, C, T] -> scores [N]``, higher = more informative."""
from __future__ import annotations

import numpy as np


def prob_variance(probs) -> np.ndarray:
    """The mean over classes of the variance of the T sampled probabilities: how much the samples
    (MC-dropout passes, ensemble members, heads) disagree, whatever the mean prediction is."""
    a = np.asarray(probs, dtype=np.float64)
    if a.ndim == 2:
        a = a[:, :, None]
    return a.var(axis=2).mean(axis=1)
