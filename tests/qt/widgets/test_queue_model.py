"""The review queue's model and dock: lazy pages, filters, search, sort."""
from __future__ import annotations

from PySide6.QtCore import Qt

from tests.qt.conftest import open_and_wait
from vqa_studio.core.types import QueueFilter
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
    # no outlier scores for this model (it recorded no training dynamics): no column taking the question's width
    qtbot.wait(200)
    assert dock.table.isColumnHidden(qm.COL_OUTLIER) and not model._outlier
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
