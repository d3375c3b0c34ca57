"""The side panels: similar labelled items."""
from __future__ import annotations

from PySide6.QtCore import Qt

from tests.qt.conftest import open_and_wait


def test_similar_items_panel(qtbot, window, review_project):
    win = window
    c = open_and_wait(qtbot, win, review_project)
    qtbot.waitUntil(lambda: win.similar_panel.list.count() > 0, timeout=10000)
    ids = {win.similar_panel.list.item(i).data(Qt.UserRole) for i in range(win.similar_panel.list.count())}
    labelled = {q.id for q in win.project.questions(list(ids)).values() if q.answer}
    assert ids == labelled and c.current_qid not in ids
