"""The window's layout: the centre (a page per media kind, the review keys' hint bar), the docks,
the status bar, and the layout kept in the settings."""
from __future__ import annotations

import logging

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QSizePolicy,
    QStackedWidget,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...core.types import ItemKind
from ..style import COLORS
from ..views.image_view import ImagePage
from ..widgets.answer_panel import AnswerPanel
from ..widgets.panels import ChangesPanel, InsightsPanel, SimilarPanel, TrainingPanel
from ..widgets.stable import StableLabel
from . import APP_NAME
from .gl_surface import reserve_gl_surface
from .media_pages import Cloud3DPage, add_medium_pages
from .review_keys import EDITOR_KEYS_HELP, REVIEW_KEYS_HELP


class LayoutMixin:
    """Builds and keeps the window's widgets: ``stack`` (the centre's pages), the panels and their
    docks, the status bar's labels; saves and restores the layout with ``settings``."""

    def _build_centre(self) -> None:
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
        add_medium_pages(self)  # the pages of media plugins add (a story view...)
        self.hint_bar = self._make_hint_bar()
        self.stack.currentChanged.connect(lambda _i: self.editor_hints.setVisible(
            self.stack.currentWidget() is self.cloud_page and self.cloud_page.view is not None))
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
        # before the window is first shown: the 3D editor, built later, must not make Qt replace the
        # window's native window (which loses the keyboard focus; see gl_surface)
        self.gl_surface_keeper = reserve_gl_surface(self)

    def _build_docks(self) -> None:
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

    def _build_status_bar(self) -> None:
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
        # on point-cloud items: which keys the 3D editor takes, and when (see views/cloud_input.py)
        self.editor_hints = QLabel(
            f"<span style='color:{COLORS['muted']}'>3D editor: </span>"
            + "&nbsp;&nbsp; ".join(f"<span style=\"{kbd}\">&nbsp;{k}&nbsp;</span>&nbsp;<span style='color:{COLORS['muted']}'>{w}</span>"
                                   for k, w in EDITOR_KEYS_HELP))
        self.editor_hints.setObjectName("editorHints")
        self.editor_hints.setTextFormat(Qt.RichText)
        self.editor_hints.setWordWrap(True)
        self.editor_hints.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.editor_hints.setVisible(False)
        self.progress_label = StableLabel("", width=150)
        self.progress_label.setObjectName("muted")
        self.progress_label.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        lay = QHBoxLayout(bar)
        lay.setContentsMargins(10, 5, 10, 5)
        lay.setSpacing(8)
        keys = QVBoxLayout()
        keys.setSpacing(3)
        keys.addWidget(self.hints)
        keys.addWidget(self.editor_hints)
        lay.addLayout(keys, 1)
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

    # --- settings and layout --------------------------------------------------------------------------
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
        self.resizeDocks([self.queue_dock, self.answer_dock], [int(w * 0.40), int(w * 0.25)], Qt.Horizontal)
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

    # --- messages -------------------------------------------------------------------------------------
    def _notify(self, text: str, error: bool = False, timeout: int = 6000) -> None:
        if error:
            logging.getLogger("vqa_studio.gui").warning(text)
        sb = self.statusBar()
        sb.setStyleSheet(f"QStatusBar {{ color: {COLORS['bad']}; }}" if error else "")
        sb.showMessage(text, timeout if not error else 12000)
