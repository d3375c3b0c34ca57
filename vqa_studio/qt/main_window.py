"""The main window: docks, menus, keyboard-first review, undo/redo, jobs, settings.

Layout: the review queue on the left, the item (image view, or a page per media kind) in the
centre, the answer panel and the similar items on the right, insights / training / answer changes
at the bottom. Every dock can be moved; the layout is kept with ``QSettings``.

Keyboard (when no text box has the focus): ``Enter`` accepts the top proposal, ``1``-``5`` pick a
proposal, typing any other letter or digit starts a correction (``/`` starts an empty one), ``S``
skips, ``F`` flags, ``N``/``J`` next, ``P``/``K`` previous, ``Space`` toggles the attention overlay,
``[``/``]`` change glimpse, ``Ctrl+Z`` / ``Ctrl+Shift+Z`` undo / redo.

The window is assembled from one part per concern (``qt/window/``): the layout and docks, the
menus, the project session, the current item, the review keys, the jobs and the first start (welcome,
About, Plugins). This module holds the
state they share, builds it in order, and shuts it all down.
"""
from __future__ import annotations

from PySide6.QtCore import QSettings, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox, QWidget

from .imaging import ImageCache
from .review import ReviewController
from .style import icon
from .widgets.queue_dock import QueueDock
from .widgets.queue_model import QueueModel
from .window import APP_NAME, window_title
from .window.current_item import CurrentItemMixin
from .window.first_run import FirstRunMixin
from .window.jobs import JobsMixin
from .window.layout import LayoutMixin
from .window.menus import MenusMixin
from .window.review_keys import ReviewKeysMixin
from .window.session import SessionMixin
from .workers import JobRunner, TaskRunner

__all__ = ["APP_NAME", "MainWindow", "make_settings"]


def make_settings() -> QSettings:
    """The app's settings; ``VQA_STUDIO_SETTINGS=/path/file.ini`` keeps them in a file (tests, scripts)."""
    import os

    path = os.environ.get("VQA_STUDIO_SETTINGS")
    if path:
        return QSettings(path, QSettings.IniFormat)
    return QSettings(APP_NAME, APP_NAME)


class MainWindow(LayoutMixin, MenusMixin, SessionMixin, CurrentItemMixin, ReviewKeysMixin, JobsMixin, FirstRunMixin,
                 QMainWindow):
    project_opened = Signal(object)
    item_shown = Signal(object)  # ItemDetails | None, after the view is updated
    job_finished = Signal(str, object)  # "train" | "score", Job

    def __init__(self, settings: QSettings | None = None, parent=None):
        from .compat import guard_singleton_refcounts

        guard_singleton_refcounts()  # idempotent; see qt/compat.py
        super().__init__(parent)
        self.settings = settings or make_settings()
        self.project = None
        self.model: QueueModel | None = None
        self.controller: ReviewController | None = None
        self.queue_dock_widget: QueueDock | None = None
        self.fused_index = None
        self.vocabulary: set[str] = set()
        self.train_runner: JobRunner | None = None
        self.score_runner: JobRunner | None = None
        self._previous_version: str | None = None
        self._train_epochs = 1
        self._selecting = False
        self._similar_token = 0
        self._insights_token = 0
        self._dialogs: list[QWidget] = []
        self._media_views: dict[str, QWidget] = {}
        self.session_reviews = 0

        self.setWindowTitle(window_title())
        self.setWindowIcon(icon("app"))
        self.setDockNestingEnabled(True)
        self.bg = TaskRunner(2, "vqa-bg", self)
        self.writer = TaskRunner(1, "vqa-writer", self)
        self.images = ImageCache(parent=self)
        self.undo_stack = QUndoStack(self)
        from .dialogs.train import DeviceProbe

        self.device_probe = DeviceProbe(self)
        self._build_centre()
        self._build_docks()
        self._build_status_bar()
        self._build_actions()
        self._build_menus()
        self._connect_panels()
        self._make_timers()
        self.resize(1600, 1000)
        self._restore_layout()
        self._install_review_keys()

    def _connect_panels(self) -> None:
        self.answer_panel.pick_requested.connect(self.pick)
        self.answer_panel.correction.submitted.connect(self._submit_correction)
        self.answer_panel.correction.cancelled.connect(self.focus_review)
        self.similar_panel.open_question.connect(self._open_question)
        self.changes_panel.open_question.connect(self._open_question)
        self.training_panel.cancel_requested.connect(self.cancel_training)
        self.insights_panel.needs_data.connect(self.refresh_insights)
        self.images.image_ready.connect(self._image_arrived)
        self.undo_stack.cleanChanged.connect(lambda _c: None)

    # --- closing --------------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop everything this window started: jobs, threads, processes. Idempotent."""
        if getattr(self, "_shut", False):
            return
        self._shut = True
        try:
            QApplication.instance().focusChanged.disconnect(self._focus_changed)
        except (RuntimeError, TypeError):
            pass
        self._save_layout()
        self.device_probe.stop()
        self.close_project()
        self.cloud_page.shutdown()
        self.bg.shutdown()
        self.writer.shutdown()
        self.images.shutdown()

    def closeEvent(self, event) -> None:  # noqa: N802
        if self.train_runner is not None and self.train_runner.running:
            box = QMessageBox.question(self, "Training is running",
                                       "A model is training. Quit and cancel it? (Nothing is registered.)")
            if box != QMessageBox.Yes:
                event.ignore()
                return
        self.shutdown()
        super().closeEvent(event)
