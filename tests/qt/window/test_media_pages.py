"""A point-cloud item in the window: the four-view editor where OpenGL is there, else the text page."""
from __future__ import annotations

from PySide6.QtWidgets import QApplication

from tests.qt.conftest import open_and_wait


def test_a_cloud_item_is_shown_in_the_cloud_page(qtbot, window, tmp_path):
    from vqa_studio.core import cuboids
    from vqa_studio.core.project import Project
    from vqa_studio.core.synth import scenes3d

    pairs = scenes3d.write_dataset(tmp_path / "scenes", 1, seed=0, n_points=3000, questions_per_scene=2)
    with Project.create(tmp_path / "clouds", name="clouds") as p:
        cuboids.add_demo_scene(p, *pairs[0], with_answers=False)  # unanswered: in the queue
    win = window
    c = open_and_wait(qtbot, win, tmp_path / "clouds", image=False)
    page = win.cloud_page
    assert c.current.item.kind.value == "cloud" and win.stack.currentWidget() is page
    if QApplication.platformName() in ("offscreen", "minimal"):     # no OpenGL: what is known, as text
        assert page.view is None and page.fallback.isVisibleTo(page)
        text = page.fallback.label.text()
        assert "Point cloud" in text and "3,000 points" in text and str(c.current.item.id) in text
    else:                                                               # the editor, or why not
        assert page.view is not None or page.fallback.label.toolTip().startswith("3D view unavailable")
        if page.view is not None:
            assert page.view.wait_until_idle(30) and page.view.levels is not None
