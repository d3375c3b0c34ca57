"""The window opens a project; settings kept between sessions, a failed job reported without
stopping the app, the undo of a review that someone else changed meanwhile."""
from __future__ import annotations

import multiprocessing

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from tests.qt.conftest import open_and_wait
from vqa_studio.core.project import Project
from vqa_studio.core.types import Action


def test_layout_and_recent_projects_are_kept(qtbot, settings, review_project):
    from vqa_studio.qt.main_window import MainWindow

    win = MainWindow(settings=settings)
    qtbot.addWidget(win)
    win.show()
    open_and_wait(qtbot, win, review_project)
    win.similar_dock.hide()
    win.image_page.opacity.setValue(33)
    win.shutdown()
    win.close()
    again = MainWindow(settings=QSettings(settings.fileName(), QSettings.IniFormat))
    qtbot.addWidget(again)
    again.show()
    assert again.recent_projects()[0] == str(review_project)
    assert again.image_page.opacity.value() == 33
    assert not again.similar_dock.isVisible() and again.answer_dock.isVisible()
    again.shutdown()


def test_a_failed_job_is_reported_and_the_app_keeps_running(qtbot, window, review_project):
    from vqa_studio.core.train.jobs import Job
    from vqa_studio.qt.workers import JobRunner

    win = window
    open_and_wait(qtbot, win, review_project)
    runner = JobRunner(Job("tests.core.train.failing_jobs:crash", review_project, {}, threads=1), win.bg, parent=win)
    runner.finished.connect(win._train_finished)
    win.train_runner = runner
    with qtbot.waitSignal(win.job_finished, timeout=120_000) as sig:
        runner.start()
    assert sig.args[1].state == "error" and "boom" in sig.args[1].error
    box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible())
    assert "boom" in box.text() and "Traceback" in box.detailedText()
    box.close()
    assert "failed" in win.training_panel.title.text()
    # still reviewing
    q = win.controller.current_qid
    qtbot.keyClick(win.image_page.view, Qt.Key_S)
    assert win.controller.current_qid != q
    win.shutdown()
    assert multiprocessing.active_children() == []


def test_undo_refused_when_someone_else_changed_the_question(qtbot, window, review_project):
    win = window
    c = open_and_wait(qtbot, win, review_project)
    q = c.current_qid
    qtbot.keyClick(win.image_page.view, Qt.Key_S)
    assert c.wait_for_writes()
    qtbot.waitUntil(lambda: c.pending_writes == 0)
    with Project.open(review_project) as p:
        p.record(q, Action.CORRECT, "orange", annotator="bob")
    with qtbot.waitSignal(c.failed, timeout=5000) as sig:
        qtbot.keyClick(win.image_page.view, Qt.Key_Z, Qt.ControlModifier)
        c.wait_for_writes()
    assert "changed" in sig.args[0]
    with Project.open(review_project) as p:
        assert p.question(q).answer == "orange" and p.verify_history() == []


def test_opens(qtbot, window, review_project):
    c = open_and_wait(qtbot, window, review_project)
    assert window.windowTitle() == "gui test — VQA Studio"
    assert c.current.prediction is not None
