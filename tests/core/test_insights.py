"""Data for the insight views: histograms, learning curve, reliability, changed answers, kNN, vocabulary."""
from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import insert

from tests.conftest import write_png
from vqa_studio.core import insights
from vqa_studio.core.store import db, schema
from vqa_studio.core.types import Action


@pytest.fixture
def two_versions(project, tmp_path):
    item = project.add_item(write_png(tmp_path / "a.png"))
    ids = [project.add_question(item, f"What is {k}?", answers=["cat"] if k < 3 else ()) for k in range(6)]
    now = db.utcnow()
    rel = {"bin_edges": [0, 0.5, 1.0], "accuracy": [0.2, None], "confidence": [0.3, None], "count": [4, 0]}
    with project.engine.begin() as conn:
        conn.execute(insert(schema.models).values(
            version="v1", path="models/v1.pt", created_at=now - timedelta(hours=1),
            metrics={"val_accuracy": 0.5, "test_accuracy": 0.4}, snapshot={"n_labels": 10}))
        conn.execute(insert(schema.models).values(
            version="v2", parent="v1", path="models/v2.pt", created_at=now,
            metrics={"val_accuracy": 0.7, "test_accuracy": float("nan"), "test_by_answer_type": {"yes/no": 0.9, "other": 0.5},
                     "by_kind": {"image": {"reliability_before": rel, "reliability_after": rel}}},
            snapshot={"n_labels": 20}))
        for v, answers in (("v1", ["cat", "dog", "cat", "dog", "cat", "dog"]), ("v2", ["cat", "cat", "cat", "dog", "dog", "dog"])):
            for k, (qid, a) in enumerate(zip(ids, answers)):
                conn.execute(insert(schema.predictions).values(question_id=qid, model_version=v, answers=[a, "x"],
                                                               probs=[0.5 + k / 20, 0.1], scores={}, in_vocab=True,
                                                               created_at=now))
                conn.execute(insert(schema.prediction_scores).values(model_version=v, method="entropy",
                                                                     question_id=qid, value=float(k)))
    project.set_setting("active_model", "v2")
    return ids


def test_histogram_and_methods(project, two_versions):
    h = insights.score_histogram(project, method="entropy", bins=5)
    assert h.version == "v2" and h.n == 6 and h.counts.sum() == 6 and len(h.edges) == 6
    assert insights.scored_methods(project) == ["entropy"]
    assert insights.score_histogram(project, method="bald").n == 0


def test_versions_metrics(project, two_versions):
    curve = insights.accuracy_per_version(project.models())
    assert [(c.version, c.val_accuracy, c.test_accuracy, c.n_labels, c.active) for c in curve] == [
        ("v1", 0.5, 0.4, 10, False), ("v2", 0.7, None, 20, True)]
    split, by_type = insights.accuracy_by_answer_type(project.model("v2"))
    assert split == "test" and by_type == {"other": 0.5, "yes/no": 0.9}
    rel = insights.reliability(project.model("v2"))
    before, after = rel["image"]
    assert np.isnan(before.accuracy[1]) and before.count.tolist() == [4, 0]
    assert insights.reliability(project.model("v1")) == {}


def test_changed_answers(project, two_versions):
    assert insights.previous_version(project) == "v1"
    assert insights.previous_version(project, "v1") is None
    changes = insights.changed_answers(project, "v1", "v2")
    assert sorted(c.question_id for c in changes) == [two_versions[1], two_versions[4]]
    c = next(c for c in changes if c.question_id == two_versions[1])
    assert (c.old_answer, c.new_answer) == ("dog", "cat") and changes[0].new_confidence >= changes[1].new_confidence


def test_similar_items_from_a_fused_file(project, two_versions):
    ids = two_versions
    rng = np.random.default_rng(0)
    base = rng.normal(size=(6, 16))
    base[1] = base[0] * 2 + 0.01  # same direction as question 0
    base[2] = -base[0]
    (project.folder / "cache").mkdir(exist_ok=True)
    np.savez(insights.fused_path(project, "v2"), question_ids=np.asarray(ids, np.int64), fused=base.astype(np.float16))
    index = insights.load_fused_index(project)
    assert index is not None and index.version == "v2"
    # candidates are the labelled questions (0, 1, 2); the query itself is left out
    found = insights.similar_items(project, ids[0], index, k=5)
    assert [f.question_id for f in found] == [ids[1], ids[2]]
    assert found[0].similarity == pytest.approx(1.0, abs=1e-3) and found[0].answer == "cat"
    project.record(ids[4], Action.CORRECT, "dog")
    index.set_candidates([ids[4]])
    assert ids[4] in [f.question_id for f in insights.similar_items(project, ids[3], index, k=5)]
    assert index.neighbours(999999) == []
    assert insights.load_fused_index(project, "v1") is None


def test_answer_vocabulary_reads_a_checkpoint_without_torch(project, two_versions):
    torch = pytest.importorskip("torch")
    torch.save({"format": "vqa-studio-model", "answers": ["zebra", "cat"],
                "nets": {"image": {"members": [{"w": torch.zeros(3)}]}}}, project.folder / "models" / "v2.pt")
    assert insights.model_answers(project) == ["zebra", "cat"]
    vocab = insights.answer_vocabulary(project)
    assert vocab[:2] == ["zebra", "cat"] and vocab.count("cat") == 1
    assert insights.model_answers(project, "v1") == []  # no file: no classes, no error
