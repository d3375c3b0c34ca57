"""The review's keys work on every kind of item right after the window opens, with real key events
sent where the window system sends them (the window's QWindow: to its focus widget, shortcuts first),
without a click first. On a point-cloud item the 3D editor (OpenGL, so under xvfb-run) takes its keys
only while a cuboid is selected.

The window is activated once, right after ``show()`` (what a window manager does when a window
opens); the project is opened after that. Before ``window/gl_surface.py`` the 3D editor, built when
the first cloud item showed, made Qt replace the window's native window, which lost the keyboard
focus: every key of these tests then went nowhere.
"""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests.qt.conftest import add_model, build_review_project


def _press(win, key, modifier=Qt.NoModifier) -> None:
    """A key as the window system delivers it: to the window, which gives it to its focus widget."""
    QTest.keyClick(win.windowHandle(), key, modifier)


def _activate_right_after_show(qtbot, win) -> None:
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)


def _cloud_project(tmp_path):
    from vqa_studio.core import cuboids
    from vqa_studio.core.project import Project
    from vqa_studio.core.synth import scenes3d

    pairs = scenes3d.write_dataset(tmp_path / "scenes", 2, seed=0, n_points=3000, questions_per_scene=3)
    p = Project.create(tmp_path / "clouds", name="clouds")
    qids = []
    for path, scene in pairs:
        qids += cuboids.add_demo_scene(p, path, scene, with_answers=False)[1]  # unanswered: in the queue
    add_model(p, "m1", sorted(qids), rng=np.random.default_rng(0))
    folder = p.folder
    p.close()
    return folder


def _review_keys_reach_the_review(qtbot, win) -> None:
    """Enter stores a correction (accept), Ctrl+M opens Models, Alt+R opens the Review menu."""
    c = win.controller
    q = c.current_qid
    _press(win, Qt.Key_Return)
    qtbot.waitUntil(lambda: c.current_qid != q, timeout=5000)
    assert c.wait_for_writes()
    qtbot.waitUntil(lambda: c.pending_writes == 0, timeout=5000)
    assert win.project.history(q)[-1].action.value == "accept"

    _press(win, Qt.Key_M, Qt.ControlModifier)
    qtbot.waitUntil(lambda: getattr(win, "models_dialog_widget", None) is not None
                    and win.models_dialog_widget.isVisible(), timeout=5000)
    win.models_dialog_widget.close()
    win.activateWindow()  # what the window manager does when a dialog closes (xvfb-run has none)
    qtbot.waitUntil(lambda: QApplication.activeModalWidget() is None and win.isActiveWindow(), timeout=5000)

    _press(win, Qt.Key_R, Qt.AltModifier)
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is not None, timeout=5000)
    menu = QApplication.activePopupWidget()
    assert menu.title().replace("&", "") == "Review"
    _press(win, Qt.Key_Escape)  # closes the menu; the menu bar keeps the keyboard until a second Esc
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is None, timeout=5000)
    if QApplication.focusWidget() is win.menuBar():
        _press(win, Qt.Key_Escape)
    assert QApplication.focusWidget() is not win.menuBar()


def test_review_keys_on_an_image_item_right_after_opening(qtbot, window, tmp_path):
    project = build_review_project(tmp_path / "img")
    folder = project.folder
    project.close()
    win = window
    _activate_right_after_show(qtbot, win)
    assert win.open_project(folder)
    qtbot.waitUntil(lambda: win.controller.current is not None, timeout=15000)
    assert win.controller.current.item.kind.value == "image"
    assert win.isActiveWindow() and QApplication.focusWidget() is win.image_page.view
    _review_keys_reach_the_review(qtbot, win)


@pytest.mark.gl
def test_review_and_editor_keys_on_a_cloud_item_right_after_opening(qtbot, window, tmp_path):
    if QApplication.platformName() in ("offscreen", "minimal"):
        pytest.skip("the 3D editor needs OpenGL: run under xvfb-run")
    folder = _cloud_project(tmp_path)
    win = window
    _activate_right_after_show(qtbot, win)
    assert win.open_project(folder)
    qtbot.waitUntil(lambda: win.controller.current is not None, timeout=15000)
    page = win.cloud_page
    assert win.controller.current.item.kind.value == "cloud" and win.stack.currentWidget() is page
    if page.view is None:
        pytest.skip(f"no OpenGL here: {page.fallback.label.toolTip()}")
    assert page.view.wait_until_idle(30)
    qtbot.wait(200)  # let the GL views settle on screen, as a person would see the window
    # the editor joined the window without replacing its native window: the keyboard is still here
    assert win.isActiveWindow(), "the window lost the keyboard focus when the 3D editor was built"
    assert page.isAncestorOf(QApplication.focusWidget())
    assert win.editor_hints.isVisible() and "Esc" in win.editor_hints.text()
    _review_keys_reach_the_review(qtbot, win)

    # the editor's keys: nothing selected, N is the review's "next"
    view = page.view
    q = win.controller.current_qid
    _press(win, Qt.Key_N)
    qtbot.waitUntil(lambda: win.controller.current_qid != q, timeout=5000)
    qtbot.waitUntil(lambda: page.view.item_id == win.controller.current.item.id, timeout=5000)
    assert view.wait_until_idle(30)
    # Tab selects a cuboid: the editor now owns the arrows, Q/E, N, Del, Home and Esc
    _press(win, Qt.Key_Tab)
    assert view.selected_id is not None
    cid = view.selected_id
    assert f"#{cid}" in view.hint.text() and "Esc done" in view.hint.text()
    before = view.display_cuboid(cid)
    _press(win, Qt.Key_Right)
    _press(win, Qt.Key_Q)
    assert view.wait_until_idle(10)
    after = view.display_cuboid(cid)
    assert after.cx != before.cx or after.cy != before.cy  # moved along its own axis
    assert after.yaw == pytest.approx(before.yaw + view.rotation_step(), abs=1e-6)
    assert not win.answer_panel.correction.hasFocus()  # Q rotated, it did not start a correction
    # ... while Enter and F still reach the review
    q = win.controller.current_qid
    _press(win, Qt.Key_Return)
    qtbot.waitUntil(lambda: win.controller.current_qid != q, timeout=5000)
    assert win.controller.wait_for_writes()
    qtbot.waitUntil(lambda: win.controller.pending_writes == 0, timeout=5000)
    assert win.project.history(q)[-1].action.value == "accept"
    qtbot.waitUntil(lambda: page.view.item_id == win.controller.current.item.id, timeout=5000)
    assert view.wait_until_idle(30)
    _press(win, Qt.Key_Tab)
    assert view.selected_id is not None
    _press(win, Qt.Key_Escape)  # done editing: the keys are the review's again
    assert view.selected_id is None and "Tab" in view.hint.text()
    q = win.controller.current_qid
    _press(win, Qt.Key_N)
    qtbot.waitUntil(lambda: win.controller.current_qid != q, timeout=5000)
    assert view.wait_until_idle(30)
