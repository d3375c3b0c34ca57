"""Auto-accept with a guarantee: the Clopper-Pearson bound and the threshold chosen by it."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import beta, binom

from vqa_studio.core.active.guarantee import AuditReport, audit_sample, clopper_pearson_lower, precision_threshold


def test_clopper_pearson_lower_matches_its_definition():
    # the bound p_lo solves P(X >= k | n, p_lo) = delta
    for k, n in [(1, 1), (5, 10), (299, 299), (990, 1000)]:
        lo = clopper_pearson_lower(k, n, 0.05)
        assert binom.sf(k - 1, n, lo) == pytest.approx(0.05, rel=1e-6)
        assert lo < k / n or k == 0
    assert clopper_pearson_lower(0, 10, 0.05) == 0.0
    assert clopper_pearson_lower(299, 299, 0.05) >= 0.99 > clopper_pearson_lower(298, 298, 0.05)
    np.testing.assert_allclose(clopper_pearson_lower(np.array([5, 8]), np.array([10, 10]), 0.1),
                               beta.ppf(0.1, [5, 8], [6, 3]))
    with pytest.raises(ValueError):
        clopper_pearson_lower(11, 10, 0.05)


@pytest.mark.parametrize("mode", ["bonferroni", "fixed_sequence", "lowest"])
def test_bound_threshold_is_never_less_strict_than_the_point_estimate(mode):
    rng = np.random.default_rng(0)
    found = 0
    for trial in range(400):
        n = int(rng.integers(1, 3000))
        conf = rng.beta(rng.uniform(0.5, 8), rng.uniform(0.3, 2), n)
        if trial % 3 == 0:
            conf = np.round(conf, 2)  # many ties
        correct = rng.random(n) < conf ** rng.uniform(0.2, 2.0)
        target = float(rng.choice([0.9, 0.95, 0.99]))
        th = precision_threshold(conf, correct, target, 0.05, mode=mode)
        assert th.threshold >= th.point_threshold or (math.isinf(th.threshold) and math.isinf(th.point_threshold))
        if th.found:
            found += 1
            sel = conf >= th.threshold
            assert th.n_accepted == sel.sum() and th.precision == pytest.approx(correct[sel].mean())
            assert th.lower_bound >= target and th.precision >= th.lower_bound
            assert th.n_tested == (1 if mode != "bonferroni" else th.n_tested) and th.n_tested <= 20
            assert th.coverage == pytest.approx(sel.mean())
    assert found > 100  # the property was exercised on many sets that have a threshold


def test_lowest_threshold_whose_bound_reaches_the_target():
    conf = np.linspace(1.0, 0.0, 2000, endpoint=False)
    correct = np.ones(2000, bool)
    correct[1500:] = np.arange(500) % 2 == 0  # below confidence 0.25 half are wrong
    th = precision_threshold(conf, correct, 0.99, 0.05, mode="fixed_sequence")
    lowest = precision_threshold(conf, correct, 0.99, 0.05, mode="lowest")
    assert th.threshold == lowest.threshold
    assert 0.2 < th.threshold <= 0.26 and th.lower_bound >= 0.99
    # one step lower (one more question) would break the bound
    below = conf < th.threshold
    nxt = conf[below].max()
    sel = conf >= nxt
    assert clopper_pearson_lower(correct[sel].sum(), sel.sum(), 0.05) < 0.99


def test_no_threshold_when_too_few_held_out_questions():
    th = precision_threshold(np.full(100, 0.99), np.ones(100, bool), 0.99, 0.05)
    assert not th.found and th.n_accepted == 0 and th.point_threshold == pytest.approx(0.99)
    assert "nothing" in th.describe()
    with pytest.raises(ValueError, match="target"):
        precision_threshold([0.5], [True], 1.0)


def test_audit_share_and_report():
    draws = [audit_sample(1000, 0.02, rng=s).size for s in range(200)]
    assert np.mean(draws) == pytest.approx(20, abs=1.5)
    pick = audit_sample(10, 0.25, rng=1)
    assert len(set(pick.tolist())) == pick.size and (pick < 10).all()
    rep = AuditReport(n_audited=200, n_mistakes=1, n_pending=5)
    assert rep.precision == pytest.approx(0.995) and rep.lower_bound < rep.precision
    assert "1 mistakes" in rep.describe()


def test_bonferroni_tests_a_grid_jointly():
    conf = np.linspace(1.0, 0.0, 2000, endpoint=False)
    correct = np.ones(2000, bool)
    correct[1500:] = np.arange(500) % 2 == 0
    th = precision_threshold(conf, correct, 0.99, 0.05)  # the default
    assert th.n_tested == 20 and th.found
    # a grid point (a multiple of 100 accepted), its bound at level 0.05 / 20 reaching the target
    assert th.n_accepted % 100 == 0 and th.n_accepted <= 1500
    assert clopper_pearson_lower(th.n_accepted, th.n_accepted, 0.05 / 20) == pytest.approx(th.lower_bound)
    assert th.threshold >= precision_threshold(conf, correct, 0.99, 0.05, mode="lowest").threshold
    assert "jointly over 20 thresholds" in th.describe()


def test_bonferroni_keeps_the_target_on_fresh_data_more_often_than_the_lowest_threshold():
    """A model whose precision falls with its confidence: thresholds chosen on one sample, checked on a
    large fresh sample (the truth)."""
    rng = np.random.default_rng(7)
    misses = {"bonferroni": 0, "lowest": 0}
    for _ in range(60):
        conf = rng.uniform(0.5, 1.0, 3000)
        right = rng.random(3000) < 1 - 0.06 * (1 - conf) / 0.5 ** 1
        for mode in misses:
            th = precision_threshold(conf, right, 0.99, 0.05, mode=mode)
            if th.found:
                true_precision = 1 - 0.06 * (1 - (th.threshold + 1) / 2) / 0.5  # mean over [t, 1]
                misses[mode] += true_precision < 0.99
    assert misses["bonferroni"] <= 3 and misses["bonferroni"] <= misses["lowest"]
