"""The first start: no project given and none opened before. Three ways in: open a project, make a
new one from data to import, or open the built-in demo (generated here, nothing is downloaded)."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCommandLinkButton,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from ..style import COLORS

CHOICES = ("open", "import", "demo")


class WelcomeDialog(QDialog):
    """Emits ``chosen`` with "open", "import" or "demo" and closes; "Not now" closes it with nothing
    chosen (File ▸ Open project… and File ▸ New project… do the same later)."""

    chosen = Signal(str)

    def __init__(self, demo_folder: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("welcomeDialog")
        self.setWindowTitle("Welcome to VQA Studio")
        self.choice: str | None = None
        head = QLabel("<div style='font-size:17pt; font-weight:600'>Welcome to VQA Studio</div>"
                      f"<p style='color:{COLORS['muted']}'>Review a model's answers to questions about images "
                      "and 3D point clouds, correct them with the keyboard, retrain. Start with one of these:</p>")
        head.setWordWrap(True)
        self.buttons: dict[str, QCommandLinkButton] = {}
        specs = {
            "open": ("Open project…", "A folder holding a VQA Studio project (project.db)."),
            "import": ("New from import…", ("Make a project in a new folder, then import questions and media: "
                                            "VQA v2, CLEVR, CSV, KITTI, a folder of images or clouds…")),
            "demo": ("Open the demo", "Generated on this computer, nothing downloaded: 2D scenes and 3D point "
                                      "clouds with questions, and a first model trained in the background"
                                      + (f" (in {demo_folder})." if demo_folder else ".")),
        }
        lay = QVBoxLayout(self)
        lay.addWidget(head)
        for key, (title, text) in specs.items():
            b = QCommandLinkButton(title, text)
            b.setObjectName(f"welcome_{key}")
            b.clicked.connect(lambda _c=False, key=key: self.choose(key))
            self.buttons[key] = b
            lay.addWidget(b)
        box = QDialogButtonBox()
        later = box.addButton("Not now", QDialogButtonBox.RejectRole)
        later.clicked.connect(self.reject)
        lay.addWidget(box)
        self.buttons["demo"].setDefault(True)
        self.buttons["demo"].setFocus()
        self.resize(560, 420)

    def choose(self, key: str) -> None:
        if key not in CHOICES:
            raise ValueError(f"unknown choice {key!r} (one of {', '.join(CHOICES)})")
        self.choice = key
        self.accept()
        self.chosen.emit(key)
