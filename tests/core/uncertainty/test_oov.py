"""Answers outside the vocabulary raise the flag; answerable questions mostly do not."""
from __future__ import annotations

import numpy as np
import torch

from vqa_studio.core.uncertainty.oov import fit_oov_threshold, oov_flags, oov_scores, type_answer_sets


def test_planted_out_of_vocabulary_answers_raise_the_flag():
    """A real classifier learns five colours; a sixth ("purple"), never in its labels, lies between
    them: questions whose right answer is purple are flagged, held-out answerable ones rarely are."""
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    centres = rng.normal(size=(5, 8)) * 3
    purple = centres.mean(axis=0)
    y = rng.integers(0, 5, 1500)
    x = centres[y] + rng.normal(size=(1500, 8))
    net = torch.nn.Sequential(torch.nn.Linear(8, 64), torch.nn.ReLU(), torch.nn.Dropout(0.2), torch.nn.Linear(64, 5))
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    xt, yt = torch.tensor(x[:1000], dtype=torch.float32), torch.tensor(y[:1000])
    for _ in range(200):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(xt), yt).backward()
        opt.step()
    net.train()  # MC-dropout samples: [N, C, T]
    oov_x = purple + rng.normal(size=(200, 8))

    def probs(a):
        with torch.no_grad():
            t = torch.tensor(a, dtype=torch.float32)
            return np.stack([torch.softmax(net(t), -1).numpy() for _ in range(10)], axis=2)

    types = ["what colour"] * 5
    answers = type_answer_sets(types, range(5))
    held = oov_scores(probs(x[1000:1250]), ["what colour"] * 250, answers)
    threshold = fit_oov_threshold(held, 0.05)
    test_in = oov_flags(oov_scores(probs(x[1250:]), ["what colour"] * 250, answers), threshold)
    test_out = oov_flags(oov_scores(probs(oov_x), ["what colour"] * 200, answers), threshold)
    assert test_out.mean() >= 0.7, test_out.mean()
    assert test_in.mean() <= 0.12, test_in.mean()


def test_mass_outside_the_types_answers_counts():
    # classes: 0 red, 1 blue, 2 "2", 3 "3"; "how many" questions were answered 2 or 3 in training
    sets = type_answer_sets(["what colour", "what colour", "how many", "how many"], [0, 1, 2, 3])
    probs = np.array([[0.02, 0.02, 0.94, 0.02],  # confident count: low
                      [0.45, 0.45, 0.05, 0.05]])  # a count question answered with colours: high
    s = oov_scores(probs, ["how many", "how many"], sets)
    assert s[0] < 0.3 and s[1] > 0.85
    plain = oov_scores(probs)  # without types: normalised entropy
    assert 0 <= plain.min() and plain.max() <= 1
    assert fit_oov_threshold([]) == 1.0
