"""Review ▸ Acquisition policy…: how the queue picks what comes next, beyond one score: likely
outliers kept, down-weighted or excluded; batches of the next questions drawn to be diverse (power
sampling, or clustering in the model's embedding space), optionally balanced across question types.
Stored with the project (``core.active.selection.AcquisitionPolicy``); the queue applies it."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
)

from ...core.active.selection import OUTLIER_MODES, AcquisitionPolicy
from .common import show_error

SELECTIONS = [("top", "Top scores (plain queue order)"), ("power", "Power sampling (stochastic, diverse)"),
              ("cluster", "Clusters in the model's embedding space")]
OUTLIERS = [("keep", "Keep them (plain score)"), ("down-weight", "Down-weight them (score x (1 - outlier score))"),
            ("exclude", "Exclude likely outliers from the queue")]


class AcquisitionPolicyDialog(QDialog):
    saved = Signal(object)  # AcquisitionPolicy

    def __init__(self, project, parent=None):
        super().__init__(parent)
        self.project = project
        self.setWindowTitle("Acquisition policy")
        policy = AcquisitionPolicy.load(project)
        intro = QLabel("Questions no model can learn (unanswerable, ambiguous, mislabelled) look most uncertain and "
                       "top the queue; the outlier score (dataset cartography of the last training) finds them. "
                       "A batch of near-identical questions teaches the model once: diverse selection spreads it.")
        intro.setWordWrap(True)
        self.outliers = QComboBox()
        for value, text in OUTLIERS:
            self.outliers.addItem(text, value)
        self.outliers.setCurrentIndex(OUTLIER_MODES.index(policy.outliers))
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setValue(policy.outlier_threshold)
        self.selection = QComboBox()
        for value, text in SELECTIONS:
            self.selection.addItem(text, value)
        self.selection.setCurrentIndex([v for v, _ in SELECTIONS].index(policy.selection))
        self.batch = QSpinBox()
        self.batch.setRange(1, 10000)
        self.batch.setValue(policy.batch)
        self.balance = QCheckBox("Share each batch among question types")
        self.balance.setChecked(policy.balance_types)
        self.seed = policy.seed
        form = QFormLayout()
        form.addRow("Likely outliers", self.outliers)
        form.addRow("Outlier score threshold", self.threshold)
        form.addRow("Batch selection", self.selection)
        form.addRow("Batch size", self.batch)
        form.addRow("", self.balance)
        buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addLayout(form)
        lay.addWidget(buttons)
        self.resize(560, 320)

    def policy(self) -> AcquisitionPolicy:
        return AcquisitionPolicy(outliers=self.outliers.currentData(), outlier_threshold=float(self.threshold.value()),
                                 selection=self.selection.currentData(), batch=int(self.batch.value()),
                                 balance_types=self.balance.isChecked(), seed=self.seed)

    def save(self) -> None:
        try:
            policy = self.policy()
            policy.save(self.project)
        except Exception as exc:  # noqa: BLE001 - a read-only project or a bad value: a message
            show_error(self, "Acquisition policy", str(exc), getattr(exc, "__vqa_traceback__", ""))
            return
        self.saved.emit(policy)
        self.accept()
