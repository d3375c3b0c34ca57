"""Auto-accept by the Clopper-Pearson threshold on a real project, with audits that feed back."""
from __future__ import annotations

import pytest
from sqlalchemy import insert

from tests.conftest import write_png
from vqa_studio.core.active.audit import audit_report, audits, decide
from vqa_studio.core.active.policy import apply_auto_accept, load_auto_accept_data
from vqa_studio.core.errors import ConflictError
from vqa_studio.core.store import db, schema
from vqa_studio.core.types import Status


@pytest.fixture
def held_out(project, tmp_path):
    """val: 60 right answers at confidence 0.90-0.99, 10 wrong at 0.50-0.59; pool: 100 unlabelled."""
    train_item = project.add_item(write_png(tmp_path / "t.png"), split="train")
    val_item = project.add_item(write_png(tmp_path / "v.png", (10, 200, 10)), split="val")
    rows = []
    for k in range(60):
        rows.append((project.add_question(val_item, f"right {k}?", answers=["cat"]), "cat", 0.90 + k * 0.0015))
    for k in range(10):
        rows.append((project.add_question(val_item, f"wrong {k}?", answers=["dog"]), "cat", 0.50 + k * 0.009))
    pool = []
    for k in range(100):
        qid = project.add_question(train_item, f"pool {k}?")
        pool.append(qid)
        rows.append((qid, "cat", 0.4 + 0.006 * k))
    now = db.utcnow()
    with project.engine.begin() as conn:
        conn.execute(insert(schema.models).values(version="m1", path="models/m1.pt", created_at=now))
        for qid, top, conf in rows:
            conn.execute(insert(schema.predictions).values(question_id=qid, model_version="m1", answers=[top, "bird"],
                                                           probs=[conf, 1 - conf], scores={}, in_vocab=True,
                                                           created_at=now))
    project.set_setting("active_model", "m1")
    return pool


def test_threshold_by_the_bound_and_audits_that_feed_back(project, held_out):
    data = load_auto_accept_data(project)
    th = data.guarantee(target=0.9, delta=0.05)
    assert th.found and th.lower_bound >= 0.9 and th.precision == 1.0
    assert th.threshold >= th.point_threshold
    assert th.threshold > 0.59  # none of the wrong validation answers is above it
    coverage = data.pool_coverage(th.threshold)
    assert 0 < coverage < 1
    res = project.run(apply_auto_accept(project, th.threshold, data=data, audit_share=0.25, seed=3))
    assert len(res.accepted) == round(coverage * 100)
    pending = audits(project)
    assert len(pending) == len(res.audited) >= 1 and {a.question_id for a in pending} <= set(res.accepted)
    assert all(a.answer == "cat" and a.status is Status.AUTO_ACCEPTED for a in pending)
    assert "audit queue" in res.summary()
    first = pending[0]
    assert decide(project, first.id) == "confirmed"
    assert project.question(first.question_id).status is Status.ACCEPTED
    with pytest.raises(ConflictError):
        decide(project, first.id, "dog")
    if len(pending) > 1:
        assert decide(project, pending[1].id, "dog") == "corrected"
        assert project.question(pending[1].question_id).answer == "dog"
    rep = audit_report(project)
    assert rep.n_audited == min(2, len(pending)) and rep.n_pending == len(pending) - rep.n_audited
    # the decided audits join the held-out set of the next threshold
    again = load_auto_accept_data(project)
    assert again.n_audits == rep.n_audited and len(again.val_conf) == len(data.val_conf) + rep.n_audited
    if rep.n_mistakes:
        assert again.guarantee(0.9).threshold >= th.threshold


def test_no_threshold_when_the_target_cannot_be_shown(project, held_out):
    th = load_auto_accept_data(project).guarantee(target=0.99)  # 60 right answers cannot show 99%
    assert not th.found and "nothing" in th.describe()
