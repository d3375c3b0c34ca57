"""The models dialog rolls back to an earlier version."""
from __future__ import annotations

from tests.qt.conftest import add_model, open_and_wait
from vqa_studio.core.project import Project


def test_models_dialog_rolls_back(qtbot, window, review_project):
    import numpy as np

    with Project.open(review_project) as p:
        qids = p.queue_ids(filters=None, order_by="id")
        add_model(p, "m2", qids, rng=np.random.default_rng(5), parent="m1", metrics={"val_accuracy": 0.6})
    win = window
    open_and_wait(qtbot, win, review_project)
    assert win.controller.version == "m2"
    win.act_models.trigger()
    dlg = win.models_dialog_widget
    assert dlg.table.rowCount() == 2 and dlg.table.item(0, 1).text() == "m2"
    dlg.table.selectRow(1)
    with qtbot.waitSignal(dlg.activated) as sig:
        dlg.make_active.click()
    assert sig.args[0] == "m1"
    qtbot.waitUntil(lambda: win.controller.version == "m1" and not win.model.loading, timeout=10000)
    with Project.open(review_project) as p:
        assert p.active_model == "m1"
    qtbot.waitUntil(lambda: "m1" in win.changes_dock.windowTitle() or win.changes_panel.header.text() != "", timeout=5000)
    dlg.close()
