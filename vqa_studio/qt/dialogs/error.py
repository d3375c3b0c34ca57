"""Unexpected errors: written to the log, shown in a dialog that names the log file; the app keeps
running (every review action is its own committed transaction, so nothing stored is lost).

``install_excepthook(window)`` routes ``sys.excepthook`` here: PySide6 hands an exception raised in
a slot or an event handler to it, as Python does for an uncaught one on the main thread.
"""
from __future__ import annotations

import sys

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox, QWidget

from ...core.logs import current_log_file, log_exception

__all__ = ["ErrorDialog", "install_excepthook", "show_unexpected_error"]


class ErrorDialog(QMessageBox):
    """What went wrong, that the work is saved, and where the log is (with a button to open its
    folder); the traceback under "Show Details". Non-blocking: it is opened, never exec'd. Errors
    that follow while it is up are counted in it instead of stacking more dialogs."""

    def __init__(self, summary: str, details: str, log_file, parent: QWidget | None = None):
        super().__init__(QMessageBox.Critical, "Something went wrong", "", QMessageBox.Ok, parent)
        self.setObjectName("errorDialog")
        self.summary = summary
        self.log_file = log_file
        self.repeats = 0
        self.setDetailedText(details)
        self.setEscapeButton(self.button(QMessageBox.Ok))  # Esc and the title bar's close work too
        self.setTextInteractionFlags(Qt.TextSelectableByMouse)
        if log_file is not None:
            self.open_folder = self.addButton("Open the log folder", QMessageBox.ActionRole)
            self.open_folder.clicked.disconnect()  # keep the dialog open when it is pressed
            self.open_folder.clicked.connect(
                lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(log_file.parent))))
        self._update_text()

    def _update_text(self) -> None:
        where = (f"The details are in the log:\n{self.log_file}" if self.log_file is not None
                 else "No log file could be written (see the details below).")
        more = f"\n\n{self.repeats} more error(s) since; they are in the log too." if self.repeats else ""
        self.setText(f"{self.summary}\n\nYour work is saved; you can keep going.\n\n{where}{more}")

    def add_repeat(self) -> None:
        self.repeats += 1
        self._update_text()


def show_unexpected_error(parent: QWidget | None, exc_type, exc, tb) -> ErrorDialog:
    """Log the error and show it (or count it in the error dialog already up)."""
    details = log_exception(exc_type, exc, tb)
    current = getattr(parent, "error_dialog", None) if parent is not None else None
    if isinstance(current, ErrorDialog) and current.isVisible():
        current.add_repeat()
        return current
    box = ErrorDialog(f"{exc_type.__name__}: {exc}", details, current_log_file(), parent)
    box.setAttribute(Qt.WA_DeleteOnClose)
    box.setWindowModality(Qt.WindowModal)
    if parent is not None:
        parent.error_dialog = box
        box.finished.connect(lambda _r: setattr(parent, "error_dialog", None))
    box.open()
    return box


def install_excepthook(window: QWidget) -> None:
    """Uncaught exceptions (a slot's included) are logged and shown over ``window``; if showing
    fails, the previous hook prints them."""
    previous = sys.excepthook

    def hook(exc_type, exc, tb):
        if issubclass(exc_type, KeyboardInterrupt):
            previous(exc_type, exc, tb)
            return
        try:
            show_unexpected_error(window, exc_type, exc, tb)
        except Exception:  # noqa: BLE001 - never let the error path raise
            previous(exc_type, exc, tb)
            return
        print("".join(__import__("traceback").format_exception(exc_type, exc, tb)), file=sys.stderr)

    sys.excepthook = hook
