"""Acquisition functions on hand-made [N, C, T] arrays, and against baal."""
from __future__ import annotations

import math

import numpy as np
import pytest

from vqa_studio.core.uncertainty import acquisition as A

C, T = 5, 4
NAMES = ["entropy", "least_confidence", "margin", "bald", "variation_ratio", "vote_entropy", "mean_kl"]


def one_hot_agree(c=C, t=T, cls=2):
    p = np.zeros((1, c, t))
    p[0, cls, :] = 1.0
    return p


def uniform(c=C, t=T):
    return np.full((1, c, t), 1.0 / c)


def confident_disagree(c=C, t=T):
    """Each sample is one-hot, on a different class."""
    p = np.zeros((1, c, t))
    for i in range(t):
        p[0, i % c, i] = 1.0
    return p


def test_registry_lists_all_builtins():
    assert A.acquisition_names()[: len(NAMES)] == NAMES
    for n in NAMES:
        assert A.get_acquisition(n) is A.ACQUISITIONS[n]
    with pytest.raises(KeyError, match="bald"):
        A.get_acquisition("nope")


@pytest.mark.parametrize("name", NAMES)
def test_certain_scores_lower_than_uncertain(name):
    fn = A.get_acquisition(name)
    certain = fn(one_hot_agree())[0]
    assert certain == pytest.approx(0.0, abs=1e-12)
    disagree = fn(confident_disagree())[0]
    assert disagree > certain
    if name not in ("bald", "mean_kl", "variation_ratio", "vote_entropy"):
        # predictive uncertainty: uniform is maximal for these
        assert fn(uniform())[0] > certain


@pytest.mark.parametrize("name", NAMES)
def test_no_nan_and_shape(name):
    probs = np.concatenate([one_hot_agree(), uniform(), confident_disagree(), np.zeros((1, C, T)) + np.eye(C)[:, :T][None]])
    s = A.get_acquisition(name)(probs.astype(np.float32))
    assert s.shape == (4,) and s.dtype == np.float64
    assert np.all(np.isfinite(s)) and np.all(s >= 0)


def test_closed_forms():
    u = uniform()
    assert A.entropy(u)[0] == pytest.approx(math.log(C))
    assert A.least_confidence(u)[0] == pytest.approx(1 - 1 / C)
    assert A.margin(u)[0] == pytest.approx(1.0)
    assert A.margin(one_hot_agree())[0] == pytest.approx(0.0)
    d = confident_disagree()  # T=4 one-hot votes on 4 different classes
    assert A.entropy(d)[0] == pytest.approx(math.log(T))
    assert A.bald(d)[0] == pytest.approx(math.log(T))
    assert A.variation_ratio(d)[0] == pytest.approx(1 - 1 / T)
    assert A.vote_entropy(d)[0] == pytest.approx(math.log(T))
    # two classes, votes split 2/2, each sample 0.9 confident
    p = np.zeros((1, 2, 4))
    p[0, 0] = [0.9, 0.9, 0.1, 0.1]
    p[0, 1] = 1 - p[0, 0]
    h = -(0.9 * math.log(0.9) + 0.1 * math.log(0.1))
    assert A.entropy(p)[0] == pytest.approx(math.log(2))
    assert A.bald(p)[0] == pytest.approx(math.log(2) - h)
    assert A.variation_ratio(p)[0] == pytest.approx(0.5)
    assert A.vote_entropy(p)[0] == pytest.approx(math.log(2))
    assert A.margin(p)[0] == pytest.approx(1.0)
    assert A.least_confidence(p)[0] == pytest.approx(0.5)


def test_bald_separates_epistemic_from_aleatoric():
    agree_uniform = uniform()  # every sample says "no idea": aleatoric
    disagree = confident_disagree()  # each sample sure, of different things: epistemic
    assert A.bald(agree_uniform)[0] == pytest.approx(0.0, abs=1e-12)
    assert A.bald(disagree)[0] > 1.0
    # entropy cannot tell them apart as well: uniform is even higher
    assert A.entropy(agree_uniform)[0] > A.entropy(disagree)[0]


def test_mean_kl_equals_bald():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.full(7, 0.3), size=(50, 6)).transpose(0, 2, 1)
    assert np.allclose(A.mean_kl(p), A.bald(p), atol=1e-10)


def test_plain_predictions_are_one_sample():
    p = np.array([[0.7, 0.2, 0.1]])
    assert A.bald(p)[0] == pytest.approx(0.0)
    assert A.least_confidence(p)[0] == pytest.approx(0.3)
    with pytest.raises(ValueError):
        A.entropy(np.zeros(3))


def test_score_all_matches_each_function_and_takes_plugins():
    rng = np.random.default_rng(1)
    p = rng.dirichlet(np.ones(9), size=(3000, 5)).transpose(0, 2, 1).astype(np.float32)  # > one chunk
    all_scores = A.score_all(p)
    assert list(all_scores) == A.acquisition_names()
    for n in NAMES:
        assert np.allclose(all_scores[n], A.get_acquisition(n)(p), atol=1e-12), n
    A.register_acquisition("max_var_test", lambda pr: np.asarray(pr).var(axis=2).max(axis=1))
    try:
        s = A.score_all(p, ["bald", "max_var_test"])
        assert list(s) == ["bald", "max_var_test"] and s["max_var_test"].shape == (3000,)
        with pytest.raises(ValueError, match="already"):
            A.register_acquisition("max_var_test", np.mean)
    finally:
        A.ACQUISITIONS.pop("max_var_test", None)


def test_votes_and_top_k():
    p = confident_disagree().astype(np.float32)
    v = A.votes(p)
    assert v.dtype == np.int16 and v.tolist() == [[0, 1, 2, 3]]
    m = np.array([[0.1, 0.5, 0.15, 0.25], [0.4, 0.3, 0.2, 0.1]])
    idx, val = A.top_k(m, k=3)
    assert idx.tolist() == [[1, 3, 2], [0, 1, 2]]
    assert np.allclose(val, [[0.5, 0.25, 0.15], [0.4, 0.3, 0.2]])
    idx, val = A.top_k(np.repeat(m[:, :, None], 3, axis=2), k=10)  # [N, C, T] and k > C
    assert idx.shape == (2, 4) and idx[0].tolist() == [1, 3, 2, 0]


# --- against baal ----------------------------------------------------------------------------------------


def test_bald_and_entropy_match_baal():
    """baal's BALD takes [N, C, T] and computes H[mean] - mean H, as ours. baal's Entropy averages
    over the last axis first (``@singlepass``) and takes scipy's entropy of the mean prediction: the
    same as our ``entropy``. Both are compared on ``compute_score`` (raw scores, no ranking)."""
    heuristics = pytest.importorskip("baal.active.heuristics")
    rng = np.random.default_rng(2)
    for c, t in [(2, 3), (10, 20), (50, 5)]:
        p = rng.dirichlet(np.full(c, 0.5), size=(64, t)).transpose(0, 2, 1)  # [N, C, T]
        p[0] = 0.0
        p[0, 1] = 1.0  # one-hot and agreeing
        ours_bald, ours_h = A.bald(p), A.entropy(p)
        baal_bald = heuristics.BALD().compute_score(p)
        baal_h = heuristics.Entropy().compute_score(p)
        assert np.allclose(ours_bald, baal_bald, atol=1e-9)
        assert np.allclose(ours_h, baal_h, atol=1e-9)
        # the same ranking (baal: most uncertain first)
        assert np.array_equal(np.argsort(-ours_bald, kind="stable")[:10], heuristics.BALD()(p)[:10]) or \
            np.allclose(np.sort(ours_bald)[::-1][:10], baal_bald[heuristics.BALD()(p)[:10]])
