"""Auto-accept dialog: a target precision; the threshold whose held-out precision has a one-sided
Clopper-Pearson lower bound at or above it (``core.active.guarantee``, on the labelled validation
questions plus the decided audits), the bound, the expected coverage of the unreviewed pool and the
point-estimate threshold it is compared with; the share sent to the audit queue; apply with
progress and cancel."""
from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from ...core.active.audit import audit_report
from ...core.active.guarantee import DEFAULT_AUDIT_SHARE, DEFAULT_DELTA, DEFAULT_TARGET, Threshold
from ...core.active.policy import AutoAcceptData, apply_auto_accept, load_auto_accept_data
from ..style import COLORS
from ..workers import GeneratorTask, TaskRunner
from .common import show_error

TARGETS = (0.9, 0.95, 0.98, 0.99, 0.995)


def _load(project):
    return load_auto_accept_data(project), audit_report(project)


class AutoAcceptDialog(QDialog):
    applied = Signal(object)  # AutoAcceptResult

    def __init__(self, project, runner: TaskRunner, parent=None, target: float = DEFAULT_TARGET,
                 audit_share: float = DEFAULT_AUDIT_SHARE):
        super().__init__(parent)
        self.project = project
        self.data: AutoAcceptData | None = None
        self.result: Threshold | None = None
        self.task: GeneratorTask | None = None
        self.setWindowTitle("Auto-accept with a precision guarantee")
        intro = QLabel("Unreviewed questions whose calibrated confidence reaches the threshold are marked "
                       "<b>auto-accepted</b> (they stay in the queue and can be reviewed). The threshold is the lowest "
                       f"whose precision on held-out labelled questions has a {(1 - DEFAULT_DELTA) * 100:g}% "
                       "Clopper-Pearson lower bound at or above the target, not the point estimate. A random share "
                       "goes to the audit queue (Review ▸ Audit queue…); mistakes found there make the next "
                       "threshold stricter.")
        intro.setWordWrap(True)
        self.target = self._spin(0.5, 0.999, 3, 0.005, target)
        self.audit = self._spin(0.0, 50.0, 1, 0.5, audit_share * 100)
        self.audit.setSuffix(" %")
        form = QFormLayout()
        form.addRow("Target precision", self.target)
        form.addRow("Audit share", self.audit)
        self.count = QLabel("reading the model's predictions…")
        self.count.setStyleSheet("font-size: 13pt; font-weight: 600")
        self.bound = QLabel("")
        self.bound.setWordWrap(True)
        self.point = QLabel("")
        self.point.setWordWrap(True)
        self.point.setObjectName("muted")
        self.audits = QLabel("")
        self.audits.setObjectName("muted")
        self.table = QLabel("")
        self.table.setObjectName("muted")
        self.table.setTextFormat(Qt.RichText)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.apply_button = QPushButton("Auto-accept")
        self.apply_button.setDefault(True)
        self.apply_button.setEnabled(False)
        self.cancel_button = QPushButton("Close")
        buttons = QHBoxLayout()
        buttons.addWidget(self.progress, 1)
        buttons.addWidget(self.apply_button)
        buttons.addWidget(self.cancel_button)
        lay = QVBoxLayout(self)
        for w in (intro, form, self.count, self.bound, self.point, self.audits, self.table):
            lay.addLayout(w) if isinstance(w, QFormLayout) else lay.addWidget(w)
        lay.addStretch(1)
        lay.addLayout(buttons)
        self.resize(620, 420)
        self.target.valueChanged.connect(lambda _v: self._update())
        self.audit.valueChanged.connect(lambda _v: self._update())
        self.apply_button.clicked.connect(self._apply)
        self.cancel_button.clicked.connect(self._cancel_or_close)
        runner.submit(_load, project, on_done=self._loaded,
                      on_error=lambda e: self.count.setText(f"cannot read the predictions: {e}"))

    @staticmethod
    def _spin(lo: float, hi: float, decimals: int, step: float, value: float) -> QDoubleSpinBox:
        s = QDoubleSpinBox()
        s.setRange(lo, hi)
        s.setDecimals(decimals)
        s.setSingleStep(step)
        s.setValue(value)
        return s

    @property
    def audit_share(self) -> float:
        return float(self.audit.value()) / 100.0

    def set_target(self, t: float) -> None:
        self.target.setValue(t)

    def _loaded(self, loaded) -> None:
        self.data, report = loaded
        self.audits.setText(report.describe())
        if self.data.version is None:
            self.count.setText("No active model: train one first (Model ▸ Train).")
            return
        rows = []
        for t in TARGETS:
            th = self.data.guarantee(t)
            thr = f"≥ {th.threshold:.3f}" if th.found else "—"
            cov = f"{self.data.pool_coverage(th.threshold) * 100:.1f}%" if th.found else "0%"
            rows.append(f"<tr><td>{t * 100:g}%&nbsp;&nbsp;</td><td>{thr}&nbsp;&nbsp;</td><td align='right'>{cov}</td></tr>")
        self.table.setText("<table><tr><td>target&nbsp;&nbsp;</td><td>threshold&nbsp;&nbsp;</td><td>coverage</td></tr>"
                           f"{''.join(rows)}</table>")
        self._update()

    def _update(self) -> None:
        if self.data is None or self.data.version is None:
            return
        data = self.data
        th = self.result = data.guarantee(float(self.target.value()))
        held = f"{len(data.val_conf):,} held-out questions" + (f" ({data.n_audits:,} of them audits)" if data.n_audits else "")
        if not th.found:
            self.count.setText("Nothing can be auto-accepted at this target")
            self.bound.setText(f"<span style='color:{COLORS['warn']}'>No confidence threshold keeps the precision at "
                               f"{th.target * 100:g}% with {(1 - th.delta) * 100:g}% confidence on {held}: label more "
                               "validation questions or lower the target.</span>")
            self.point.setText("")
            self.apply_button.setEnabled(False)
            return
        n = int((data.pool_conf >= th.threshold).sum())
        n_audit = math.floor(n * self.audit_share + 0.5)
        self.count.setText(f"Would auto-accept {n:,} of {len(data.pool_conf):,} unreviewed questions "
                           f"({data.pool_coverage(th.threshold) * 100:.1f}% coverage); about {n_audit:,} to audit")
        self.bound.setText(f"Threshold: confidence ≥ <b>{th.threshold:.4f}</b>. On {held}: {th.n_accepted:,} at or "
                           f"above it ({th.coverage * 100:.1f}%), precision {th.precision * 100:.2f}%, "
                           f"{(1 - th.delta) * 100:g}% lower bound <b style='color:{COLORS['good']}'>"
                           f"{th.lower_bound * 100:.2f}%</b> ≥ target {th.target * 100:g}%.")
        point = f"≥ {th.point_threshold:.4f}" if math.isfinite(th.point_threshold) else "none"
        self.point.setText(f"The point estimate alone would take confidence {point}; the bound is never less strict.")
        self.apply_button.setEnabled(n > 0 and self.task is None)

    def _apply(self) -> None:
        if self.data is None or self.task is not None or self.result is None or not self.result.found:
            return
        t, data, project, share = self.result.threshold, self.data, self.project, self.audit_share
        self.task = GeneratorTask(lambda: apply_auto_accept(project, t, data=data, audit_share=share),
                                  name="auto-accept", parent=self)
        self.task.progress.connect(self._progress)
        self.task.finished.connect(self._finished)
        self.task.failed.connect(self._failed)
        self.task.cancelled.connect(lambda: self._ended("cancelled: what was accepted so far stays accepted"))
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.apply_button.setEnabled(False)
        self.target.setEnabled(False)
        self.audit.setEnabled(False)
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
        self.target.setEnabled(True)
        self.audit.setEnabled(True)

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
