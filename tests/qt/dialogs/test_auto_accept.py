"""The auto-accept dialog previews and applies."""
from __future__ import annotations

from tests.qt.conftest import open_and_wait
from vqa_studio.core.project import Project
from vqa_studio.core.types import Status


def test_auto_accept_dialog_previews_and_applies(qtbot, window, review_project):
    win = window
    open_and_wait(qtbot, win, review_project)
    win.act_auto.trigger()                                    # Review > Auto-accept...
    dlg = win.auto_accept_widget
    qtbot.waitUntil(lambda: dlg.data is not None, timeout=10000)
    dlg.set_threshold(0.5)
    p = dlg.preview
    assert p.n_pool > 0 and "Would auto-accept" in dlg.count.text()
    assert p.n_val_total > 0 and ("Expected error rate" in dlg.error.text() or p.expected_error is None)
    n = p.n_accept
    with qtbot.waitSignal(dlg.applied, timeout=30000) as sig:
        dlg.apply_button.click()
    assert len(sig.args[0].accepted) == n
    with Project.open(review_project) as proj:
        assert proj.stats().by_status.get(Status.AUTO_ACCEPTED.value) == n
    # still reviewable: the "Auto-accepted" filter lists them
    dlg.close()
    win.queue_dock_widget.set_status_filter("Auto-accepted")
    qtbot.waitUntil(lambda: not win.model.loading and win.model.rowCount() == n, timeout=10000)
