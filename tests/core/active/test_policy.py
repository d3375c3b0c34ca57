"""Auto-accept: preview (count, expected error from the validation split) and apply."""
from __future__ import annotations

import pytest
from sqlalchemy import insert

from tests.conftest import write_png
from vqa_studio.core import commands
from vqa_studio.core.active.policy import apply_auto_accept, load_auto_accept_data, preview_auto_accept
from vqa_studio.core.errors import ConflictError
from vqa_studio.core.store import db, schema
from vqa_studio.core.types import Action, Status


@pytest.fixture
def pool(project, tmp_path):
    """Train pool: 5 unlabelled questions with confidences .95 .9 .8 .6 .4; val: 4 labelled ones."""
    train_item = project.add_item(write_png(tmp_path / "t.png"), split="train")
    val_item = project.add_item(write_png(tmp_path / "v.png", (10, 200, 10)), split="val")
    now = db.utcnow()
    rows = []
    train = [project.add_question(train_item, f"What is thing {k}?") for k in range(5)]
    for qid, conf in zip(train, [0.95, 0.9, 0.8, 0.6, 0.4]):
        rows.append((qid, ["cat", "dog"], [conf, 1 - conf]))
    # val: confident and right, confident and wrong, unsure and right, unsure and wrong
    val = []
    for k, (label, conf, top) in enumerate([("cat", 0.97, "cat"), ("dog", 0.92, "cat"), ("cat", 0.5, "cat"),
                                             ("dog", 0.3, "cat")]):
        qid = project.add_question(val_item, f"What animal {k}?", answers=[label])
        val.append(qid)
        rows.append((qid, [top, "bird"], [conf, 1 - conf]))
    unlabelled_val = project.add_question(val_item, "An unlabelled validation question?")
    rows.append((unlabelled_val, ["cat"], [0.99]))
    with project.engine.begin() as conn:
        conn.execute(insert(schema.models).values(version="m1", path="models/m1.pt", created_at=now))
        for qid, answers, probs in rows:
            conn.execute(insert(schema.predictions).values(question_id=qid, model_version="m1", answers=answers,
                                                           probs=probs, scores={}, in_vocab=True, created_at=now))
    project.set_setting("active_model", "m1")
    return train, val, unlabelled_val


def test_preview_counts_and_expected_error(project, pool):
    train, val, _ = pool
    data = load_auto_accept_data(project)
    assert data.pool_ids.tolist() == train  # highest confidence first; eval splits left out
    p = data.preview(0.85)
    assert (p.n_accept, p.n_pool, p.n_val, p.n_val_total) == (2, 5, 2, 4)
    assert p.expected_error == pytest.approx(0.5)  # one of the two confident val answers is wrong
    p = data.preview(0.95)
    assert p.n_accept == 1 and p.n_val == 1 and p.expected_error == pytest.approx(0.0)
    p = data.preview(0.999)
    assert p.n_accept == 0 and p.expected_error is None and "no labelled validation" in p.describe()
    assert preview_auto_accept(project, 0.0).n_accept == 5
    assert "expected error rate 50.0%" in data.preview(0.85).describe()


def test_apply_records_auto_accept_and_stays_reviewable(project, pool):
    train, _, _ = pool
    data = load_auto_accept_data(project)
    project.record(train[1], Action.SKIP)  # reviewed after the preview: left alone
    result = project.run(apply_auto_accept(project, 0.85, data=data))
    assert result.accepted == [train[0]] and result.conflicts == 1
    q = project.question(train[0])
    assert q.status is Status.AUTO_ACCEPTED and q.answer == "cat"
    assert project.history(train[0])[-1].annotator == "auto"
    # still reviewable: a person corrects it, and undoes that
    cmd = commands.correct(train[0], "dog")
    cmd.do(project)
    cmd.undo(project)
    assert project.question(train[0]).status is Status.AUTO_ACCEPTED
    assert project.verify_history() == []


def test_apply_refuses_a_stale_model(project, pool):
    data = load_auto_accept_data(project)
    project.set_setting("active_model", "m2")
    with pytest.raises(ConflictError):
        project.run(apply_auto_accept(project, 0.5, data=data))


def test_no_model(project):
    assert preview_auto_accept(project, 0.5).n_pool == 0
