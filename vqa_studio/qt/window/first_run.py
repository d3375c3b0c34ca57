"""The first start, and the Help menu's dialogs: the welcome dialog's three ways in (open a project,
new from import, the demo), About, Plugins."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt


def needs_welcome(settings) -> bool:
    """No project opened before (or the last one is gone): the app starts with the welcome dialog."""
    last = settings.value("recent/last", "")
    return not (last and Path(str(last)).exists())


def demo_params(**overrides) -> dict:
    """What ``vqa-studio demo`` builds by default (its options' defaults), as the demo job's params."""
    from ...core import demo

    params = {"n_scenes": demo.DEMO_SCENES, "seed": 0, "labelled_fraction": 0.3, "train": True,
              "n_scenes_3d": demo.DEMO_SCENES_3D, "questions_per_scene": demo.DEMO_QUESTIONS_PER_SCENE,
              "questions_per_scene_3d": demo.DEMO_QUESTIONS_PER_SCENE_3D}
    params.update(overrides)
    return params


class FirstRunMixin:
    """``show_welcome``, ``open_demo``, ``new_from_import``, ``show_about``, ``show_plugins``."""

    def show_welcome(self):
        from ...core.paths import default_demo_dir
        from ..dialogs.welcome import WelcomeDialog

        dlg = WelcomeDialog(str(default_demo_dir()), self)
        dlg.setAttribute(Qt.WA_DeleteOnClose)
        dlg.chosen.connect(self._welcome_chosen)
        self.welcome_dialog = dlg
        dlg.finished.connect(lambda _r: setattr(self, "welcome_dialog", None))
        dlg.open()
        return dlg

    def _welcome_chosen(self, key: str) -> None:
        if key == "open":
            self.open_project_dialog()
        elif key == "import":
            self.new_from_import()
        else:
            self.open_demo()

    def new_from_import(self):
        """A new project (folder and name asked), then the import dialog on it."""
        before = self.project
        self.new_project_dialog()
        if self.project is not None and self.project is not before:
            return self.import_dialog()
        return None

    def open_demo(self, folder: str | Path | None = None, params: dict | None = None) -> bool:
        """Open the demo project; where it is not built yet, make it and build it in the background
        (the scenes, then the first model), as ``vqa-studio demo`` does."""
        from ...core.demo import DEMO_NAME
        from ...core.paths import default_demo_dir

        folder = Path(folder) if folder is not None else default_demo_dir()
        if (folder / "project.db").exists():
            if not self.open_project(folder):
                return False
            if self.project.stats().n_questions > 0:
                return True
        elif not self.create_project(folder, DEMO_NAME):
            return False
        self.start_demo_build(params if params is not None else demo_params())
        return True

    def show_about(self):
        from ..dialogs.about import AboutDialog

        dlg = AboutDialog(self.device_probe, self)
        dlg.setAttribute(Qt.WA_DeleteOnClose)
        self.about_dialog = dlg
        dlg.open()
        return dlg

    def show_plugins(self):
        from ..dialogs.plugins_dialog import PluginsDialog

        dlg = PluginsDialog(parent=self)
        dlg.setAttribute(Qt.WA_DeleteOnClose)
        self.plugins_dialog = dlg
        dlg.open()
        return dlg
