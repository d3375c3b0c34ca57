"""Auto-accept dialog: a confidence threshold, a live preview of how many questions it would take
and the error rate to expect (from the validation split), then apply with progress and cancel."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSlider,
    QVBoxLayout,
)

from ...core.active.policy import AutoAcceptData, apply_auto_accept, load_auto_accept_data
from ..style import COLORS
from ..workers import GeneratorTask, TaskRunner
from .common import show_error

STEPS = 1000  # slider resolution over [0.5, 1.0]


class AutoAcceptDialog(QDialog):
    applied = Signal(object)  # AutoAcceptResult

    def __init__(self, project, runner: TaskRunner, parent=None, threshold: float = 0.95):
        super().__init__(parent)
        self.project = project
        self.data: AutoAcceptData | None = None
        self.task: GeneratorTask | None = None
        self.setWindowTitle("Auto-accept confident proposals")
        intro = QLabel("Questions nobody has reviewed whose calibrated confidence is at least the threshold are "
                       "marked <b>auto-accepted</b>. They stay in the queue (filter “Auto-accepted”) and can be "
                       "reviewed like any other; they are not used for training unless asked.")
        intro.setWordWrap(True)
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setRange(0, STEPS)
        self.spin = QDoubleSpinBox()
        self.spin.setRange(0.5, 1.0)
        self.spin.setDecimals(3)
        self.spin.setSingleStep(0.005)
        self.count = QLabel("reading the model's predictions…")
        self.count.setStyleSheet("font-size: 13pt; font-weight: 600")
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.table = QLabel("")
        self.table.setObjectName("muted")
        self.table.setTextFormat(Qt.RichText)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.apply_button = QPushButton("Auto-accept")
        self.apply_button.setDefault(True)
        self.apply_button.setEnabled(False)
        self.cancel_button = QPushButton("Close")
        row = QHBoxLayout()
        row.addWidget(QLabel("Confidence ≥"))
        row.addWidget(self.slider, 1)
        row.addWidget(self.spin)
        buttons = QHBoxLayout()
        buttons.addWidget(self.progress, 1)
        buttons.addWidget(self.apply_button)
        buttons.addWidget(self.cancel_button)
        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addSpacing(6)
        lay.addLayout(row)
        lay.addWidget(self.count)
        lay.addWidget(self.error)
        lay.addWidget(self.table)
        lay.addStretch(1)
        lay.addLayout(buttons)
        self.resize(560, 330)

        self.slider.valueChanged.connect(lambda v: self.spin.setValue(0.5 + 0.5 * v / STEPS))
        self.spin.valueChanged.connect(self._threshold_changed)
        self.apply_button.clicked.connect(self._apply)
        self.cancel_button.clicked.connect(self._cancel_or_close)
        self.spin.setValue(threshold)
        runner.submit(load_auto_accept_data, project, on_done=self._loaded,
                      on_error=lambda e: self.count.setText(f"cannot read the predictions: {e}"))

    @property
    def threshold(self) -> float:
        return float(self.spin.value())

    def set_threshold(self, t: float) -> None:
        self.spin.setValue(t)

    def _loaded(self, data: AutoAcceptData) -> None:
        self.data = data
        if data.version is None:
            self.count.setText("No active model: train one first (Model ▸ Train).")
            return
        rows = []
        for t in (0.8, 0.9, 0.95, 0.98, 0.99):
            p = data.preview(t)
            err = "—" if p.expected_error is None else f"{p.expected_error * 100:.1f}%"
            rows.append(f"<tr><td>≥ {t:.2f}&nbsp;&nbsp;</td><td align='right'>{p.n_accept:,}&nbsp;&nbsp;</td>"
                        f"<td align='right'>{err}</td><td>&nbsp;&nbsp;({p.n_val:,} val)</td></tr>")
        self.table.setText(f"<table><tr><td>threshold</td><td>questions&nbsp;&nbsp;</td><td>expected error</td></tr>"
                           f"{''.join(rows)}</table>")
        self._threshold_changed(self.threshold)

    def _threshold_changed(self, t: float) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(round((t - 0.5) / 0.5 * STEPS))
        self.slider.blockSignals(False)
        if self.data is None or self.data.version is None:
            return
        p = self.data.preview(t)
        self.preview = p
        self.count.setText(f"Would auto-accept {p.n_accept:,} of {p.n_pool:,} unreviewed questions")
        if p.expected_error is None:
            self.error.setText(f"<span style='color:{COLORS['warn']}'>No labelled validation questions at this "
                               f"confidence: the error rate cannot be estimated.</span>")
        else:
            col = COLORS["good"] if p.expected_error <= 0.05 else COLORS["warn"] if p.expected_error <= 0.15 else COLORS["bad"]
            self.error.setText(f"Expected error rate <b style='color:{col}'>{p.expected_error * 100:.1f}%</b> "
                               f"(model {self.data.version} on {p.n_val:,} of {p.n_val_total:,} validation questions "
                               f"with confidence ≥ {t:.3f}) — about {round(p.expected_error * p.n_accept):,} wrong answers.")
        self.apply_button.setEnabled(p.n_accept > 0 and self.task is None)

    def _apply(self) -> None:
        if self.data is None or self.task is not None:
            return
        t, data, project = self.threshold, self.data, self.project
        self.task = GeneratorTask(lambda: apply_auto_accept(project, t, data=data), name="auto-accept", parent=self)
        self.task.progress.connect(self._progress)
        self.task.finished.connect(self._finished)
        self.task.failed.connect(self._failed)
        self.task.cancelled.connect(lambda: self._ended("cancelled: what was accepted so far stays accepted"))
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.apply_button.setEnabled(False)
        self.slider.setEnabled(False)
        self.spin.setEnabled(False)
        self.cancel_button.setText("Cancel")
        self.task.start()

    def _progress(self, p) -> None:
        if p.total:
            self.progress.setRange(0, p.total)
            self.progress.setValue(p.done)
        self.progress.setFormat(p.message or "%p%")

    def _finished(self, result) -> None:
        self._ended(result.summary())
        self.applied.emit(result)

    def _failed(self, exc) -> None:
        self._ended(f"failed: {exc}")
        show_error(self, "Auto-accept failed", str(exc), getattr(exc, "__vqa_traceback__", ""))

    def _ended(self, message: str) -> None:
        if self.task is not None:
            self.task.wait(5)
        self.task = None
        self.count.setText(message)
        self.progress.setVisible(False)
        self.cancel_button.setText("Close")
        self.spin.setEnabled(True)
        self.slider.setEnabled(True)

    def _cancel_or_close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        else:
            self.reject()

    def done(self, result: int) -> None:
        if self.task is not None:  # closing while it runs: stop it first (what was done stays done)
            self.task.cancel()
            self.task.wait(30)
        super().done(result)
