"""The answer panel, and the window's hook for a page per media kind."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel

from tests.qt.conftest import open_and_wait


def test_media_view_hook_and_answer_panel(qtbot, window, review_project):
    win = window
    c = open_and_wait(qtbot, win, review_project)
    page = QLabel("3D")
    shown = []
    page.show_item = shown.append
    win.register_media_view("image", page)
    c.go_to_row(1)
    assert win.stack.currentWidget() is page and shown[-1].question.id == c.current_qid
    panel = win.answer_panel
    assert panel.question.text() == c.current.question.text
    assert [r.answer for r in panel.rows] == list(c.current.prediction.answers)
    assert panel.votes.total == 20
