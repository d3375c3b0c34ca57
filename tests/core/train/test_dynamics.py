"""Training records each training question's p(true answer) per epoch; the run stores the
cartography and transferred outlier scores with the model version."""
import numpy as np
import pytest
import torch

from vqa_studio.core.active.outliers import DEFAULT_THRESHOLD, load_outliers, outlier_scores
from vqa_studio.core.train.config import TrainingArgs
from vqa_studio.core.train.dynamics import TrainingDynamics
from vqa_studio.core.train.pipeline import run_training
from vqa_studio.core.types import Status


def test_recorder_keeps_p_true_answer_per_row_and_epoch():
    rec = TrainingDynamics([30, 10, 20])
    logits = torch.log(torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]))
    soft = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])  # the second has no usable label
    rec.observe(1, logits, {"soft_labels": soft, "question_ids": torch.tensor([20, 30])})
    multi = torch.tensor([[0.0, 1.0, 0.6667]])  # several human answers: the expected VQA score
    rec.observe(2, logits[:1], {"soft_labels": multi, "question_ids": torch.tensor([10])})
    h = rec.history()
    assert h.shape == (3, 2)
    assert h[2, 0] == pytest.approx(0.7) and np.isnan(h[0, 0]) and np.isnan(h[1, 0])
    assert h[1, 1] == pytest.approx(0.2 + 0.1 * 0.6667, abs=1e-4)


def test_training_stores_cartography_and_transferred_outlier_scores(demo):
    outcome = demo.run(run_training(demo, TrainingArgs(epochs=3, batch_size=32, mc_samples=2)))
    rows = load_outliers(demo, threshold=None)
    trained = [r for r in rows if r.source == "trained"]
    others = [r for r in rows if r.source == "neighbours"]
    assert trained and others
    assert all(r.epochs >= 1 and r.category in ("easy", "ambiguous", "hard") for r in trained)
    assert all(0.0 <= r.outlier_score <= 1.0 for r in rows)
    assert len({r.question_id for r in rows}) == len(rows) == demo.stats().n_questions
    # the scores are those of the active model, highest first; the flag is the threshold
    scores = outlier_scores(demo)
    assert set(scores) == {r.question_id for r in rows}
    assert rows == sorted(rows, key=lambda r: (-r.outlier_score, r.question_id))
    assert all(r.outlier_score >= DEFAULT_THRESHOLD for r in load_outliers(demo))
    assert outcome.version == demo.active_model
    assert any(r.status == Status.PROPOSED.value for r in others)
