"""The project session: new, open, recent, close, and what is read about the project when it opens
(filters, methods, versions, vocabulary, the fused index, the counts)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog, QLabel

from ...core.errors import VQAStudioError
from ..dialogs.common import show_error
from ..imaging import attention_lut
from ..review import ReviewController
from ..widgets.queue_dock import QueueDock
from ..widgets.queue_model import TO_REVIEW, QueueModel
from . import APP_NAME, window_title

MAX_RECENT = 8


class SessionMixin:
    """Holds ``project`` (None when none is open) with its ``model`` (the queue), ``controller`` (the
    review session) and ``queue_dock_widget``; remembers recent projects in ``settings``."""

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

    # --- projects -------------------------------------------------------------------------------------
    def new_project_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for the new project")
        if not folder:
            return
        name, ok = QInputDialog.getText(self, "New project", "Project name:", text=Path(folder).name)
        if not ok:
            return
        self.create_project(folder, name or None)

    def create_project(self, folder: str | Path, name: str | None = None) -> bool:
        from ...core.project import Project

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
        from ...core.project import Project

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
        self.setWindowTitle(window_title(project.name))
        self._remember_recent(project.folder)
        self.model = QueueModel(project, self.images, self.bg, self)
        self._make_controller(project)
        self._make_queue_dock()
        for a in self.project_actions:
            a.setEnabled(True)
        self._update_model_label()
        self.model.reload()
        self._load_project_info()
        # pyqtgraph (for the plots and the overlays' colour map) while the first rows are read in the
        # background; on the GUI thread, as its import is not thread-safe
        attention_lut()
        self.project_opened.emit(project)
        self.focus_review()
        return True

    def _make_controller(self, project) -> None:
        self.controller = ReviewController(project, self.model, self.images, self.bg, self.writer, self.undo_stack, self)
        self.controller.auto_advance = self.act_auto_advance.isChecked()
        self.controller.current_changed.connect(self._show_details)
        self.controller.written.connect(self._written)
        self.controller.failed.connect(lambda msg: self._notify(msg, error=True))
        self.controller.notice.connect(self._notify)
        self.controller.queue_done.connect(
            lambda: self._notify("Nothing left to review in this view. Change the filter, or train on the new labels."))

    def _make_queue_dock(self) -> None:
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

    def close_project(self) -> None:
        if self.project is None:
            return
        self._stop_jobs()
        if self.controller is not None:
            self.controller.close_claims(30)  # releases the team claims, waits for the writes
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
        from ...core import insights
        from ...core.uncertainty.acquisition import sort_methods

        project = self.project

        def work():
            version = project.active_model
            scored = insights.scored_methods(project, version) if version else []
            # every registered acquisition function (a plugin's too), then what else the model scored
            methods = sort_methods([*scored, project.acquisition])
            info = {
                "version": version, "methods": methods, "acquisition": project.acquisition,
                "splits": project.splits(), "qtypes": project.question_types(),
                "atypes": project.answer_types(), "versions": [m.version for m in project.models()],
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
        from ...core.data.vocab import normalize_answer

        methods = info["methods"]
        self.queue_dock_widget.set_options(methods, self.model.order_by or info["acquisition"], info["splits"],
                                           info["qtypes"], info["atypes"], info["versions"])
        self.answer_panel.set_model_answers(info["model_answers"])
        self.answer_panel.set_vocabulary(info["vocabulary"])
        self.vocabulary = {normalize_answer(a) for a in info["vocabulary"]}
        self._fill_methods(methods, self.model.order_by)
        if self.controller and self.controller.current is not None:
            self.answer_panel.show_details(self.controller.current)

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

    def _refresh_counts(self) -> None:
        if self.project is None:
            return
        from ...core.types import QueueFilter

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
