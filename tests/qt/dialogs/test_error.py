"""An exception raised in a slot: written to the log file, shown in a dialog naming that file, and the
app keeps running (a second error is counted in the same dialog)."""
from __future__ import annotations

import sys

import pytest
from PySide6.QtWidgets import QPushButton

from vqa_studio.core import logs


@pytest.fixture
def log_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    path = logs.setup_logging(tmp_path / "logs")
    yield path
    logs.close_logging()


@pytest.mark.qt_no_exception_capture
def test_an_exception_in_a_slot_is_logged_and_shown_with_the_log_path(qtbot, window, log_in_tmp):
    from vqa_studio.qt.dialogs.error import ErrorDialog, install_excepthook

    win = window
    install_excepthook(win)
    button = QPushButton("boom", win)

    def slot():
        raise RuntimeError("the slot broke")

    button.clicked.connect(slot)
    button.click()
    qtbot.waitUntil(lambda: isinstance(getattr(win, "error_dialog", None), ErrorDialog)
                    and win.error_dialog.isVisible(), timeout=5000)
    dlg = win.error_dialog
    assert "RuntimeError: the slot broke" in dlg.text() and str(log_in_tmp) in dlg.text()
    assert "Your work is saved" in dlg.text() and "Traceback" in dlg.detailedText()
    written = log_in_tmp.read_text()
    assert "RuntimeError: the slot broke" in written and "in slot" in written
    # the app keeps running: the window still answers, and a second error joins the same dialog
    win.act_keys.trigger()
    button.click()
    assert win.error_dialog is dlg and dlg.repeats == 1 and "1 more error" in dlg.text()
    assert win.isVisible()
    dlg.close()
    qtbot.waitUntil(lambda: getattr(win, "error_dialog", None) is None, timeout=5000)
