"""Question-type re-voting of ensemble members."""
from __future__ import annotations

import numpy as np
import pytest

from vqa_studio.core.uncertainty.revote import RevoteWeights, fit_revote_weights, revote

C = 4


def onehot(cls):
    p = np.full(C, 0.02)
    p[cls] = 1 - 0.02 * (C - 1)
    return p


def members_val():
    """Member 0 always right on 'what color', always wrong on 'how many'; member 1 the reverse."""
    labels = np.array([0, 1, 2, 3, 1, 2, -1])
    qtypes = ["what color", "what color", "how many", "how many", "what color", "how many", "how many"]
    probs = np.zeros((7, C, 2))
    for i, (y, t) in enumerate(zip(labels, qtypes)):
        y = max(y, 0)
        wrong = (y + 1) % C
        probs[i, :, 0] = onehot(y if t == "what color" else wrong)
        probs[i, :, 1] = onehot(y if t == "how many" else wrong)
    return probs, labels, qtypes


def test_weights_are_per_type_accuracies():
    probs, labels, qtypes = members_val()
    w = fit_revote_weights(probs, labels, qtypes)
    assert np.allclose(w.by_type["what color"], [1.0, 0.0])
    assert np.allclose(w.by_type["how many"], [0.0, 1.0])
    assert np.allclose(w.overall, [0.5, 0.5])  # 3 of 6 labelled each; the -1 item is ignored
    assert w.counts == {"what color": 3, "how many": 3}
    shrunk = fit_revote_weights(probs, labels, qtypes, prior_strength=3.0)
    assert np.allclose(shrunk.by_type["what color"], [(3 + 1.5) / 6, 1.5 / 6])
    rare = fit_revote_weights(probs, labels, qtypes, min_count=4)
    assert rare.by_type == {}  # too few items per type: overall accuracy everywhere


def test_revote_follows_the_member_that_knows_the_type():
    probs, labels, qtypes = members_val()
    w = fit_revote_weights(probs, labels, qtypes)
    test = np.stack([np.stack([onehot(0), onehot(1)], -1), np.stack([onehot(0), onehot(1)], -1),
                     np.stack([onehot(0), onehot(1)], -1)])
    out = revote(test, ["what color", "how many", "is there"], w)
    assert out.shape == (3, C) and np.allclose(out.sum(1), 1.0)
    assert out[0].argmax() == 0  # member 0 knows colours
    assert out[1].argmax() == 1  # member 1 counts
    assert np.allclose(out[2], (onehot(0) + onehot(1)) / 2)  # unseen type: overall 0.5 / 0.5
    hard = revote(test, ["what color", "how many", "is there"], w, hard=True)
    assert hard[0].tolist() == [1, 0, 0, 0] and hard[2].tolist() == [0.5, 0.5, 0, 0]


def test_all_zero_weights_fall_back_to_equal_votes_and_round_trip():
    w = RevoteWeights(overall=np.array([0.0, 0.0]), by_type={"x": np.array([0.0, 0.0])})
    p = np.stack([onehot(0), onehot(2)], -1)[None]
    assert np.allclose(revote(p, ["x"], w)[0], (onehot(0) + onehot(2)) / 2)
    w2 = RevoteWeights.from_dict(fit_revote_weights(*members_val()).to_dict())
    assert np.allclose(w2.by_type["how many"], [0, 1])
    with pytest.raises(ValueError, match="members"):
        revote(np.zeros((1, C, 3)), ["x"], w)
