"""Confident learning finds planted label errors in a constructed set."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from vqa_studio.core.active.label_errors import find_label_errors


def _cross_validated_probs(x, y, n_classes, folds=4, seed=0):
    """Out-of-sample probabilities from a real torch classifier trained on the other folds."""
    torch.manual_seed(seed)
    n = len(y)
    fold = np.arange(n) % folds
    out = np.zeros((n, n_classes))
    for f in range(folds):
        tr, te = fold != f, fold == f
        net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], 32), torch.nn.ReLU(), torch.nn.Linear(32, n_classes))
        opt = torch.optim.Adam(net.parameters(), lr=0.02)
        xt, yt = torch.tensor(x[tr], dtype=torch.float32), torch.tensor(y[tr])
        for _ in range(150):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(xt), yt).backward()
            opt.step()
        with torch.no_grad():
            out[te] = torch.softmax(net(torch.tensor(x[te], dtype=torch.float32)), -1).numpy()
    return out


def test_finds_planted_label_errors():
    rng = np.random.default_rng(0)
    n, c = 1200, 4
    centres = rng.normal(size=(c, 6)) * 3
    true = rng.integers(0, c, n)
    x = centres[true] + rng.normal(size=(n, 6))
    given = true.copy()
    planted = rng.choice(n, 60, replace=False)  # 5% mislabelled
    given[planted] = (true[planted] + rng.integers(1, c, 60)) % c
    probs = _cross_validated_probs(x, given, c)
    res = find_label_errors(probs, given)
    found = set(res.indices.tolist())
    hits = len(found & set(planted.tolist()))
    assert hits / 60 >= 0.8, f"recall {hits}/60"
    assert hits / max(1, len(found)) >= 0.7, f"precision {hits}/{len(found)}"
    assert res.expected_count == pytest.approx(60, rel=0.5)
    # most suspicious first: the margins rise
    assert np.all(np.diff(res.margin) >= 0)
    assert (res.suggested[: len(found)] != given[res.indices]).all()
    assert res.per_class_threshold.shape == (c,)


def test_clean_labels_flag_little_and_bad_input_is_a_message():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 300)
    probs = np.full((300, 3), 0.05)
    probs[np.arange(300), y] = 0.9
    res = find_label_errors(probs, y)
    assert len(res) == 0 and res.expected_count == 0
    with pytest.raises(ValueError, match="labels"):
        find_label_errors(probs, np.full(300, 5))
