"""Queue (lazy pages, filters, search, sort), image view with attention, similar items, media hook."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from tests.qt.conftest import open_and_wait
from vqa_studio.core.types import QueueFilter
from vqa_studio.qt.imaging import attention_grid, attention_image
from vqa_studio.qt.widgets import queue_model as qm


def test_queue_pages_filters_search_sort(qtbot, window, review_project, monkeypatch):
    monkeypatch.setattr(qm, "PAGE", 4)  # small pages: fetching is lazy and paged
    win = window
    c = open_and_wait(qtbot, win, review_project)
    model, dock = win.model, win.queue_dock_widget
    n = model.rowCount()
    assert n == win.project.queue_count(QueueFilter(statuses=list(qm.TO_REVIEW)))
    scores = [model.row(r).score for r in range(n)]
    assert scores == sorted(scores, reverse=True)             # most uncertain first
    assert model.data(model.index(0, qm.COL_STATUS)) == "new"
    assert model.headerData(qm.COL_SCORE, Qt.Horizontal).startswith("entropy")
    # reverse the order from the header
    dock._header_clicked(qm.COL_SCORE)
    qtbot.waitUntil(lambda: not model.loading and model.row(0).score == min(scores), timeout=5000)
    # search
    dock.search.setText("circles")
    qtbot.waitUntil(lambda: not model.loading and model.rowCount() > 0
                    and all("circles" in model.row(r).text for r in range(model.rowCount())), timeout=5000)
    # all statuses, split filter from the menu
    dock.search.clear()
    dock.set_status_filter("All questions")
    qtbot.waitUntil(lambda: not model.loading and model.rowCount() == 16, timeout=5000)
    split_menu = next(a.menu() for a in dock.more_menu.actions() if a.menu() and a.text() == "Split")
    next(a for a in split_menu.actions() if a.text() == "val").setChecked(True)
    qtbot.waitUntil(lambda: not model.loading and model.rowCount() == 4, timeout=5000)
    assert dock.more.text() == "Filters (1)"
    # sort by another acquisition method
    dock.sort.setCurrentIndex(dock.sort.findData("margin"))
    qtbot.waitUntil(lambda: not model.loading and model.order_by == "margin", timeout=5000)
    # clicking a row shows it
    dock.table.selectRow(2)
    assert c.current_row == 2 and c.current_qid == model.question_id(2)


def test_queue_fetches_rows_lazily(qtbot, window, tmp_path):
    from sqlalchemy import insert

    from tests.conftest import write_png
    from vqa_studio.core.project import Project
    from vqa_studio.core.store import db, schema

    p = Project.create(tmp_path / "big")
    item = p.add_item(write_png(tmp_path / "one.png"))
    now = db.utcnow()
    with p.engine.begin() as conn:
        conn.execute(insert(schema.questions), [dict(item_id=item, text=f"Question number {k}?", question_type="what",
                                                     answer_type="other", status="new", created_at=now, updated_at=now)
                                                for k in range(3000)])
    p.close()
    win = window
    open_and_wait(qtbot, win, tmp_path / "big")
    model = win.model
    assert model.rowCount() == 3000
    assert len(model._pages) <= 2                             # only what was shown was read
    win.queue_dock_widget.table.scrollToBottom()
    qtbot.wait(50)
    assert model.row(2999).text == "Question number 2999?" and len(model._pages) <= 4


def test_image_view_attention_overlay(qtbot, window, review_project):
    win = window
    c = open_and_wait(qtbot, win, review_project)
    view = win.image_page.view
    assert not view.pixmap_item.pixmap().isNull() and view.heat_item.isVisible()
    assert view.n_glimpses == 1
    qtbot.keyClick(view, Qt.Key_Space)                        # the on/off key
    assert not view.heat_item.isVisible() and not win.image_page.heat_button.isChecked()
    qtbot.keyClick(view, Qt.Key_Space)
    assert view.heat_item.isVisible()
    win.image_page.opacity.setValue(20)
    assert abs(view.heat_item.opacity() - 0.2) < 1e-6
    z = view.transform().m11()
    view.zoom(2.0)
    assert abs(view.transform().m11() - 2 * z) < 1e-6
    view.fit()
    assert abs(view.transform().m11() - z) < 0.05 * z
    # next item: prefetched, so the image is there at once
    qtbot.waitUntil(lambda: win.images.has_image(win.model.media_path(win.model.row(1))), timeout=5000)
    qtbot.keyClick(view, Qt.Key_N)
    assert c.current_row == 1 and win.current_image_ready()


def test_attention_image():
    att = np.zeros(64, np.float32)
    att[9] = 1.0
    grid, peak = attention_grid(att)
    assert grid.shape == (8, 8) and grid[1, 1] == 1.0 and peak > 10
    img = attention_image(att, upsample=4)
    assert img.width() == 32 and img.height() == 32
    assert img.pixelColor(6, 6).alpha() > 150 and img.pixelColor(30, 30).alpha() == 0
    assert attention_grid(np.zeros(10)) is None


def test_similar_items_panel(qtbot, window, review_project):
    win = window
    c = open_and_wait(qtbot, win, review_project)
    qtbot.waitUntil(lambda: win.similar_panel.list.count() > 0, timeout=10000)
    ids = {win.similar_panel.list.item(i).data(Qt.UserRole) for i in range(win.similar_panel.list.count())}
    labelled = {q.id for q in win.project.questions(list(ids)).values() if q.answer}
    assert ids == labelled and c.current_qid not in ids


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
