"""Small shared dialog pieces: the flag note, error boxes that never block the event loop."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QMessageBox, QVBoxLayout, QWidget


class NoteDialog(QDialog):
    """Flag as a bad question / outlier, with an optional note. Enter flags, Esc cancels."""

    def __init__(self, question: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Flag question")
        self.setModal(True)
        lab = QLabel(f"Flag as a bad question or an outlier:<br><b>{_esc(question)}</b>")
        lab.setWordWrap(True)
        self.note = QLineEdit()
        self.note.setPlaceholderText("Why? (optional: ambiguous, wrong image, unanswerable…)")
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("Flag")
        buttons.button(QDialogButtonBox.Ok).setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(lab)
        lay.addWidget(self.note)
        lay.addWidget(buttons)
        self.resize(460, 140)
        self.note.setFocus(Qt.OtherFocusReason)


def show_error(parent: QWidget | None, title: str, text: str, details: str = "") -> QMessageBox:
    """A non-blocking error message (the app keeps running; nothing waits on it)."""
    box = QMessageBox(QMessageBox.Warning, title, text, QMessageBox.Ok, parent)
    box.setAttribute(Qt.WA_DeleteOnClose)
    if details:
        box.setDetailedText(details)
    box.setWindowModality(Qt.WindowModal)
    box.open()
    return box


def _esc(text: str) -> str:
    import html

    return html.escape(text)
