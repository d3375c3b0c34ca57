"""The acquisition policy on a trained real project: outliers down-weighted or excluded, diverse
batches, the setting stored with the project; the out-of-vocabulary report."""
from __future__ import annotations

import numpy as np
import pytest

from vqa_studio.core.active.outliers import load_outliers, oov_report, outlier_scores
from vqa_studio.core.active.selection import AcquisitionPolicy, adjusted_scores, next_batch, order_queue
from vqa_studio.core.types import QueueFilter, Status


def test_adjusted_scores():
    pol = AcquisitionPolicy(outliers="down-weight")
    got = adjusted_scores([1.0, 1.0, 0.5], [0.0, 0.9, 0.0], pol)
    assert got[0] > got[2] > got[1]
    ex = adjusted_scores([1.0, 1.0], [0.0, 0.6], AcquisitionPolicy(outliers="exclude", outlier_threshold=0.5))
    assert ex[0] == 1.0 and ex[1] == -np.inf
    with pytest.raises(ValueError, match="outliers"):
        AcquisitionPolicy(outliers="drop")
    with pytest.raises(ValueError, match="selection"):
        AcquisitionPolicy(selection="best")


def test_policy_orders_the_queue(trained):
    ids = trained.queue_ids(filters=QueueFilter(statuses=[Status.PROPOSED]))
    assert order_queue(trained, ids, AcquisitionPolicy()) == ids
    scores = outlier_scores(trained)
    cut = float(np.median([scores[q] for q in ids]))
    ex = order_queue(trained, ids, AcquisitionPolicy(outliers="exclude", outlier_threshold=cut))
    assert set(ex) == {q for q in ids if scores[q] < cut} and len(ex) < len(ids)
    pol = AcquisitionPolicy(selection="cluster", batch=10, seed=1)
    got = order_queue(trained, ids, pol)
    assert sorted(got) == sorted(ids) and got[:10] != ids[:10]
    assert order_queue(trained, ids, pol) == got  # seeded: the same order on every reload
    pol.save(trained)
    assert AcquisitionPolicy.load(trained) == pol
    batch = next_batch(trained)
    assert len(batch) == 10 and batch == got[:10]
    trained.set_setting("acquisition_policy", "{not json")
    assert AcquisitionPolicy.load(trained) == AcquisitionPolicy()


def test_outlier_and_oov_reports(trained):
    rows = load_outliers(trained, threshold=None)
    assert rows and {r.source for r in rows} == {"trained", "neighbours"}
    rep = oov_report(trained)
    assert rep.n_fitted > 0 and 0 < rep.threshold <= 1 and rep.n_scored == trained.stats().n_questions
    assert all(s > rep.threshold for _, s, _, _ in rep.flagged)
    assert [s for _, s, _, _ in rep.flagged] == sorted((s for _, s, _, _ in rep.flagged), reverse=True)
