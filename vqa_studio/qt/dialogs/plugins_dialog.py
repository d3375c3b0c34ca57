"""Help ▸ Plugins: the plugins found at start (``plugins.load_plugins``), their versions, what each
added to the registry, and why one failed (a broken plugin is listed here, it never stops the app).
The same facts as ``vqa-studio plugins``."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...plugins import contributions, load_plugins, plugin_version
from ..style import COLORS

COLUMNS = ("Plugin", "Package", "Version", "Status", "Adds")


class PluginsDialog(QDialog):
    def __init__(self, registry=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Plugins")
        self.registry, plugins = load_plugins(registry)  # already loaded at start: this only reads them
        self.table = QTableWidget(len(plugins), len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.setWordWrap(True)
        for row, info in enumerate(plugins):
            adds = ", ".join(f"{kind} {name}" for kind, name in contributions(self.registry, info.name))
            status = "loaded" if info.loaded else f"FAILED: {info.error}"
            cells = (info.name, info.dist or "", plugin_version(info), status, adds or "—")
            for col, text in enumerate(cells):
                it = QTableWidgetItem(text)
                it.setToolTip(text if col != 0 else info.target)
                if col == 3 and not info.loaded:
                    it.setForeground(Qt.GlobalColor.red)
                self.table.setItem(row, col, it)
        head = self.table.horizontalHeader()
        head.setSectionResizeMode(QHeaderView.ResizeToContents)
        head.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.Stretch)
        self.table.resizeRowsToContents()
        note = QLabel("Plugins are installed packages that declare an entry point in the group "
                      "<code>vqa_studio.plugins</code> (see plugins/ in the source). "
                      + ("None is installed." if not plugins else
                         f"{sum(p.loaded for p in plugins)} of {len(plugins)} loaded."))
        note.setWordWrap(True)
        note.setStyleSheet(f"color:{COLORS['muted']}")
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(note)
        lay.addWidget(self.table, 1)
        lay.addWidget(buttons)
        self.resize(820, 320)

    def row_texts(self) -> list[list[str]]:
        """The table's cells, row by row (tests, and what the user reads)."""
        return [[self.table.item(r, c).text() for c in range(self.table.columnCount())]
                for r in range(self.table.rowCount())]
