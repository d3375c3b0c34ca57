"""Label errors on a real project: cross-validated probabilities (real training per fold) and
confident learning find answers planted wrong."""
from __future__ import annotations

import pytest

from vqa_studio.core.train.crossval import cross_validated_probs, label_errors
from tests.core.active.conftest import trained, trained_folder  # noqa: F401 - fixtures
from vqa_studio.core.errors import VQAStudioError


def test_label_errors_of_a_real_project(trained, tmp_path):  # noqa: F811
    demo = trained
    cv = demo.run(cross_validated_probs(demo, folds=2, epochs=2))
    assert cv.probs.shape == (len(cv.question_ids), len(cv.answers))
    assert abs(cv.probs.sum(axis=1) - 1).max() < 1e-3
    assert len(set(cv.question_ids.tolist())) == len(cv.question_ids)
    report = demo.run(label_errors(demo, folds=2, epochs=2))
    assert report.n_checked == len(cv.question_ids)
    assert all(r.answer != r.suggested for r in report.rows)
    assert [r.margin for r in report.rows] == sorted(r.margin for r in report.rows)
    assert "label errors" in report.summary()
    report.write_csv(tmp_path / "errors.csv")
    assert (tmp_path / "errors.csv").read_text().splitlines()[0].startswith("question_id,question,answer")


def test_too_few_folds_is_a_message(trained):  # noqa: F811
    with pytest.raises(VQAStudioError, match="folds"):
        trained.run(cross_validated_probs(trained, folds=1))
