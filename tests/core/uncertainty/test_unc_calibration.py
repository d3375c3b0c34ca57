"""Temperature scaling, ECE and the reliability diagram on synthetic data."""
from __future__ import annotations

import numpy as np
import pytest

from vqa_studio.core.uncertainty import calibration as K


def synthetic(n=20000, c=10, true_t=1.0, scale=3.0, seed=0):
    """Logits z; labels drawn from softmax(z / true_t): the model is calibrated at T = true_t."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, c)) * scale
    p = K.apply_temperature(z, true_t).astype(np.float64)
    u = rng.random(n)[:, None]
    labels = (p.cumsum(axis=1) < u).sum(axis=1).clip(0, c - 1)
    return z, labels


def test_ece_of_calibrated_data_is_about_zero():
    z, y = synthetic()
    assert K.expected_calibration_error(K.apply_temperature(z, 1.0), y) < 0.015


def test_temperature_fixes_overconfidence():
    z, y = synthetic(true_t=2.5)  # the logits are 2.5x too sharp
    before = K.expected_calibration_error(K.apply_temperature(z, 1.0), y)
    t = K.fit_temperature(z, y)
    after = K.expected_calibration_error(K.apply_temperature(z, t), y)
    assert t == pytest.approx(2.5, rel=0.05)
    assert before > 0.05 and after < 0.015 and after < before / 4


def test_fit_temperature_ignores_unknown_answers_and_takes_torch():
    torch = pytest.importorskip("torch")
    z, y = synthetic(n=5000, true_t=0.5, seed=1)
    y_bad = y.copy()
    y_bad[::3] = -1
    t = K.fit_temperature(torch.from_numpy(z).float(), torch.from_numpy(y_bad))
    assert t == pytest.approx(K.fit_temperature(z[y_bad >= 0], y[y_bad >= 0]), rel=1e-4)
    assert t == pytest.approx(0.5, rel=0.1)
    assert K.fit_temperature(z, np.full(len(y), -1)) == 1.0


def test_fit_temperature_stays_in_bounds():
    z = np.array([[5.0, 0.0], [5.0, 0.0]])
    assert K.fit_temperature(z, np.array([1, 0])) == pytest.approx(20.0)  # 50/50: flatten all the way
    assert K.fit_temperature(z, np.array([0, 0]), t_min=0.1) == pytest.approx(0.1)  # always right: sharpen
    with pytest.raises(ValueError, match="NaN"):
        K.fit_temperature(np.array([[np.nan, 0.0]]), np.array([0]))


def test_reliability_diagram():
    probs = np.array([[0.95, 0.05], [0.9, 0.1], [0.6, 0.4], [0.55, 0.45]])
    labels = np.array([0, 1, 0, -1])
    d = K.reliability_diagram(probs, labels, n_bins=10)
    assert d["bin_edges"].shape == (11,)
    assert d["count"].sum() == 3  # -1 ignored
    assert d["count"][8] == 1 and d["count"][9] == 1 and d["count"][5] == 1  # 0.9 is in (0.8, 0.9]
    assert d["accuracy"][9] == 1.0 and d["accuracy"][8] == 0.0
    assert np.isnan(d["accuracy"][0]) and d["count"][0] == 0
    expected = (abs(1 - 0.95) + abs(0 - 0.9) + abs(1 - 0.6)) / 3
    assert d["ece"] == pytest.approx(expected)
    assert K.expected_calibration_error(np.repeat(probs[:, :, None], 4, axis=2), labels, 10) == pytest.approx(expected)
