"""Models dialog: every registered version with its metrics; make one active (roll back)."""
from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from ..style import COLORS

COLUMNS = ["", "Version", "Parent", "Created", "Mode", "Labels", "Val acc.", "Test acc.", "ECE before → after", "Device"]


def activate_version(project, version: str) -> None:
    """Make ``version`` the active model (rollback); ``Project.activate_model`` needs no torch."""
    project.activate_model(version)


def _pct(v) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "—"
    return "—" if math.isnan(f) else f"{f * 100:.1f}%"


class ModelsDialog(QDialog):
    activated = Signal(str)

    def __init__(self, project, parent=None):
        super().__init__(parent)
        self.project = project
        self.setWindowTitle("Models")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setAlternatingRowColors(True)
        self.info = QLabel("")
        self.info.setObjectName("muted")
        self.info.setWordWrap(True)
        self.make_active = QPushButton("Make active (roll back)")
        self.make_active.clicked.connect(self._activate)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(self.info, 1)
        buttons.addWidget(self.make_active)
        buttons.addWidget(close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.table, 1)
        lay.addLayout(buttons)
        self.table.itemSelectionChanged.connect(self._selection)
        self.table.itemDoubleClicked.connect(lambda _i: self._activate())
        self.resize(940, 380)
        self.reload()

    def reload(self) -> None:
        models = self.project.models()
        self.table.setRowCount(len(models))
        bold = QFont(self.font())
        bold.setBold(True)
        for r, m in enumerate(reversed(models)):  # newest first
            by_kind = m.metrics.get("by_kind") or {}
            eces = [f"{k.get('ece_before', float('nan')):.3f} → {k.get('ece_after', float('nan')):.3f}"
                    for k in by_kind.values() if isinstance(k, dict) and "ece_before" in k]
            values = ["●" if m.active else "", m.version, m.parent or "—", m.created_at.strftime("%Y-%m-%d %H:%M"),
                      str(m.config.get("mode", "—")), f"{m.snapshot.get('n_labels', '—')}",
                      _pct(m.metrics.get("val_accuracy")), _pct(m.metrics.get("test_accuracy")),
                      ", ".join(eces) or "—", str(m.metrics.get("device", "—"))]
            for c, v in enumerate(values):
                item = QTableWidgetItem(v)
                item.setData(Qt.UserRole, m.version)
                if m.active:
                    item.setFont(bold)
                    if c == 0:
                        item.setForeground(QColor(COLORS["good"]))
                self.table.setItem(r, c, item)
        if models:
            self.table.selectRow(0)
        self.info.setText("" if models else "No model yet: Model ▸ Train / fine-tune…")
        self._selection()

    def selected_version(self) -> str | None:
        items = self.table.selectedItems()
        return items[0].data(Qt.UserRole) if items else None

    def _selection(self) -> None:
        v = self.selected_version()
        m = self.project.model(v) if v else None
        self.make_active.setEnabled(m is not None and not m.active)
        if m is not None:
            self.info.setText(f"{m.version}: trained from {m.parent or 'scratch'}; file {m.path}")

    def _activate(self) -> None:
        v = self.selected_version()
        if not v:
            return
        activate_version(self.project, v)
        self.reload()
        self.activated.emit(v)
