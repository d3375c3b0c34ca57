"""Review ▸ Label errors… on a trained real project (cross-validation trains per fold in a worker),
and the queue's outlier column and filter."""
from __future__ import annotations

import csv

from tests.core.active.conftest import trained_folder  # noqa: F401 - fixture
from tests.qt.conftest import open_and_wait
from vqa_studio.core.active.outliers import load_outliers
from vqa_studio.core.project import Project
from vqa_studio.core.types import QueueFilter, Status
from vqa_studio.qt.widgets.queue_outliers import set_outlier_filter


def _copy(trained_folder, tmp_path):
    import shutil

    dst = tmp_path / "project"
    shutil.copytree(trained_folder, dst)
    return dst


def test_label_errors_dialog_runs_lists_and_exports(qtbot, window, trained_folder, tmp_path):  # noqa: F811
    folder = _copy(trained_folder, tmp_path)
    win = window
    open_and_wait(qtbot, win, folder)
    win.act_label_errors.trigger()                            # Review > Label errors...
    dlg = win.label_errors_widget
    dlg.folds.setValue(2)
    dlg.epochs.setValue(1)
    with qtbot.waitSignal(dlg.found, timeout=120000) as sig:
        dlg.run_button.click()
        assert dlg.close_button.text() == "Cancel" and not dlg.run_button.isEnabled()
    report = sig.args[0]
    assert dlg.table.rowCount() == len(report.rows)
    assert "likely label errors among" in dlg.status.text() and dlg.run_button.isEnabled()
    if report.rows:
        dlg.table.selectRow(0)
        with qtbot.waitSignal(dlg.question_chosen, timeout=5000) as chosen:
            dlg.open_button.click()
        assert chosen.args[0] == report.rows[0].question_id
        qtbot.waitUntil(lambda: win.controller.current_qid == report.rows[0].question_id, timeout=10000)
    dlg._export(str(tmp_path / "errors.csv"))
    assert list(csv.reader(open(tmp_path / "errors.csv")))[0][0] == "question_id"
    dlg.close()


def test_queue_outlier_column_and_filter(qtbot, window, trained_folder, tmp_path):  # noqa: F811
    from PySide6.QtCore import Qt

    from vqa_studio.qt.widgets.queue_model import COL_OUTLIER

    folder = _copy(trained_folder, tmp_path)
    with Project.open(folder) as p:
        rows = load_outliers(p, threshold=None)
        to_review = set(p.queue_ids(filters=QueueFilter(statuses=[Status.NEW, Status.PROPOSED])))
    win = window
    open_and_wait(qtbot, win, folder)
    model = win.model
    qtbot.waitUntil(lambda: model.outlier(model.question_id(0)) is not None, timeout=10000)
    assert model.headerData(COL_OUTLIER, Qt.Horizontal) == "Outlier"
    qtbot.waitUntil(lambda: not win.queue_dock_widget.table.isColumnHidden(COL_OUTLIER), timeout=10000)
    qid = model.question_id(0)
    text = model.data(model.index(0, COL_OUTLIER))
    score = {r.question_id: r.outlier_score for r in rows}[qid]
    assert text.endswith(f"{score:.2f}") and ("⚑" in text) == (score >= model.outlier_threshold)
    likely = {r.question_id for r in rows if r.outlier_score >= model.outlier_threshold} & to_review
    dock = win.queue_dock_widget
    set_outlier_filter(dock, "only")
    qtbot.waitUntil(lambda: not model.loading and set(model.ids()) == likely, timeout=10000)
    set_outlier_filter(dock, "hide")
    qtbot.waitUntil(lambda: not model.loading and set(model.ids()) == to_review - likely, timeout=10000)
    assert "Filters (1)" == dock.more.text()
