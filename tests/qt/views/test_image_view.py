"""The image view with the attention overlay: on/off, opacity, zoom, the next item prefetched."""
from __future__ import annotations

from PySide6.QtCore import Qt

from tests.qt.conftest import open_and_wait


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
