"""A write that fails because of the machine (here: a project opened read-only) is shown as what it
means, and the window keeps going."""
from __future__ import annotations

import os

from tests.qt.conftest import open_and_wait


def test_reviewing_a_read_only_project_says_why(qtbot, window, review_project, monkeypatch):
    real = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, *a, **k: False if (
        mode & os.W_OK and str(path).startswith(str(review_project))) else real(path, mode, *a, **k))
    win = window
    open_and_wait(qtbot, win, review_project)
    assert win.project.read_only
    messages = []
    win.controller.failed.connect(messages.append)
    win.accept()
    qtbot.waitUntil(lambda: bool(messages), timeout=10000)
    assert "read-only" in messages[0] and "Could not accept" in messages[0]
    assert win.isVisible()
