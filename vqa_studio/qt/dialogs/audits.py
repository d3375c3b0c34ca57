"""Review ▸ Audit queue…: the random share of auto-accepted answers set aside for a person to check.
Confirm keeps the answer (it becomes a human label); Correct stores the typed answer and counts as a
mistake of auto-accept. The report line says how many were audited and found wrong, with the
precision of auto-accept they show and its lower bound (``core.active.audit``)."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from ...core.active.audit import Audit, audit_report, audits, decide
from .common import show_error

HEADERS = ["Audit", "Question", "Auto-accepted answer", "Confidence"]


def _load(project):
    return audits(project, pending=True), audit_report(project)


class AuditDialog(QDialog):
    decided = Signal(int, str)  # question id, outcome
    question_chosen = Signal(int)  # open this question in the main window

    def __init__(self, project, runner, parent=None):
        super().__init__(parent)
        self.project, self.runner = project, runner
        self.rows: list[Audit] = []
        self.setWindowTitle("Audit queue")
        self.report = QLabel("reading the audit queue…")
        self.report.setWordWrap(True)
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(1, 320)
        self.answer = QLineEdit()
        self.answer.setPlaceholderText("the right answer, to correct")
        self.confirm_button = QPushButton("Confirm (answer is right)")
        self.correct_button = QPushButton("Correct")
        self.open_button = QPushButton("Show in the window")
        close = QPushButton("Close")
        row = QHBoxLayout()
        row.addWidget(self.confirm_button)
        row.addWidget(self.answer, 1)
        row.addWidget(self.correct_button)
        row.addWidget(self.open_button)
        row.addWidget(close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.report)
        lay.addWidget(self.table, 1)
        lay.addLayout(row)
        self.resize(820, 460)
        self.confirm_button.clicked.connect(lambda: self._decide(None))
        self.correct_button.clicked.connect(lambda: self._decide(self.answer.text().strip() or None, correcting=True))
        self.open_button.clicked.connect(self._open)
        self.table.doubleClicked.connect(lambda _i: self._open())
        self.table.itemSelectionChanged.connect(self._selection_changed)
        close.clicked.connect(self.reject)
        self._selection_changed()
        self.reload()

    def reload(self) -> None:
        self.runner.submit(_load, self.project, on_done=self._loaded,
                           on_error=lambda e: self.report.setText(f"cannot read the audit queue: {e}"))

    def _loaded(self, loaded) -> None:
        self.rows, report = loaded
        self.report.setText(report.describe() + ("" if self.rows else " — nothing to audit now. Auto-accept (Review "
                                                 "▸ Auto-accept…) sends a random share here."))
        self.table.setRowCount(len(self.rows))
        for r, a in enumerate(self.rows):
            conf = "" if a.confidence is None else f"{a.confidence:.3f}"
            for c, text in enumerate([str(a.id), a.text, a.answer or "", conf]):
                item = QTableWidgetItem(text)
                if c in (0, 3):
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.table.setItem(r, c, item)
        if self.rows:
            self.table.selectRow(0)
        self._selection_changed()

    def current(self) -> Audit | None:
        r = self.table.currentRow()
        return self.rows[r] if 0 <= r < len(self.rows) else None

    def _selection_changed(self) -> None:
        a = self.current()
        for b in (self.confirm_button, self.correct_button, self.open_button):
            b.setEnabled(a is not None)
        if a is not None:
            self.answer.setText(a.answer or "")

    def _decide(self, answer: str | None, correcting: bool = False) -> None:
        a = self.current()
        if a is None:
            return
        if correcting and not answer:
            self.report.setText("type the right answer to correct it")
            return
        try:
            outcome = decide(self.project, a.id, answer)
        except Exception as exc:  # noqa: BLE001 - a conflict or a write refused: a message, the list reloads
            show_error(self, "Audit", str(exc), getattr(exc, "__vqa_traceback__", ""))
        else:
            self.decided.emit(a.question_id, outcome)
        self.reload()

    def _open(self) -> None:
        a = self.current()
        if a is not None:
            self.question_chosen.emit(a.question_id)
