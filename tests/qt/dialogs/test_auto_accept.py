"""Review ▸ Auto-accept… by a precision guarantee, the audit queue it feeds, and the acquisition
policy dialog, on real projects through the main window."""
from __future__ import annotations

import pytest
from sqlalchemy import insert

from tests.conftest import write_png
from tests.qt.conftest import open_and_wait
from vqa_studio.core.active.audit import audit_report, audits
from vqa_studio.core.active.selection import AcquisitionPolicy
from vqa_studio.core.project import Project
from vqa_studio.core.types import Status


def build_guarantee_project(folder):
    """val: 60 right answers at confidence 0.90-0.99 and 10 wrong at 0.50-0.59; 100 unlabelled questions."""
    from vqa_studio.core.store import db, schema

    project = Project.create(folder, name="auto-accept test")
    img = folder.parent / "img"
    train_item = project.add_item(write_png(img / "t.png", (200, 30, 30), size=48), split="train")
    val_item = project.add_item(write_png(img / "v.png", (30, 200, 30), size=48), split="val")
    rows = [(project.add_question(val_item, f"Right {k}?", answers=["cat"]), "cat", 0.90 + k * 0.0015)
            for k in range(60)]
    rows += [(project.add_question(val_item, f"Wrong {k}?", answers=["dog"]), "cat", 0.50 + k * 0.009)
             for k in range(10)]
    rows += [(project.add_question(train_item, f"Pool {k}?"), "cat", 0.4 + 0.006 * k) for k in range(100)]
    now = db.utcnow()
    with project.engine.begin() as conn:
        conn.execute(insert(schema.models).values(version="m1", path="models/m1.pt", created_at=now, metrics={},
                                                  config={"mode": "full"}, snapshot={"n_labels": 70}))
        for qid, top, conf in rows:
            conn.execute(insert(schema.predictions).values(
                question_id=qid, model_version="m1", answers=[top, "bird"], probs=[conf, 1 - conf],
                scores={"entropy": 1 - conf}, in_vocab=True, created_at=now))
            conn.execute(insert(schema.prediction_scores).values(model_version="m1", method="entropy",
                                                                 question_id=qid, value=1 - conf))
    project.set_setting("active_model", "m1")
    project.close()
    return folder


@pytest.fixture
def guarantee_project(tmp_path):
    return build_guarantee_project(tmp_path / "proj")


def test_auto_accept_by_the_bound_then_audit(qtbot, window, guarantee_project):
    win = window
    open_and_wait(qtbot, win, guarantee_project)
    win.act_auto.trigger()                                    # Review > Auto-accept...
    dlg = win.auto_accept_widget
    qtbot.waitUntil(lambda: dlg.data is not None, timeout=10000)
    dlg.set_target(0.99)  # 60 right answers cannot show 99% at 95% confidence
    assert not dlg.result.found and not dlg.apply_button.isEnabled() and "lower the target" in dlg.bound.text()
    dlg.set_target(0.9)
    th = dlg.result
    assert th.found and th.lower_bound >= 0.9 and th.threshold >= th.point_threshold
    assert "lower bound" in dlg.bound.text() and "point estimate" in dlg.point.text()
    n = int((dlg.data.pool_conf >= th.threshold).sum())
    assert f"Would auto-accept {n:,} of 100" in dlg.count.text() and "coverage" in dlg.count.text()
    dlg.audit.setValue(25.0)
    with qtbot.waitSignal(dlg.applied, timeout=30000) as sig:
        dlg.apply_button.click()
    result = sig.args[0]
    assert len(result.accepted) == n and len(result.audited) >= 1
    dlg.close()
    with Project.open(guarantee_project) as proj:
        assert proj.stats().by_status.get(Status.AUTO_ACCEPTED.value) == n
        pending = audits(proj)
    assert len(pending) == len(result.audited)
    win.act_audits.trigger()                                  # Review > Audit queue...
    aud = win.audit_dialog_widget
    qtbot.waitUntil(lambda: aud.table.rowCount() == len(pending), timeout=10000)
    assert "pending" in aud.report.text()
    aud.table.selectRow(0)
    with qtbot.waitSignal(aud.decided, timeout=10000) as got:
        aud.confirm_button.click()
    assert got.args[1] == "confirmed"
    qtbot.waitUntil(lambda: aud.table.rowCount() == len(pending) - 1, timeout=10000)
    if len(pending) > 1:
        aud.table.selectRow(0)
        aud.answer.setText("dog")
        with qtbot.waitSignal(aud.decided, timeout=10000) as got:
            aud.correct_button.click()
        assert got.args[1] == "corrected"
        qtbot.waitUntil(lambda: "1 mistakes found" in aud.report.text(), timeout=10000)
    with Project.open(guarantee_project) as proj:
        rep = audit_report(proj)
    assert rep.n_audited == min(2, len(pending))
    aud.close()


def test_acquisition_policy_dialog_saves_and_the_queue_uses_it(qtbot, window, guarantee_project):
    win = window
    open_and_wait(qtbot, win, guarantee_project)
    win.act_policy.trigger()                                  # Review > Acquisition policy...
    dlg = win.policy_dialog_widget
    dlg.outliers.setCurrentIndex(dlg.outliers.findData("down-weight"))
    dlg.selection.setCurrentIndex(dlg.selection.findData("power"))
    dlg.batch.setValue(5)
    dlg.balance.setChecked(True)
    with qtbot.waitSignal(dlg.saved, timeout=5000):
        dlg.save()
    with Project.open(guarantee_project) as proj:
        assert AcquisitionPolicy.load(proj) == AcquisitionPolicy(outliers="down-weight", selection="power", batch=5,
                                                                 balance_types=True)
    qtbot.waitUntil(lambda: not win.model.loading and win.model.rowCount() == 100, timeout=10000)
