"""The welcome dialog of a first start: each of its three ways in does what it says."""
from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QInputDialog

from tests.qt.conftest import build_review_project


def test_each_button_says_its_choice_and_closes(qtbot):
    from vqa_studio.qt.dialogs.welcome import WelcomeDialog

    for key in ("open", "import", "demo"):
        dlg = WelcomeDialog("/somewhere/demo-project")
        qtbot.addWidget(dlg)
        dlg.show()
        with qtbot.waitSignal(dlg.chosen) as sig:
            dlg.buttons[key].click()
        assert sig.args == [key] and dlg.choice == key and not dlg.isVisible()
    assert "/somewhere/demo-project" in dlg.buttons["demo"].description()


def test_open_project_from_the_welcome(qtbot, window, tmp_path, monkeypatch):
    project = build_review_project(tmp_path / "proj", n_images=2)
    folder = project.folder
    project.close()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    dlg = window.show_welcome()
    qtbot.waitUntil(dlg.isVisible)
    dlg.buttons["open"].click()
    assert window.project is not None and window.project.folder == folder
    assert window.welcome_dialog is None


def test_new_from_import_makes_the_project_then_opens_the_import_dialog(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(tmp_path / "fresh"))
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("street scenes", True))
    dlg = window.show_welcome()
    dlg.buttons["import"].click()
    assert window.project is not None and window.project.name == "street scenes"
    assert (tmp_path / "fresh" / "project.db").exists()
    qtbot.waitUntil(lambda: window.import_dialog_widget.isVisible())
    assert window.windowTitle() == "street scenes — VQA Studio"
    window.import_dialog_widget.close()


def test_the_demo_is_made_and_built_in_the_background(qtbot, window, tmp_path, monkeypatch):
    from vqa_studio.core import paths
    from vqa_studio.qt.window import first_run

    monkeypatch.setattr(paths, "default_demo_dir", lambda: tmp_path / "demo")
    small = first_run.demo_params(n_scenes=6, n_scenes_3d=0, train=False, questions_per_scene=2)
    monkeypatch.setattr(first_run, "demo_params", lambda **k: small)
    dlg = window.show_welcome()
    with qtbot.waitSignal(window.job_finished, timeout=120000):
        dlg.buttons["demo"].click()
        assert window.project is not None and window.project.folder == tmp_path / "demo"
        assert window.windowTitle() == "VQA Studio demo — VQA Studio"
    qtbot.waitUntil(lambda: window.project.stats().n_questions == 12, timeout=10000)
    # opened again: it is there, nothing is rebuilt
    window.close_project()
    runner = window.train_runner
    assert window.open_demo()
    assert window.train_runner is runner  # no new job
    assert window.project.stats().n_questions == 12
