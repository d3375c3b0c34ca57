"""The AUROC of uncertainty for the model's own errors, against a brute-force pair count."""
from __future__ import annotations

import numpy as np
import pytest

from vqa_studio.core.uncertainty.error_detection import auroc, error_detection


def _pairs(scores, positive):
    pos, neg = scores[positive], scores[~positive]
    diff = pos[:, None] - neg[None, :]
    return float(((diff > 0) + 0.5 * (diff == 0)).mean())


@pytest.mark.parametrize("seed", range(5))
def test_auroc_equals_the_pair_count_with_ties(seed):
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 6, 300).astype(float)  # many ties
    positive = rng.random(300) < 0.3 + 0.08 * scores
    assert auroc(scores, positive) == pytest.approx(_pairs(scores, positive), abs=1e-12)


def test_perfect_chance_and_undefined():
    assert auroc(np.array([0.1, 0.2, 0.8, 0.9]), np.array([0, 0, 1, 1], bool)) == 1.0
    assert auroc(np.array([0.9, 0.8, 0.2, 0.1]), np.array([0, 0, 1, 1], bool)) == 0.0
    assert auroc(np.ones(4), np.array([0, 1, 0, 1], bool)) == 0.5
    assert np.isnan(auroc(np.arange(3.0), np.zeros(3, bool)))


def test_tenths_and_lines():
    unc = np.arange(100, dtype=float)  # question i has uncertainty i
    correct = np.ones(100)
    correct[[0, 95, 96, 97]] = 0.0  # one error among the 10 most confident, three among the least
    correct[50] = 0.3  # a soft accuracy under 0.5 is an error
    det = error_detection(unc, correct, "entropy")
    assert det.n == 100 and det.n_errors == 5
    assert det.error_most_confident_tenth == pytest.approx(0.1)
    assert det.error_least_confident_tenth == pytest.approx(0.3)
    assert det.lines()[0].startswith("error detection: AUROC 0.") and det.lines()[0].endswith("(entropy)")
    with pytest.raises(ValueError):
        error_detection(np.zeros(3), np.zeros(4))
