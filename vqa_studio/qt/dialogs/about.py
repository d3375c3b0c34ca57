"""Help ▸ About: what ``vqa-studio info`` prints (``core.sysinfo``), to read and to copy into a bug
report. The training device is asked of a short child process (the window's ``DeviceProbe``), so
torch stays out of the GUI; its line fills in when the answer comes."""
from __future__ import annotations

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from ... import __version__
from ...core.logs import current_log_file
from ...core.sysinfo import collect, format_info

DETECTING = "detecting…"


class AboutDialog(QDialog):
    """The app's versions, the training device and why, the data and log folders (and the log file)."""

    def __init__(self, probe=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("About VQA Studio")
        self.info = collect(probe_device=False)
        self.info["device"] = probe.text if probe is not None and probe.text else DETECTING
        log = current_log_file()
        if log is not None:
            self.info["log_file"] = str(log)
        head = QLabel(f"<div style='font-size:15pt; font-weight:600'>VQA Studio {__version__}</div>"
                      "<p>A workbench for Visual Question Answering data: review a model's proposals, "
                      "correct them, retrain.</p>")
        head.setWordWrap(True)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.FixedFont))
        self.text.setLineWrapMode(QPlainTextEdit.NoWrap)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        self.copy_button = buttons.addButton("Copy", QDialogButtonBox.ActionRole)
        self.copy_button.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.report()))
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(head)
        lay.addWidget(self.text, 1)
        lay.addWidget(buttons)
        self.resize(760, 380)
        self._fill()
        if probe is not None and not probe.text:
            probe.detected.connect(self.set_device)
            probe.start()

    def report(self) -> str:
        """The text shown: ``sysinfo.format_info`` of what was collected."""
        return format_info(self.info)

    def set_device(self, line: str) -> None:
        """The probe's line (``sysinfo.device_summary``: "<device> — <why>") in info's two rows."""
        device, _, why = line.partition(" — ")
        self.info["device"] = device
        if why:
            self.info["device_reason"] = why
        self._fill()

    def _fill(self) -> None:
        self.text.setPlainText(self.report())
