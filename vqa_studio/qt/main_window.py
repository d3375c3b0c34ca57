"""The main window: docks, menus, keyboard-first review, undo/redo, jobs, settings.

Layout: the review queue on the left, the item (image view, or a page per media kind) in the
centre, the answer panel and the similar items on the right, insights / training / answer changes
at the bottom. Every dock can be moved; the layout is kept with ``QSettings``.

Keyboard (when no text box has the focus): ``Enter`` accepts the top proposal, ``1``-``5`` pick a
proposal, typing any other letter or digit starts a correction (``/`` starts an empty one), ``S``
skips, ``F`` flags, ``N``/``J`` next, ``P``/``K`` previous, ``Space`` toggles the attention overlay,
``[``/``]`` change glimpse, ``Ctrl+Z`` / ``Ctrl+Shift+Z`` undo / redo.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QShortcut, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDockWidget,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QSizePolicy,
    QStackedWidget,
    QTabWidget,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import VQAStudioError
from ..core.types import ItemKind, Status
from .dialogs.common import NoteDialog, show_error
from .imaging import ImageCache
from .review import ReviewController
from .style import COLORS, icon
from .views.image_view import ImagePage
from .widgets.answer_panel import AnswerPanel
from .widgets.panels import ChangesPanel, InsightsPanel, SimilarPanel, TrainingPanel
from .widgets.stable import StableLabel
from .widgets.queue_model import TO_REVIEW, QueueDock, QueueModel, QueueQuery
from .workers import JobRunner, TaskRunner

APP_NAME = "VQA Studio"
MAX_RECENT = 8
REVIEW_KEYS_HELP = [
    ("Enter", "accept the top proposal"), ("1 – 5", "pick a proposal"), ("type", "start a correction"),
    ("S", "skip"), ("F", "flag"), ("N / J", "next"), ("P / K", "previous"), ("Space", "attention on/off"),
    ("Ctrl+Z", "undo"),
]


def make_settings() -> QSettings:
    """The app's settings; ``VQA_STUDIO_SETTINGS=/path/file.ini`` keeps them in a file (tests, scripts)."""
    import os

    path = os.environ.get("VQA_STUDIO_SETTINGS")
    if path:
        return QSettings(path, QSettings.IniFormat)
    return QSettings(APP_NAME, APP_NAME)


def _is_text_input(w: QWidget | None) -> bool:
    if w is None:
        return False
    if isinstance(w, (QLineEdit, QTextEdit, QPlainTextEdit, QAbstractSpinBox)):
        return not (isinstance(w, QLineEdit) and w.isReadOnly())
    if isinstance(w, QComboBox):
        return w.isEditable()
    return False


class CloudPage(QWidget):
    """Point-cloud items until the 3D view is registered: the file and what is known about it."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.label = QLabel("")
        self.label.setAlignment(Qt.AlignCenter)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        lay = QVBoxLayout(self)
        lay.addWidget(self.label)
        self.setFocusPolicy(Qt.StrongFocus)

    def show_item(self, details) -> None:
        item = details.item
        pts = f"{item.n_points:,} points" if item.n_points else "point count unknown"
        self.label.setText(f"<div style='font-size:14pt; font-weight:600'>Point cloud</div>"
                           f"<p style='color:{COLORS['muted']}'>{details.media_path}</p>"
                           f"<p>{pts} · split {item.split} · item {item.id}</p>"
                           f"<p style='color:{COLORS['muted']}'>The 3D view shows clouds here once it is installed.</p>")


class Cloud3DPage(QWidget):
    """Point-cloud items in the four-view cuboid editor (``views.cloud_view.CloudView``), built the
    first time a cloud item is shown (OpenGL and pyqtgraph load then, not at start-up). Where no
    OpenGL context can be made the file and what is known about it are shown instead."""

    def __init__(self, window: "MainWindow"):
        super().__init__()
        self.window = window
        self.view = None
        self.fallback = CloudPage()
        self.lay = QVBoxLayout(self)
        self.lay.setContentsMargins(0, 0, 0, 0)
        self.lay.addWidget(self.fallback)
        self.setFocusPolicy(Qt.StrongFocus)

    def _ensure_view(self) -> bool:
        if self.view is not None:
            return True
        if QApplication.platformName() in ("offscreen", "minimal"):
            return False  # no OpenGL context on these platforms
        try:
            from .views.cloud_view import CloudView

            self.view = CloudView(undo_stack=self.window.undo_stack)
        except Exception as exc:  # noqa: BLE001 - no GL here: keep the text page, say why once
            self.fallback.label.setToolTip(f"3D view unavailable: {exc}")
            return False
        self.view.message.connect(lambda text: self.window.statusBar().showMessage(text, 8000))
        self.lay.removeWidget(self.fallback)
        self.fallback.hide()
        self.lay.addWidget(self.view)
        self.setFocusProxy(self.view)
        return True

    def show_item(self, details) -> None:
        if not self._ensure_view():
            self.fallback.show_item(details)
            return
        self.view.set_item(self.window.project, details.item.id, details.media_path)
        pred = details.prediction
        centres = getattr(pred, "centres", None) if pred is not None else None
        if centres is not None and pred.attention is not None:
            self.view.set_attention(centres, pred.attention)
        else:
            self.view.set_attention(None, None)

    def clear(self) -> None:
        if self.view is not None:
            self.view.clear()

    def shutdown(self) -> None:
        if self.view is not None:
            self.view.shutdown()


class MainWindow(QMainWindow):
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

        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(icon("app"))
        self.setDockNestingEnabled(True)
        self.bg = TaskRunner(2, "vqa-bg", self)
        self.writer = TaskRunner(1, "vqa-writer", self)
        self.images = ImageCache(parent=self)
        self.undo_stack = QUndoStack(self)
        from .dialogs.train import DeviceProbe

        self.device_probe = DeviceProbe(self)

        # --- centre ---------------------------------------------------------------------------------
        self.image_page = ImagePage()
        self.cloud_page = Cloud3DPage(self)
        self.empty_page = QLabel("")
        self.empty_page.setAlignment(Qt.AlignCenter)
        self.empty_page.setTextFormat(Qt.RichText)
        self.empty_page.setFocusPolicy(Qt.StrongFocus)
        self._set_empty_text()
        self.stack = QStackedWidget()
        for w in (self.empty_page, self.image_page, self.cloud_page):
            self.stack.addWidget(w)
        self.register_media_view(ItemKind.IMAGE.value, self.image_page)
        self.register_media_view(ItemKind.CLOUD.value, self.cloud_page)
        self.hint_bar = self._make_hint_bar()
        centre = QWidget()
        cl = QVBoxLayout(centre)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.setSpacing(0)
        cl.addWidget(self.stack, 1)
        cl.addWidget(self.hint_bar)
        # opaque containers: a change inside one repaints it, not the whole window beneath it
        for w in (centre, self.stack, self.image_page):
            w.setAutoFillBackground(True)
        self.setCentralWidget(centre)

        # --- docks ----------------------------------------------------------------------------------
        self.answer_panel = AnswerPanel()
        self.similar_panel = SimilarPanel(self.images)
        self.training_panel = TrainingPanel()
        self.insights_panel = InsightsPanel()
        self.changes_panel = ChangesPanel()
        self.queue_dock = self._dock("Review queue", "queueDock", QLabel(""), Qt.LeftDockWidgetArea)
        self.answer_dock = self._dock("Answer", "answerDock", self.answer_panel, Qt.RightDockWidgetArea)
        self.similar_dock = self._dock("Similar labelled items", "similarDock", self.similar_panel, Qt.RightDockWidgetArea)
        self.insights_dock = self._dock("Insights", "insightsDock", self.insights_panel, Qt.BottomDockWidgetArea)
        self.training_dock = self._dock("Training", "trainingDock", self.training_panel, Qt.BottomDockWidgetArea)
        self.changes_dock = self._dock("Answer changes", "changesDock", self.changes_panel, Qt.BottomDockWidgetArea)
        self.splitDockWidget(self.answer_dock, self.similar_dock, Qt.Vertical)
        self.tabifyDockWidget(self.insights_dock, self.training_dock)
        self.tabifyDockWidget(self.training_dock, self.changes_dock)
        self.insights_dock.raise_()
        self.setTabPosition(Qt.BottomDockWidgetArea, QTabWidget.North)
        self._layout_restored = False
        self._plots_allowed = False

        # --- status bar -----------------------------------------------------------------------------
        sb = self.statusBar()
        self.counts_label = StableLabel("", width=330)
        self.counts_label.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        self.model_label = StableLabel("", width=110)
        self.job_label = StableLabel("", width=140)
        self.job_bar = QProgressBar()
        self.job_bar.setFixedWidth(180)
        self.job_bar.setVisible(False)
        self.job_cancel = QToolButton()
        self.job_cancel.setText("Cancel")
        self.job_cancel.setVisible(False)
        self.job_cancel.clicked.connect(self.cancel_training)
        for w in (self.counts_label, self.model_label, self.job_label, self.job_bar, self.job_cancel):
            sb.addPermanentWidget(w)

        self._build_actions()
        self._build_menus()
        self.answer_panel.pick_requested.connect(self.pick)
        self.answer_panel.correction.submitted.connect(self._submit_correction)
        self.answer_panel.correction.cancelled.connect(self.focus_review)
        self.similar_panel.open_question.connect(self._open_question)
        self.changes_panel.open_question.connect(self._open_question)
        self.training_panel.cancel_requested.connect(self.cancel_training)
        self.insights_panel.needs_data.connect(self.refresh_insights)
        self.images.image_ready.connect(self._image_arrived)
        self.undo_stack.cleanChanged.connect(lambda _c: None)
        self._scroll_timer = QTimer(self)
        self._scroll_timer.setSingleShot(True)
        self._scroll_timer.setInterval(90)
        self._scroll_timer.timeout.connect(self._scroll_ahead)
        self._similar_timer = QTimer(self)
        self._similar_timer.setSingleShot(True)
        self._similar_timer.setInterval(120)
        self._similar_timer.timeout.connect(self._request_similar)
        self._counts_timer = QTimer(self)
        self._counts_timer.setSingleShot(True)
        self._counts_timer.setInterval(800)
        self._counts_timer.timeout.connect(self._refresh_counts)

        self.resize(1600, 1000)
        self._restore_layout()
        self._install_review_keys()

    # --- construction helpers --------------------------------------------------------------------
    def _dock(self, title: str, name: str, widget: QWidget, area) -> QDockWidget:
        d = QDockWidget(title, self)
        d.setObjectName(name)
        d.setWidget(widget)
        widget.setAutoFillBackground(True)  # opaque: repainting it does not repaint the window beneath
        d.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable | QDockWidget.DockWidgetClosable)
        self.addDockWidget(area, d)
        return d

    def _make_hint_bar(self) -> QWidget:
        bar = QFrame()
        bar.setObjectName("hintBar")
        bar.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        bar.setMinimumWidth(0)
        kbd = (f"background:{COLORS['raised']}; color:{COLORS['text']}; font-family:'DejaVu Sans Mono'; "
               f"font-size:8pt")
        parts = [f"<span style=\"{kbd}\">&nbsp;{k}&nbsp;</span>&nbsp;<span style='color:{COLORS['muted']}'>{w}</span>"
                 for k, w in REVIEW_KEYS_HELP]
        self.hints = QLabel("&nbsp;&nbsp; ".join(parts))
        self.hints.setTextFormat(Qt.RichText)
        self.hints.setWordWrap(True)
        self.hints.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.progress_label = StableLabel("", width=150)
        self.progress_label.setObjectName("muted")
        self.progress_label.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        lay = QHBoxLayout(bar)
        lay.setContentsMargins(10, 5, 10, 5)
        lay.setSpacing(8)
        lay.addWidget(self.hints, 1)
        lay.addWidget(self.progress_label, 0, Qt.AlignRight | Qt.AlignVCenter)
        return bar

    def _set_empty_text(self, extra: str = "") -> None:
        self.empty_page.setText(
            f"<div style='font-size:20pt; font-weight:600'>{APP_NAME}</div>"
            f"<p style='color:{COLORS['muted']}'>Open a project (File ▸ Open project…) or create one, then import data.</p>"
            f"<p style='color:{COLORS['muted']}'>{extra}</p>")

    def register_media_view(self, kind: str, widget: QWidget) -> None:
        """Show items of ``kind`` ("image", "cloud", ...) in ``widget``. The widget gets the item with
        ``show_item(details)`` if it has one (the 3D view plugs in here)."""
        if self.stack.indexOf(widget) < 0:
            self.stack.addWidget(widget)
        self._media_views[kind] = widget

    def _act(self, text: str, slot, shortcut=None, tip: str = "", icon_name: str | None = None) -> QAction:
        a = QAction(text, self)
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
        if tip:
            a.setStatusTip(tip)
        if icon_name:
            a.setIcon(icon(icon_name))
        a.triggered.connect(lambda _checked=False: slot())
        return a

    def _build_actions(self) -> None:
        self.act_new = self._act("&New project…", self.new_project_dialog, QKeySequence.New)
        self.act_open = self._act("&Open project…", self.open_project_dialog, QKeySequence.Open)
        self.act_import = self._act("&Import…", self.import_dialog, "Ctrl+I")
        self.act_export = self._act("&Export…", self.export_dialog, "Ctrl+E")
        self.act_close = self._act("&Close project", self.close_project)
        self.act_quit = self._act("&Quit", self.close, QKeySequence.Quit)
        self.act_undo = self.undo_stack.createUndoAction(self, "&Undo")
        self.act_undo.setShortcuts([QKeySequence.Undo])
        self.act_undo.setIcon(icon("undo"))
        self.act_redo = self.undo_stack.createRedoAction(self, "&Redo")
        self.act_redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.act_redo.setIcon(icon("redo"))
        # review actions: their keys are handled by the review (see eventFilter); the text shows them
        self.act_accept = self._act("Accept top proposal\tEnter", self.accept, icon_name="accept")
        self.act_correct = self._act("Correct…\t/", lambda: self.start_correction(""))
        self.act_skip = self._act("Skip\tS", self.skip, icon_name="skip")
        self.act_flag = self._act("Flag as bad question…\tF", self.flag_dialog, icon_name="flag")
        self.act_next = self._act("Next item\tN", self.next_item)
        self.act_prev = self._act("Previous item\tP", self.previous_item)
        self.act_auto = self._act("Auto-accept confident proposals…", self.auto_accept_dialog)
        self.act_auto_advance = QAction("Auto-advance to the next most uncertain item", self)
        self.act_auto_advance.setCheckable(True)
        self.act_auto_advance.setChecked(self.settings.value("review/auto_advance", True, type=bool))
        self.act_auto_advance.toggled.connect(self._auto_advance_toggled)
        self.act_train = self._act("&Train / fine-tune…", self.train_dialog, "Ctrl+T", icon_name="train")
        self.act_cancel_train = self._act("Cancel training", self.cancel_training)
        self.act_cancel_train.setEnabled(False)
        self.act_rescore = self._act("Re-score the pool", self.rescore)
        self.act_models = self._act("&Models…", self.models_dialog, "Ctrl+M")
        self.act_fit = self._act("Fit image", lambda: self.image_page.view.fit(), "Ctrl+0", icon_name="fit")
        self.act_zoom_in = self._act("Zoom in", lambda: self.image_page.view.zoom(1.25), QKeySequence.ZoomIn)
        self.act_zoom_out = self._act("Zoom out", lambda: self.image_page.view.zoom(0.8), QKeySequence.ZoomOut)
        self.act_overlay = self._act("Attention overlay on/off\tSpace", self.image_page.toggle_overlay, icon_name="heat")
        self.act_keys = self._act("Keyboard shortcuts", self.show_keys, "F1")
        self.act_about = self._act("About VQA Studio", self.show_about)
        self.project_actions = [self.act_import, self.act_export, self.act_close, self.act_accept, self.act_correct,
                                self.act_skip, self.act_flag, self.act_next, self.act_prev, self.act_auto,
                                self.act_train, self.act_rescore, self.act_models]
        for a in self.project_actions:
            a.setEnabled(False)

    def _build_menus(self) -> None:
        mb = self.menuBar()
        f = mb.addMenu("&File")
        for a in (self.act_new, self.act_open):
            f.addAction(a)
        self.recent_menu = f.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        f.addSeparator()
        f.addAction(self.act_import)
        f.addAction(self.act_export)
        f.addSeparator()
        f.addAction(self.act_close)
        f.addAction(self.act_quit)
        e = mb.addMenu("&Edit")
        e.addAction(self.act_undo)
        e.addAction(self.act_redo)
        r = mb.addMenu("&Review")
        for a in (self.act_accept, self.act_correct, self.act_skip, self.act_flag):
            r.addAction(a)
        pick = r.addMenu("Pick proposal")
        for k in range(1, 6):
            pick.addAction(self._act(f"Proposal {k}\t{k}", lambda k=k: self.pick(k)))
        r.addSeparator()
        r.addAction(self.act_next)
        r.addAction(self.act_prev)
        r.addAction(self.act_auto_advance)
        r.addSeparator()
        r.addAction(self.act_auto)
        m = mb.addMenu("&Model")
        for a in (self.act_train, self.act_cancel_train, self.act_rescore, self.act_models):
            m.addAction(a)
        self.method_menu = m.addMenu("Acquisition method")
        self.method_group = QActionGroup(self)
        v = mb.addMenu("&View")
        for a in (self.act_fit, self.act_zoom_in, self.act_zoom_out, self.act_overlay):
            v.addAction(a)
        v.addSeparator()
        for d in (self.queue_dock, self.answer_dock, self.similar_dock, self.insights_dock, self.training_dock,
                  self.changes_dock):
            v.addAction(d.toggleViewAction())
        h = mb.addMenu("&Help")
        h.addAction(self.act_keys)
        h.addAction(self.act_about)

    # --- settings and layout ---------------------------------------------------------------------------
    def _restore_layout(self) -> None:
        geo = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        if isinstance(geo, (QByteArray, bytes)):
            self.restoreGeometry(QByteArray(geo))
        if isinstance(state, (QByteArray, bytes)):
            self._layout_restored = self.restoreState(QByteArray(state))
        op = self.settings.value("view/overlay_opacity", None)
        if op is not None:
            self.image_page.opacity.setValue(int(op))

    def default_layout(self) -> None:
        """Dock sizes for a first start (a saved layout replaces them)."""
        w, h = max(self.width(), 1000), max(self.height(), 700)
        self.resizeDocks([self.queue_dock, self.answer_dock], [int(w * 0.37), int(w * 0.26)], Qt.Horizontal)
        self.resizeDocks([self.answer_dock, self.similar_dock], [int(h * 0.56), int(h * 0.19)], Qt.Vertical)
        self.resizeDocks([self.insights_dock], [int(h * 0.24)], Qt.Vertical)

    def _allow_plots_later(self) -> None:
        if not self._plots_allowed:
            self._allow_plots()

    def _allow_plots(self) -> None:
        self.insights_panel.allow_build()
        self.training_panel.allow_build()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        QTimer.singleShot(2500, self, self._allow_plots_later)  # no project: soon anyway
        if not self._layout_restored:
            self._layout_restored = True
            QTimer.singleShot(0, self, self.default_layout)

    def _save_layout(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("view/overlay_opacity", self.image_page.opacity.value())
        self.settings.setValue("review/auto_advance", self.act_auto_advance.isChecked())
        self.settings.sync()

    def recent_projects(self) -> list[str]:
        v = self.settings.value("recent/projects", [])
        if isinstance(v, str):
            v = [v]
        return [str(x) for x in (v or [])]

    def _remember_recent(self, folder: Path) -> None:
        items = [str(folder)] + [p for p in self.recent_projects() if p != str(folder)]
        self.settings.setValue("recent/projects", items[:MAX_RECENT])
        self.settings.setValue("recent/last", str(folder))

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        items = self.recent_projects()
        if not items:
            a = self.recent_menu.addAction("(none yet)")
            a.setEnabled(False)
        for p in items:
            self.recent_menu.addAction(p, lambda p=p: self.open_project(p))

    # --- projects ------------------------------------------------------------------------------
    def new_project_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for the new project")
        if not folder:
            return
        name, ok = QInputDialog.getText(self, "New project", "Project name:", text=Path(folder).name)
        if not ok:
            return
        self.create_project(folder, name or None)

    def create_project(self, folder: str | Path, name: str | None = None) -> bool:
        from ..core.project import Project

        try:
            project = Project.create(folder, name=name)
        except VQAStudioError as exc:
            show_error(self, "Cannot create the project", str(exc))
            return False
        return self.set_project(project)

    def open_project_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a VQA Studio project")
        if folder:
            self.open_project(folder)

    def open_project(self, folder: str | Path) -> bool:
        from ..core.project import Project

        try:
            project = Project.open(folder)
        except VQAStudioError as exc:
            show_error(self, "Cannot open the project", str(exc))
            return False
        except Exception as exc:  # noqa: BLE001 - a damaged database etc.: say so, keep running
            show_error(self, "Cannot open the project", f"{folder}: {type(exc).__name__}: {exc}")
            return False
        return self.set_project(project)

    def set_project(self, project) -> bool:
        self.close_project()
        self.project = project
        self.setWindowTitle(f"{APP_NAME} — {project.name}")
        self._remember_recent(project.folder)
        self.model = QueueModel(project, self.images, self.bg, self)
        self.controller = ReviewController(project, self.model, self.images, self.bg, self.writer, self.undo_stack, self)
        self.controller.auto_advance = self.act_auto_advance.isChecked()
        self.controller.current_changed.connect(self._show_details)
        self.controller.written.connect(self._written)
        self.controller.failed.connect(lambda msg: self._notify(msg, error=True))
        self.controller.notice.connect(self._notify)
        self.controller.queue_done.connect(
            lambda: self._notify("Nothing left to review in this view. Change the filter, or train on the new labels."))
        dock = QueueDock(self.model)
        dock.table.selectionModel().currentRowChanged.connect(self._table_row_changed)
        dock.query_changed.connect(self._query_changed)
        old = self.queue_dock.widget()
        dock.setAutoFillBackground(True)
        self.queue_dock.setWidget(dock)
        old.deleteLater()
        self.queue_dock_widget = dock
        self.model.loaded.connect(self._queue_loaded)
        self.model.extended.connect(self._queue_loaded)
        self.model.load_failed.connect(lambda msg: self._notify(f"cannot read the queue: {msg}", error=True))
        for a in self.project_actions:
            a.setEnabled(True)
        self._update_model_label()
        self.model.reload()
        self._load_project_info()
        if self.insights_panel.isVisible() or self.training_panel.isVisible():
            from .widgets.panels import import_pyqtgraph

            import_pyqtgraph()  # while the first rows are read in the background
        self.project_opened.emit(project)
        self.focus_review()
        return True

    def close_project(self) -> None:
        if self.project is None:
            return
        self._stop_jobs()
        if self.controller is not None:
            self.controller.wait_for_writes(30)
        self.bg.wait_idle(10)
        QApplication.processEvents()  # deliver what the writer finished
        self.undo_stack.clear()
        self.cloud_page.clear()
        if self.controller is not None:
            self.controller.current_changed.disconnect(self._show_details)
            self.controller.deleteLater()
        self.controller = None
        self.model = None
        placeholder = QLabel("")
        old = self.queue_dock.widget()
        placeholder.setAutoFillBackground(True)
        self.queue_dock.setWidget(placeholder)
        old.deleteLater()
        self.queue_dock_widget = None
        self.project.close()
        self.project = None
        self.fused_index = None
        self.setWindowTitle(APP_NAME)
        for a in self.project_actions:
            a.setEnabled(False)
        self.stack.setCurrentWidget(self.empty_page)
        self.answer_panel.show_details(None)
        self.similar_panel.set_message("")

    def _load_project_info(self) -> None:
        """Filters, methods, versions, vocabulary, fused index: read in the background."""
        from ..core import insights

        project = self.project

        def work():
            version = project.active_model
            methods = insights.scored_methods(project, version) if version else []
            info = {
                "version": version, "methods": methods, "acquisition": project.acquisition,
                "splits": project.splits(), "qtypes": project.question_types(),
                "atypes": _answer_types(project), "versions": [m.version for m in project.models()],
                "model_answers": insights.model_answers(project, version),
            }
            info["vocabulary"] = insights.answer_vocabulary(project, version)
            return info

        self.bg.submit(work, on_done=lambda info: self._project_info(project, info),
                       on_error=lambda e: self._notify(f"cannot read the project's details: {e}", error=True))
        self.bg.submit(insights.load_fused_index, project, on_done=lambda idx: self._fused_loaded(project, idx),
                       on_error=lambda e: self._notify(f"similar items unavailable: {e}"))
        self._refresh_counts()

    def _project_info(self, project, info: dict) -> None:
        if project is not self.project or self.queue_dock_widget is None:
            return
        from ..core.data.vocab import normalize_answer

        methods = info["methods"] or [info["acquisition"]]
        self.queue_dock_widget.set_options(methods, self.model.order_by or info["acquisition"], info["splits"],
                                           info["qtypes"], info["atypes"], info["versions"])
        self.answer_panel.set_model_answers(info["model_answers"])
        self.answer_panel.set_vocabulary(info["vocabulary"])
        self.vocabulary = {normalize_answer(a) for a in info["vocabulary"]}
        self._fill_methods(methods, self.model.order_by)
        if self.controller and self.controller.current is not None:
            self.answer_panel.show_details(self.controller.current)

    def _fill_methods(self, methods, current) -> None:
        self.method_menu.clear()
        for a in self.method_group.actions():
            self.method_group.removeAction(a)
        for m in methods:
            a = self.method_menu.addAction(m.replace("_", " "))
            a.setCheckable(True)
            a.setChecked(m == current)
            self.method_group.addAction(a)
            a.triggered.connect(lambda _c=False, m=m: self.set_acquisition(m))

    def set_acquisition(self, method: str) -> None:
        if self.project is None or self.queue_dock_widget is None:
            return
        self.project.set_setting("acquisition", method)
        i = self.queue_dock_widget.sort.findData(method)
        if i >= 0:
            self.queue_dock_widget.sort.setCurrentIndex(i)

    def _fused_loaded(self, project, index) -> None:
        if project is not self.project:
            return
        self.fused_index = index
        self._request_similar()

    # --- queue and current item -------------------------------------------------------------------
    def _query_changed(self, query: QueueQuery) -> None:
        if self.model is None or self.controller is None:
            return
        self.controller.advance_statuses = query.filters.statuses or TO_REVIEW
        self.answer_panel.order_by = query.order_by or self.model.order_by
        self.model.set_query(query)

    def _queue_loaded(self) -> None:
        if self.queue_dock_widget is not None:
            self.queue_dock_widget._update_count()
        self._update_progress()

    def _table_row_changed(self, current, _previous) -> None:
        if self._selecting or self.controller is None or not current.isValid():
            return
        if current.row() != self.controller.current_row:
            self.controller.go_to_row(current.row())

    def _select_row(self, row: int) -> None:
        dock = self.queue_dock_widget
        if dock is None or row < 0:
            return
        self._selecting = True
        try:
            table = dock.table
            # scroll only when the row leaves the view, and then put it near the top: the next
            # items are then already visible and need no scrolling (a scroll repaints the table)
            sb = table.verticalScrollBar()
            h = table.verticalHeader().defaultSectionSize()
            y = table.rowViewportPosition(row)
            if y < 0 or y > table.viewport().height() - h:
                sb.setValue(max(0, (row - 1) * h))  # out of view: bring it in near the top
            sel = table.selectionModel()
            sel.setCurrentIndex(self.model.index(row, 1), sel.SelectionFlag.ClearAndSelect | sel.SelectionFlag.Rows)
            self._scroll_timer.start()
        finally:
            self._selecting = False

    def _scroll_ahead(self) -> None:
        """Between two items (not while one is being shown): when the current row nears the bottom
        of the queue view, scroll it up to the top, so the next items are already in view."""
        dock, c = self.queue_dock_widget, self.controller
        if dock is None or c is None or c.current_row < 0:
            return
        table = dock.table
        h = table.verticalHeader().defaultSectionSize()
        y = table.rowViewportPosition(c.current_row)
        if y > table.viewport().height() - 3 * h:
            table.verticalScrollBar().setValue(max(0, (c.current_row - 1) * h))

    def _show_details(self, d) -> None:
        self.answer_panel.order_by = self.model.order_by if self.model else self.answer_panel.order_by
        self.answer_panel.show_details(d)
        if d is None:
            self.stack.setCurrentWidget(self.empty_page)
            self._set_empty_text("Nothing to review in this view.")
            self.similar_panel.set_message("")
            self.item_shown.emit(None)
            return
        if self.controller is not None and self.controller.current_row >= 0:
            self._select_row(self.controller.current_row)
        kind = d.item.kind.value
        page = self._media_views.get(kind, self.cloud_page)
        if page is self.image_page:
            self._show_image(d)
        elif hasattr(page, "show_item"):
            page.show_item(d)
        focus = QApplication.focusWidget()
        refocus = focus is None or focus is self.empty_page or (self.stack.isAncestorOf(focus) and not page.isAncestorOf(focus)
                                                             and focus is not page)
        self.stack.setCurrentWidget(page)
        if refocus:
            page.setFocus(Qt.OtherFocusReason)
        self._update_progress()
        self._similar_timer.start()  # secondary: once the annotator stays on the item a moment
        if not self._plots_allowed:
            self._plots_allowed = True  # the first item is up: the plots may be built now
            QTimer.singleShot(300, self, self._allow_plots)
        self.item_shown.emit(d)

    def _show_image(self, d) -> None:
        page = self.image_page
        item = d.item
        size = f"{item.width}×{item.height}" if item.width else ""
        page.caption.setText(f"{Path(d.media_path).name}   {size}   · split {item.split}")
        img = self.images.image(d.media_path)
        if img is not None:
            page.view.set_image(img)
        else:
            err = self.images.error(d.media_path)
            page.view.set_image(None, f"cannot show this image: {err}" if err else "loading…")
        att = d.prediction.attention if d.prediction is not None else None
        page.set_attention(att, d.overlays)
        g = page.view.glimpse
        if g < len(d.peaks) and d.peaks[g] is not None:
            page.caption.setText(page.caption.text() + f"   · attention peak {d.peaks[g]:.2f}× uniform")

    def _image_arrived(self, path: str) -> None:
        c = self.controller
        if c is None or c.current is None or c.current.media_path != path:
            return
        if self.stack.currentWidget() is self.image_page:
            self._show_image(c.current)
            self.item_shown.emit(c.current)

    def current_image_ready(self) -> bool:
        c = self.controller
        return c is not None and c.current is not None and self.images.has_image(c.current.media_path)

    def _update_progress(self) -> None:
        if self.model is None or self.controller is None:
            self.progress_label.setText("")
            return
        n = self.model.rowCount()
        r = self.controller.current_row
        self.progress_label.setText(f"item {r + 1:,} of {n:,}" if r >= 0 else f"{n:,} in view")

    def _request_similar(self) -> None:
        c = self.controller
        if c is None or c.current is None:
            return
        if self.fused_index is None:
            v = self.project.active_model if self.project else None
            self.similar_panel.set_message(
                f"No embeddings saved for model {v} yet (they are written when a model scores the pool)." if v
                else "Similar items need a trained model.")
            return
        from ..core.insights import similar_items

        self._similar_token += 1
        token, qid, project, index = self._similar_token, c.current.question.id, self.project, self.fused_index
        self.bg.submit(similar_items, project, qid, index, 8,
                       on_done=lambda found: self._similar_done(token, found),
                       on_error=lambda e: self.similar_panel.set_message(f"similar items unavailable: {e}"))

    def _similar_done(self, token: int, found) -> None:
        if token == self._similar_token and self.project is not None:
            self.similar_panel.set_items(found, self.project.media_path)

    def _open_question(self, qid: int) -> None:
        if self.controller is not None:
            self.controller.go_to_question(qid)
            self.focus_review()

    def _written(self, correction, op: str) -> None:
        if op == "do":
            self.session_reviews += 1
        if self.fused_index is not None:
            self.fused_index.set_candidates([correction.question_id],
                                            correction.after_status in (Status.ACCEPTED, Status.CORRECTED, Status.LABELLED)
                                            and correction.after_answer is not None)
        if correction.after_answer:
            from ..core.data.vocab import normalize_answer

            key = normalize_answer(correction.after_answer)
            if key and key not in self.vocabulary:
                self.vocabulary.add(key)
                m = self.answer_panel._completion_model
                m.setStringList(m.stringList() + [correction.after_answer])
        self._counts_timer.start()

    def _refresh_counts(self) -> None:
        if self.project is None:
            return
        from ..core.types import QueueFilter

        project = self.project
        self.bg.submit(lambda: (project.queue_count(QueueFilter(statuses=list(TO_REVIEW))), project.queue_count()),
                       on_done=lambda res: self._counts(project, res))

    def _counts(self, project, res) -> None:
        if project is not self.project:
            return
        todo, total = res
        extra = f" · {self.session_reviews:,} reviewed this session" if self.session_reviews else ""
        self.counts_label.setText(f"{todo:,} of {total:,} to review{extra}")

    def _update_model_label(self) -> None:
        v = self.project.active_model if self.project else None
        self.model_label.setText(f"  model {v}  " if v else "  no model yet  ")

    # --- review (keyboard first) --------------------------------------------------------------------
    def focus_review(self) -> None:
        w = self.stack.currentWidget()
        (w if w is not None else self).setFocus(Qt.OtherFocusReason)

    def accept(self) -> None:
        if self.controller is not None:
            self.controller.accept()

    def pick(self, k: int) -> None:
        if self.controller is not None:
            self.controller.pick(k)

    def skip(self) -> None:
        if self.controller is not None:
            self.controller.skip()

    def next_item(self) -> None:
        if self.controller is not None:
            self.controller.next()

    def previous_item(self) -> None:
        if self.controller is not None:
            self.controller.previous()

    def start_correction(self, text: str = "") -> None:
        if self.controller is None or self.controller.current is None:
            return
        self.answer_panel.start_correction(text)

    def _submit_correction(self, text: str) -> None:
        from ..core.data.vocab import normalize_answer

        if self.controller is None or self.controller.current is None:
            return
        if normalize_answer(text) in self.vocabulary or not self.vocabulary:
            self._commit_correction(text)
            return
        box = QMessageBox(QMessageBox.Question, "New answer",
                          f"“{text}” is not an answer the project has seen yet.\nAdd it as a new answer?",
                          QMessageBox.Yes | QMessageBox.No, self)
        box.setDefaultButton(QMessageBox.Yes)
        box.button(QMessageBox.Yes).setText("Add new answer")
        box.button(QMessageBox.No).setText("Keep editing")
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.finished.connect(lambda r: self._new_answer_answered(r, text))
        self.confirm_box = box
        box.open()

    def _new_answer_answered(self, result: int, text: str) -> None:
        self.confirm_box = None
        if result == QMessageBox.Yes:
            self._commit_correction(text)
        else:
            self.answer_panel.correction.setFocus()

    def _commit_correction(self, text: str) -> None:
        corr = self.answer_panel.correction
        if corr.completer() is not None:
            corr.completer().popup().hide()
        corr.clear()
        self.focus_review()
        self.controller.correct(text)

    def flag_dialog(self) -> None:
        if self.controller is None or self.controller.current is None:
            return
        dlg = NoteDialog(self.controller.current.question.text, self)
        dlg.setAttribute(Qt.WA_DeleteOnClose)
        qid = self.controller.current.question.id
        dlg.accepted.connect(lambda: self._flag(qid, dlg.note.text()))
        dlg.finished.connect(lambda _r: (setattr(self, "note_dialog", None), self.focus_review()))
        self.note_dialog = dlg
        dlg.open()

    def _flag(self, qid: int, note: str) -> None:
        if self.controller is None:
            return
        if self.controller.current_qid != qid:
            self.controller.go_to_question(qid)
        self.controller.flag(note)

    def _auto_advance_toggled(self, on: bool) -> None:
        if self.controller is not None:
            self.controller.auto_advance = on

    def _install_review_keys(self) -> None:
        """The review's keys as window shortcuts (matched by Qt, no Python per key event). They are
        off while a text box has the focus, so typing there (and its Enter) stays with it."""
        self.review_shortcuts: list[QShortcut] = []

        def sc(seq, fn, repeat: bool = False) -> None:
            s = QShortcut(QKeySequence(seq), self)
            s.setContext(Qt.WindowShortcut)
            s.setAutoRepeat(repeat)
            s.activated.connect(fn)
            self.review_shortcuts.append(s)

        sc(Qt.Key_Return, self.accept)
        sc(Qt.Key_Enter, self.accept)
        for k in range(1, 6):
            sc(str(k), lambda k=k: self.pick(k))
        sc("S", self.skip)
        sc("F", self.flag_dialog)
        for key in ("N", "J"):
            sc(key, self.next_item, repeat=True)
        for key in ("P", "K"):
            sc(key, self.previous_item, repeat=True)
        sc(Qt.Key_Space, self.image_page.toggle_overlay)
        sc("]", lambda: self.image_page.step_glimpse(1), repeat=True)
        sc("[", lambda: self.image_page.step_glimpse(-1), repeat=True)
        sc("/", lambda: self.start_correction(""))
        sc("F2", lambda: self.start_correction(""))
        sc(Qt.Key_Escape, self.focus_review)
        # typing any other letter or digit starts a correction with it (Shift gives the capital)
        reserved = set("SFNJPK")
        for ch in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
            if ch not in reserved:
                sc(ch, lambda ch=ch: self.start_correction(ch.lower()))
            sc(f"Shift+{ch}", lambda ch=ch: self.start_correction(ch))
        for ch in "06789":
            sc(ch, lambda ch=ch: self.start_correction(ch))
        QApplication.instance().focusChanged.connect(self._focus_changed)

    def _focus_changed(self, _old, new) -> None:
        on = not _is_text_input(new)
        if self.review_shortcuts and self.review_shortcuts[0].isEnabled() != on:
            for s in self.review_shortcuts:
                s.setEnabled(on)

    # --- jobs: training and scoring ---------------------------------------------------------------------
    def train_dialog(self) -> None:
        if self.project is None:
            return
        if self.train_runner is not None and self.train_runner.running:
            self._notify("a training job is already running")
            return
        from .dialogs.train import TrainDialog

        dlg = TrainDialog(self.project.active_model is not None, parent=self, probe=self.device_probe)
        dlg.setAttribute(Qt.WA_DeleteOnClose)
        dlg.accepted.connect(lambda: self.start_training(dlg.params()))
        self.train_dialog_widget = dlg
        dlg.open()

    def start_training(self, params: dict[str, Any]) -> JobRunner | None:
        from ..core.train.jobs import TRAIN, Job

        if self.project is None or (self.train_runner is not None and self.train_runner.running):
            return None
        self._previous_version = self.project.active_model
        self._train_epochs = int(params.get("epochs", 1))
        job = Job(TRAIN, self.project.folder, params, threads=params.pop("threads", None) or _job_threads())
        runner = JobRunner(job, self.bg, parent=self)
        runner.progress.connect(self._train_progress)
        runner.finished.connect(self._train_finished)
        self.train_runner = runner
        self.training_panel.started(f"Training ({params.get('mode', 'full')}, {self._train_epochs} epochs)",
                                    self._train_epochs)
        self.training_dock.raise_()
        self.training_panel.allow_build()
        self.job_label.setText("training")
        self.job_bar.setVisible(True)
        self.job_bar.setRange(0, 0)
        self.job_cancel.setVisible(True)
        self.act_cancel_train.setEnabled(True)
        self.act_train.setEnabled(False)
        try:
            runner.start()
        except Exception as exc:  # noqa: BLE001
            self._train_finished_ui()
            self.train_runner = None
            show_error(self, "Training could not start", str(exc))
            return None
        return runner

    def _train_progress(self, p) -> None:
        self.training_panel.progress(p)
        if p.total:
            self.job_bar.setRange(0, p.total)
            self.job_bar.setValue(min(p.done, p.total))
        else:
            self.job_bar.setRange(0, 0)
        self.job_label.setText(f"training: {p.stage}")

    def _train_finished_ui(self) -> None:
        self.job_bar.setVisible(False)
        self.job_cancel.setVisible(False)
        self.job_label.setText("")
        self.act_cancel_train.setEnabled(False)
        self.act_train.setEnabled(self.project is not None)

    def _train_finished(self, job) -> None:
        self._train_finished_ui()
        if job.state == "done":
            version = job.result.get("version")
            self.training_panel.ended(f"Model {version} registered and active")
            self._notify(f"model {version} trained, registered and made active; the pool was re-scored")
            self.model_changed(version, previous=self._previous_version)
        elif job.state == "cancelled":
            self.training_panel.ended("Training cancelled — the registry is as it was")
            self._notify("training cancelled; nothing was registered")
        else:
            self.training_panel.ended("Training failed — the registry is as it was")
            show_error(self, "Training failed", job.error or "the training process failed", job.traceback)
        self.job_finished.emit("train", job)

    def cancel_training(self) -> None:
        if self.train_runner is not None and self.train_runner.running:
            self.train_runner.cancel()
            self.training_panel.cancel.setEnabled(False)
            self.job_label.setText("cancelling…")

    def rescore(self) -> JobRunner | None:
        from ..core.train.jobs import SCORE, Job

        if self.project is None or not self.project.active_model:
            self._notify("no model to score with: train one first")
            return None
        if self.score_runner is not None and self.score_runner.running:
            self._notify("the pool is already being scored")
            return None
        job = Job(SCORE, self.project.folder, {"version": self.project.active_model}, threads=_job_threads())
        runner = JobRunner(job, self.bg, parent=self)
        runner.progress.connect(lambda p: self._notify(f"scoring: {p.message}", timeout=2000))
        runner.finished.connect(self._score_finished)
        self.score_runner = runner
        runner.start()
        self._notify("re-scoring the pool in the background…")
        return runner

    def _score_finished(self, job) -> None:
        if job.state == "done":
            self._notify(f"the pool was re-scored with model {job.result.get('version')}")
            self.model_changed(self.project.active_model if self.project else None)
        elif job.state == "error":
            show_error(self, "Scoring failed", job.error, job.traceback)
        self.job_finished.emit("score", job)

    def _stop_jobs(self) -> None:
        for runner in (self.train_runner, self.score_runner):
            if runner is not None:
                runner.stop()
                runner.deleteLater()  # and with it the job's queue and event (OS semaphores)
        self.train_runner = self.score_runner = None
        self._train_finished_ui()

    def model_changed(self, version: str | None, previous: str | None = None) -> None:
        """After training, activation or re-scoring: reload what depends on the model."""
        if self.project is None or self.controller is None:
            return
        version = version or self.project.active_model
        self.controller.set_version(version)
        self._update_model_label()
        self.fused_index = None
        self.model.reload()
        self._load_project_info()
        self.refresh_insights()
        from ..core import insights

        project = self.project
        prev = previous if previous is not None else None

        def changes():
            old = prev or insights.previous_version(project, version)
            return old, version, (insights.changed_answers(project, old, version) if old and version else [])

        self.bg.submit(changes, on_done=lambda res: self._changes_done(project, res))

    def _changes_done(self, project, res) -> None:
        if project is not self.project:
            return
        old, new, changes = res
        self.changes_panel.set_changes(old, new, changes)
        if old and new:
            self.changes_dock.setWindowTitle(f"Answer changes {old} → {new} ({len(changes):,})")

    # --- insights ------------------------------------------------------------------------------------
    def refresh_insights(self) -> None:
        if self.project is None:
            return
        from ..core import insights

        project = self.project
        method = self.model.order_by if self.model else None
        self._insights_token += 1
        token = self._insights_token

        def work():
            models = project.models()
            active = next((m for m in models if m.active), None)
            return {
                "histogram": insights.score_histogram(project, method=method),
                "versions": insights.accuracy_per_version(models),
                "answer_types": insights.accuracy_by_answer_type(active),
                "reliability": insights.reliability(active),
                "note": "" if active else "No model yet: Model ▸ Train / fine-tune…",
            }

        self.bg.submit(work, on_done=lambda d: token == self._insights_token and self.insights_panel.show_data(d))

    # --- dialogs -----------------------------------------------------------------------------------
    def models_dialog(self) -> None:
        if self.project is None:
            return
        from .dialogs.models import ModelsDialog

        dlg = ModelsDialog(self.project, self)
        dlg.setAttribute(Qt.WA_DeleteOnClose)
        dlg.activated.connect(lambda v: self.model_changed(v))
        self.models_dialog_widget = dlg
        dlg.open()

    def auto_accept_dialog(self) -> None:
        if self.project is None:
            return
        from .dialogs.auto_accept import AutoAcceptDialog

        dlg = AutoAcceptDialog(self.project, self.bg, self)
        dlg.setAttribute(Qt.WA_DeleteOnClose)
        dlg.applied.connect(lambda res: (self.model.reload(), self._refresh_counts(), self._notify(res.summary())))
        self.auto_accept_widget = dlg
        dlg.open()

    def import_dialog(self):
        if self.project is None:
            return None
        from .dialogs.import_export import ImportDialog

        dlg = ImportDialog(self.project, self)
        dlg.setAttribute(Qt.WA_DeleteOnClose)
        dlg.imported.connect(lambda rep: (self.model.reload(), self._load_project_info(), self._notify(rep.summary())))
        self.import_dialog_widget = dlg
        dlg.open()
        return dlg

    def export_dialog(self):
        if self.project is None:
            return None
        from .dialogs.import_export import ExportDialog

        dlg = ExportDialog(self.project, self)
        dlg.setAttribute(Qt.WA_DeleteOnClose)
        self.export_dialog_widget = dlg
        dlg.open()
        return dlg

    def show_keys(self) -> None:
        rows = "".join(f"<tr><td><b>{k}</b>&nbsp;&nbsp;</td><td>{w}</td></tr>" for k, w in [
            ("Enter", "accept the model's top proposal"), ("1 – 5", "pick proposal 1 to 5"),
            ("any other letter or digit", "start a correction (with completion); / or F2 starts an empty one"),
            ("S", "skip (defer)"), ("F", "flag as a bad question / outlier, with a note"),
            ("N or J / P or K", "next / previous item"), ("Space", "attention overlay on/off"),
            ("[ and ]", "previous / next attention glimpse"), ("Ctrl+0, Ctrl +/-", "fit, zoom (or the wheel)"),
            ("Ctrl+Z / Ctrl+Shift+Z", "undo / redo"), ("Esc", "leave the correction box")])
        box = QMessageBox(QMessageBox.Information, "Keyboard", f"<table>{rows}</table>", QMessageBox.Ok, self)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.open()

    def show_about(self) -> None:
        from .. import __version__

        QMessageBox.about(self, "About VQA Studio",
                          f"<b>VQA Studio {__version__}</b><br>A workbench for Visual Question Answering data.")

    # --- messages --------------------------------------------------------------------------------------
    def _notify(self, text: str, error: bool = False, timeout: int = 6000) -> None:
        sb = self.statusBar()
        sb.setStyleSheet(f"QStatusBar {{ color: {COLORS['bad']}; }}" if error else "")
        sb.showMessage(text, timeout if not error else 12000)

    # --- closing -----------------------------------------------------------------------------------
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


def _job_threads() -> int:
    """Threads for a training / scoring process: every core but one, which stays with the GUI."""
    import os

    return max(1, (os.cpu_count() or 2) - 1)


def _answer_types(project) -> list[str]:
    from ..core.store import repository as repo
    from ..core.store import schema as s

    with project.engine.connect() as conn:
        return sorted(repo.count_by(conn, s.questions.c.answer_type))
