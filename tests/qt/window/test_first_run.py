"""First start and everyday polish: the welcome dialog when there is no project, the window title,
the zoom label apart from the opacity, point-cloud thumbnails in the queue."""
from __future__ import annotations

import sys

import numpy as np
from PySide6.QtWidgets import QLabel

from tests.qt.conftest import open_and_wait


def test_gui_without_a_project_and_no_recent_one_shows_the_welcome(qtbot, settings, tmp_path, monkeypatch):
    from vqa_studio.app import open_window
    from vqa_studio.core.logs import close_logging, current_log_file
    from vqa_studio.qt.dialogs.welcome import WelcomeDialog

    monkeypatch.setenv("VQA_STUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    # the app's one registry stays as the other tests expect it (plugins: tests/qt/dialogs)
    monkeypatch.setattr("vqa_studio.plugins.load_plugins", lambda *a, **k: None)
    win = open_window(None)  # what `vqa-studio gui` shows before its event loop runs
    qtbot.addWidget(win)
    try:
        qtbot.waitUntil(lambda: isinstance(getattr(win, "welcome_dialog", None), WelcomeDialog)
                        and win.welcome_dialog.isVisible())
        assert win.project is None and win.windowTitle() == "VQA Studio"
        log = current_log_file()
        assert log == tmp_path / "home" / "logs" / "vqa-studio.log" and "log opened" in log.read_text()
        win.welcome_dialog.reject()
    finally:
        win.shutdown()
        win.close()
        close_logging()


def test_no_welcome_once_a_project_was_opened(qtbot, window, review_project):
    from vqa_studio.qt.window.first_run import needs_welcome

    assert needs_welcome(window.settings)
    open_and_wait(qtbot, window, review_project)
    assert not needs_welcome(window.settings)


def test_title_is_project_then_app(qtbot, window, review_project):
    assert window.windowTitle() == "VQA Studio"
    open_and_wait(qtbot, window, review_project)
    assert window.windowTitle() == "gui test — VQA Studio"
    # it ends with the display name, so Qt adds nothing (today's bug: "VQA Studio — X — VQA Studio")
    assert window.windowTitle().count("VQA Studio") == 1
    window.close_project()
    assert window.windowTitle() == "VQA Studio"


def test_the_zoom_is_labelled_and_set_apart_from_the_opacity(qtbot, window, review_project):
    open_and_wait(qtbot, window, review_project)
    page = window.image_page
    assert page.zoom_label.text().startswith("Zoom ") and page.zoom_label.text().endswith("%")
    page.view.zoom(2.0)
    z = page.view.transform().m11()
    assert page.zoom_label.text() == f"Zoom {z * 100:.0f}%"
    # left to right: ... "opacity" [slider] | Zoom N% [fit]; the zoom is not the slider's neighbour
    bar = page.layout().itemAt(0).layout()
    widgets = [bar.itemAt(i).widget() for i in range(bar.count())]
    i_op, i_zoom = widgets.index(page.opacity), widgets.index(page.zoom_label)
    assert i_zoom > i_op + 1 and any(w is not None and not isinstance(w, QLabel) for w in widgets[i_op + 1:i_zoom])


def test_point_cloud_items_get_a_queue_thumbnail(qtbot, window, tmp_path):
    from vqa_studio.core import cuboids
    from vqa_studio.core.project import Project
    from vqa_studio.core.synth import scenes3d
    from vqa_studio.qt.imaging import THUMB_SIZE
    from vqa_studio.qt.widgets.queue_model import COL_THUMB

    pairs = scenes3d.write_dataset(tmp_path / "scenes", 2, seed=0, n_points=3000, questions_per_scene=2)
    with Project.create(tmp_path / "clouds", name="clouds") as p:
        for path, scene in pairs:
            cuboids.add_demo_scene(p, path, scene, with_answers=False)
    open_and_wait(qtbot, window, tmp_path / "clouds", image=False)
    model = window.model
    assert model.rowCount() == 4
    from PySide6.QtCore import Qt

    idx = model.index(0, COL_THUMB)
    model.data(idx, Qt.DecorationRole)  # asks for it; the row repaints when it arrives
    qtbot.waitUntil(lambda: model.data(idx, Qt.DecorationRole) is not None, timeout=10000)
    img = model.data(idx, Qt.DecorationRole)
    assert max(img.width(), img.height()) == THUMB_SIZE
    px = np.array([[img.pixelColor(x, y).getRgb()[:3] for x in range(img.width())] for y in range(img.height())])
    background = px[0, 0]
    assert (px != background).any(axis=-1).mean() > 0.3  # the scene, not a blank cell
    assert window.images.thumbnail(str(model.media_path(model.row(0))), request=False) is img  # cached
