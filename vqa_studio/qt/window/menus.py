"""The window's actions and menus, and the dialogs they open."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMessageBox

from ..style import icon


class MenusMixin:
    """``act_*`` actions (those in ``project_actions`` are enabled while a project is open), the menu
    bar, the acquisition-method menu, and the dialogs: models, auto-accept, import, export, keys."""

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
        self._build_team_actions()
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
        # review actions: their keys are window shortcuts (see review_keys); the text shows them
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
        self.act_mc_samples = self._act("Samples per question for re-scoring…", self.mc_samples_dialog)
        self.act_models = self._act("&Models…", self.models_dialog, "Ctrl+M")
        self.act_fit = self._act("Fit image", lambda: self.image_page.view.fit(), "Ctrl+0", icon_name="fit")
        self.act_zoom_in = self._act("Zoom in", lambda: self.image_page.view.zoom(1.25), QKeySequence.ZoomIn)
        self.act_zoom_out = self._act("Zoom out", lambda: self.image_page.view.zoom(0.8), QKeySequence.ZoomOut)
        self.act_overlay = self._act("Attention overlay on/off\tSpace", self.image_page.toggle_overlay, icon_name="heat")
        self.act_keys = self._act("Keyboard shortcuts", self.show_keys, "F1")
        self.act_about = self._act("About VQA Studio", self.show_about)
        self.act_plugins = self._act("Plugins…", self.show_plugins)
        self.project_actions = [self.act_import, self.act_export, self.act_close, self.act_accept, self.act_correct,
                                self.act_skip, self.act_flag, self.act_next, self.act_prev, self.act_auto,
                                self.act_train, self.act_rescore, self.act_models]
        for a in self.project_actions:
            a.setEnabled(False)

    def _build_menus(self) -> None:
        mb = self.menuBar()
        f = mb.addMenu("&File")
        for a in (self.act_new, self.act_open, self.act_team):
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
        __import__("vqa_studio.qt.window.active_menu", fromlist=["_"]).add_active_actions(self, r)  # issue 13
        r.addAction(self.act_team_stats)
        r.addAction(self.act_annotator)
        m = mb.addMenu("&Model")
        for a in (self.act_train, self.act_cancel_train, self.act_rescore, self.act_mc_samples, self.act_models):
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
        h.addAction(self.act_plugins)
        h.addAction(self.act_about)

    def _build_team_actions(self) -> None:
        from ..dialogs import team

        self.act_team = self._act("Open &team server…", lambda: team.open_team_dialog(self))
        self.act_team_stats = self._act("Team statistics…", lambda: team.show_team_stats(self))
        self.act_annotator = self._act("Annotator name…", lambda: team.ask_annotator(self))

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

    # --- dialogs --------------------------------------------------------------------------------------
    def models_dialog(self) -> None:
        if self.project is None:
            return
        from ..dialogs.models import ModelsDialog

        dlg = ModelsDialog(self.project, self)
        dlg.setAttribute(Qt.WA_DeleteOnClose)
        dlg.activated.connect(lambda v: self.model_changed(v))
        self.models_dialog_widget = dlg
        dlg.open()

    def auto_accept_dialog(self) -> None:
        if self.project is None:
            return
        from ..dialogs.auto_accept import AutoAcceptDialog

        dlg = AutoAcceptDialog(self.project, self.bg, self)
        dlg.setAttribute(Qt.WA_DeleteOnClose)
        dlg.applied.connect(lambda res: (self.model.reload(), self._refresh_counts(), self._notify(res.summary())))
        self.auto_accept_widget = dlg
        dlg.open()

    def import_dialog(self):
        if self.project is None:
            return None
        from ..dialogs.import_export import ImportDialog

        dlg = ImportDialog(self.project, self)
        dlg.setAttribute(Qt.WA_DeleteOnClose)
        dlg.imported.connect(lambda rep: (self.model.reload(), self._load_project_info(), self._notify(rep.summary())))
        self.import_dialog_widget = dlg
        dlg.open()
        return dlg

    def export_dialog(self):
        if self.project is None:
            return None
        from ..dialogs.import_export import ExportDialog

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
            ("Ctrl+Z / Ctrl+Shift+Z", "undo / redo"), ("Esc", "leave the correction box"),
            ("3D editor", "click a cuboid or Tab: it then takes arrows, PgUp/PgDn, Q/E, N, Del, Home; Esc gives them back")])
        box = QMessageBox(QMessageBox.Information, "Keyboard", f"<table>{rows}</table>", QMessageBox.Ok, self)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.open()
