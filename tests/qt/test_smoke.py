from __future__ import annotations

from tests.qt.conftest import open_and_wait


def test_opens(qtbot, window, review_project):
    c = open_and_wait(qtbot, window, review_project)
    assert window.windowTitle() == "VQA Studio — gui test"
    assert c.current.prediction is not None
