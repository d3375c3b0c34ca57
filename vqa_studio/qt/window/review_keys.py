"""Keyboard-first review: the review's keys as window shortcuts, and the actions they trigger.

``Enter`` accepts the top proposal, ``1``-``5`` pick a proposal, typing any other letter or digit
starts a correction (``/`` starts an empty one), ``S`` skips, ``F`` flags, ``N``/``J`` next,
``P``/``K`` previous, ``Space`` toggles the attention overlay, ``[``/``]`` change glimpse.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from ..dialogs.common import NoteDialog

REVIEW_KEYS_HELP = [
    ("Enter", "accept the top proposal"), ("1 – 5", "pick a proposal"), ("type", "start a correction"),
    ("S", "skip"), ("F", "flag"), ("N / J", "next"), ("P / K", "previous"), ("Space", "attention on/off"),
    ("Ctrl+Z", "undo"),
]
#: point-cloud items: what the 3D editor takes while a cuboid is selected (the review keys above,
#: Enter, 1-5, S, F, J/K, typing, Ctrl+Z and the menus, always stay the review's)
EDITOR_KEYS_HELP = [
    ("click / Tab", "select a cuboid: the editor takes"), ("arrows PgUp PgDn", "move"), ("Q / E", "rotate"),
    ("N", "new cuboid"), ("Del", "delete"), ("Home", "frame"), ("Esc", "done, keys back to the review"),
]


def _is_text_input(w: QWidget | None) -> bool:
    if w is None:
        return False
    if isinstance(w, (QLineEdit, QTextEdit, QPlainTextEdit, QAbstractSpinBox)):
        return not (isinstance(w, QLineEdit) and w.isReadOnly())
    if isinstance(w, QComboBox):
        return w.isEditable()
    return False


class ReviewKeysMixin:
    """The review actions on ``controller`` (none without a project), the correction box's submit
    (a new answer is confirmed first) and the flag dialog; the shortcuts are off while a text box
    has the focus."""

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
        from ...core.data.vocab import normalize_answer

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
