"""Review ▸ Label errors…: labelled answers the model confidently disagrees with, for re-review.

Confident learning on out-of-sample probabilities from k-fold cross-validation (``core.train.
crossval``): each fold trains a network of the active model's architecture on the other folds, in a
worker with progress and cancel. The list (most suspicious first) shows the stored answer, what the
model says, and the expected number of label errors; double-click (or Show) opens the question in
the window to correct it; Export writes the list as CSV."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from ...core.train.crossval import DEFAULT_EPOCHS, DEFAULT_FOLDS, LabelErrorReport, label_errors
from ..workers import GeneratorTask
from .common import show_error

HEADERS = ["Question", "Labelled", "Model says", "p(label)", "p(model)"]


class LabelErrorsDialog(QDialog):
    question_chosen = Signal(int)
    found = Signal(object)  # LabelErrorReport

    def __init__(self, project, parent=None, folds: int = DEFAULT_FOLDS, epochs: int = DEFAULT_EPOCHS):
        super().__init__(parent)
        self.project = project
        self.task: GeneratorTask | None = None
        self.report: LabelErrorReport | None = None
        self.setWindowTitle("Label errors")
        intro = QLabel("Finds labelled answers the model confidently disagrees with (confident learning). Each "
                       "labelled question is predicted by a model trained without it (k-fold cross-validation: "
                       "k trainings of the active model's architecture).")
        intro.setWordWrap(True)
        self.folds = QSpinBox()
        self.folds.setRange(2, 10)
        self.folds.setValue(folds)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 50)
        self.epochs.setValue(epochs)
        self.run_button = QPushButton("Find label errors")
        self.run_button.setDefault(True)
        top = QHBoxLayout()
        for w in (QLabel("Folds"), self.folds, QLabel("Epochs per fold"), self.epochs):
            top.addWidget(w)
        top.addStretch(1)
        top.addWidget(self.run_button)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setColumnWidth(0, 340)
        self.open_button = QPushButton("Show in the window")
        self.export_button = QPushButton("Export CSV…")
        self.close_button = QPushButton("Close")
        bottom = QHBoxLayout()
        bottom.addWidget(self.open_button)
        bottom.addWidget(self.export_button)
        bottom.addStretch(1)
        bottom.addWidget(self.close_button)
        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addLayout(top)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        lay.addWidget(self.table, 1)
        lay.addLayout(bottom)
        self.resize(860, 520)
        self.run_button.clicked.connect(self.start)
        self.open_button.clicked.connect(self._open)
        self.table.doubleClicked.connect(lambda _i: self._open())
        self.export_button.clicked.connect(self._export)
        self.close_button.clicked.connect(self._cancel_or_close)
        self._enable()

    def _enable(self) -> None:
        idle = self.task is None
        self.run_button.setEnabled(idle)
        self.folds.setEnabled(idle)
        self.epochs.setEnabled(idle)
        have = self.report is not None and bool(self.report.rows)
        self.open_button.setEnabled(have)
        self.export_button.setEnabled(have)
        self.close_button.setText("Close" if idle else "Cancel")

    def start(self) -> None:
        if self.task is not None:
            return
        project, folds, epochs = self.project, int(self.folds.value()), int(self.epochs.value())
        self.task = GeneratorTask(lambda: label_errors(project, folds=folds, epochs=epochs), name="label-errors",
                                  parent=self)
        self.task.progress.connect(self._progress)
        self.task.finished.connect(self._finished)
        self.task.failed.connect(self._failed)
        self.task.cancelled.connect(lambda: self._ended("cancelled"))
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.task.start()
        self._enable()

    def _progress(self, p) -> None:
        if p.total:
            self.progress.setRange(0, p.total)
            self.progress.setValue(p.done)
        self.progress.setFormat((p.message or p.stage)[:80])

    def _finished(self, report: LabelErrorReport) -> None:
        self.report = report
        self.table.setRowCount(len(report.rows))
        for r, row in enumerate(report.rows):
            cells = [row.text, row.answer, row.suggested, f"{row.p_answer:.2f}", f"{row.p_suggested:.2f}"]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c >= 3:
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.table.setItem(r, c, item)
        self._ended(report.summary())
        self.found.emit(report)

    def _failed(self, exc) -> None:
        self._ended(f"failed: {exc}")
        show_error(self, "Label errors", str(exc), getattr(exc, "__vqa_traceback__", ""))

    def _ended(self, message: str) -> None:
        if self.task is not None:
            self.task.wait(5)
        self.task = None
        self.status.setText(message)
        self.progress.setVisible(False)
        self._enable()

    def _open(self) -> None:
        r = self.table.currentRow()
        if self.report is not None and 0 <= r < len(self.report.rows):
            self.question_chosen.emit(self.report.rows[r].question_id)

    def _export(self, path: str | None = None) -> None:
        if self.report is None:
            return
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export label errors", str(self.project.folder / "reports" /
                                                                                   "label_errors.csv"), "CSV (*.csv)")
        if path:
            self.report.write_csv(Path(path))
            self.status.setText(f"wrote {path}")

    def _cancel_or_close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        else:
            self.reject()

    def done(self, result: int) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task.wait(60)
        super().done(result)
