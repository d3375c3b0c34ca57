"""Dataset cartography on a constructed training history, and outlier scores that transfer."""
from __future__ import annotations

import numpy as np
import pytest

from vqa_studio.core.active.cartography import cartography, outlier_mask, transfer_outlier_scores


def _history(rng):
    epochs = 8
    t = np.linspace(0, 1, epochs)
    easy = np.clip(0.85 + 0.1 * t + rng.normal(0, 0.02, (30, epochs)), 0, 1)  # learnt at once
    hard = np.clip(0.05 + rng.normal(0, 0.02, (10, epochs)), 0, 1)  # never learnt (mislabelled)
    # the model keeps changing its mind: alternates between right and wrong
    ambiguous = np.clip(np.where(np.arange(epochs) % 2, 0.85, 0.15) + rng.normal(0, 0.03, (12, epochs)), 0, 1)
    return np.vstack([easy, hard, ambiguous])


def test_categories_of_a_constructed_history():
    cart = cartography(_history(np.random.default_rng(0)))
    assert (cart.category[:30] == "easy").all()
    assert (cart.category[30:40] == "hard").all()
    assert (cart.category[40:] == "ambiguous").all()
    assert cart.counts() == {"easy": 30, "hard": 10, "ambiguous": 12}
    assert cart.confidence[:30].min() > 0.8 and cart.variability[40:].min() > 0.3
    # the hard-to-learn rows are the likely outliers: every one of them ranks above every other row
    assert cart.outlier_score[30:40].min() > cart.outlier_score[np.r_[0:30, 40:52]].max()
    mask = outlier_mask(cart, 10 / 52)
    assert mask.sum() == 10 and mask[30:40].all()
    assert outlier_mask(cart, 0.5, by="threshold")[30:40].all()


def test_skipped_epochs_are_left_out_not_counted_as_zero():
    h = np.array([[0.9, np.nan, 0.9, np.nan], [np.nan, np.nan, np.nan, np.nan]])
    cart = cartography(h)
    assert cart.confidence[0] == pytest.approx(0.9) and cart.variability[0] == pytest.approx(0.0)
    assert cart.epochs.tolist() == [2, 0] and cart.category[1] == "hard"


def test_bad_arguments_are_messages():
    with pytest.raises(ValueError, match="history"):
        cartography(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="fraction"):
        outlier_mask(np.zeros(3), 1.5)


def test_unlabelled_questions_inherit_their_neighbours_outlier_scores():
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(2, 16)) * 5
    lab = np.vstack([centres[0] + rng.normal(size=(40, 16)), centres[1] + rng.normal(size=(40, 16))])
    scores = np.r_[np.full(40, 0.9), np.full(40, 0.05)]  # the first cluster is unlearnable
    pool = np.vstack([centres[0] + rng.normal(size=(20, 16)), centres[1] + rng.normal(size=(20, 16))])
    got = transfer_outlier_scores(lab, scores, pool, k=5)
    assert got[:20].min() > 0.8 and got[20:].max() < 0.2
    types = ["what colour"] * 40 + ["how many"] * 40
    typed = transfer_outlier_scores(lab, scores, pool, k=5, labelled_types=types,
                                    pool_types=["what colour"] * 20 + ["new type"] * 20)
    assert typed[:20].min() > 0.8  # neighbours and type agree
    assert typed[20:].mean() == pytest.approx(0.5 * 0.05 + 0.5 * scores.mean(), abs=0.01)  # unknown type: global
