"""The look: a calm dark theme (Fusion + palette + a small style sheet) and a few drawn icons.

Colours are named once here; widgets that paint themselves (probability bars, vote histograms,
status chips) take them from ``COLORS`` so the whole app stays consistent.
"""
from __future__ import annotations

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QApplication

COLORS = {
    "bg": "#1b1f24",
    "panel": "#22272e",
    "panel_alt": "#272d35",
    "raised": "#2d333b",
    "border": "#373e47",
    "text": "#d5dbe3",
    "muted": "#8b949e",
    "accent": "#4c9be8",
    "accent_dim": "#2f5f8f",
    "good": "#4fb286",
    "warn": "#e3a74f",
    "bad": "#e06c75",
    "violet": "#a78bdb",
    "selection": "#2f4a66",
}

#: status -> (label, colour) for chips in the queue and the answer panel
STATUS_STYLE = {
    "new": ("new", "#8b949e"),
    "labelled": ("labelled", "#6e9ec4"),
    "proposed": ("proposed", "#4c9be8"),
    "accepted": ("accepted", "#4fb286"),
    "corrected": ("corrected", "#a78bdb"),
    "auto_accepted": ("auto-accepted", "#3aa6a0"),
    "flagged": ("flagged", "#e06c75"),
    "skipped": ("skipped", "#e3a74f"),
}


def color(name: str) -> QColor:
    return QColor(COLORS.get(name, name))


STYLE_SHEET = """
QMainWindow, QDialog { background: %(bg)s; }
QWidget { color: %(text)s; }
QMainWindow::separator { background: %(bg)s; width: 4px; height: 4px; }
QMainWindow::separator:hover { background: %(accent_dim)s; }
QDockWidget { titlebar-close-icon: none; font-weight: 600; }
QDockWidget::title { background: %(bg)s; padding: 6px 8px 4px 10px; color: %(muted)s; text-transform: uppercase; }
QToolTip { background: %(raised)s; color: %(text)s; border: 1px solid %(border)s; padding: 4px; }
QMenuBar { background: %(bg)s; border-bottom: 1px solid %(panel)s; }
QMenuBar::item { padding: 4px 10px; background: transparent; }
QMenuBar::item:selected { background: %(raised)s; border-radius: 4px; }
QMenu { background: %(panel)s; border: 1px solid %(border)s; padding: 4px; }
QMenu::item { padding: 5px 24px 5px 20px; border-radius: 4px; }
QMenu::item:selected { background: %(selection)s; }
QMenu::item:disabled { color: %(muted)s; }
QMenu::separator { height: 1px; background: %(border)s; margin: 4px 8px; }
QStatusBar { background: %(bg)s; color: %(muted)s; border-top: 1px solid %(panel)s; }
QStatusBar::item { border: none; }
QTableView, QListView, QTreeView, QListWidget, QTableWidget {
    background: %(panel)s; alternate-background-color: %(panel_alt)s; border: 1px solid %(border)s;
    border-radius: 6px; gridline-color: transparent; selection-background-color: %(selection)s;
    selection-color: %(text)s; outline: 0;
}
QTableView::item { padding: 2px 4px; border: none; }
QHeaderView::section {
    background: %(panel)s; color: %(muted)s; border: none; border-bottom: 1px solid %(border)s;
    padding: 5px 6px; font-weight: 600;
}
QLineEdit, QComboBox, QSpinBox, QDoubleSpinBox, QPlainTextEdit, QTextEdit {
    background: %(bg)s; border: 1px solid %(border)s; border-radius: 5px; padding: 4px 6px;
    selection-background-color: %(accent_dim)s;
}
QLineEdit:focus, QComboBox:focus, QSpinBox:focus, QDoubleSpinBox:focus, QPlainTextEdit:focus { border-color: %(accent)s; }
QComboBox::drop-down { border: none; width: 18px; }
QComboBox QAbstractItemView { background: %(panel)s; border: 1px solid %(border)s; selection-background-color: %(selection)s; }
QPushButton, QToolButton {
    background: %(raised)s; border: 1px solid %(border)s; border-radius: 5px; padding: 5px 12px;
}
QToolButton { padding: 3px 6px; }
QPushButton:hover, QToolButton:hover { border-color: %(accent)s; }
QPushButton:pressed, QToolButton:pressed, QToolButton:checked { background: %(selection)s; }
QPushButton:default { background: %(accent_dim)s; border-color: %(accent)s; }
QPushButton:disabled, QToolButton:disabled { color: %(muted)s; background: %(panel)s; }
QProgressBar { background: %(bg)s; border: 1px solid %(border)s; border-radius: 4px; text-align: center; height: 14px; }
QProgressBar::chunk { background: %(accent)s; border-radius: 3px; }
QSlider::groove:horizontal { height: 4px; background: %(border)s; border-radius: 2px; }
QSlider::sub-page:horizontal { background: %(accent)s; border-radius: 2px; }
QSlider::handle:horizontal { background: %(text)s; width: 12px; margin: -5px 0; border-radius: 6px; }
QTabBar::tab { background: %(bg)s; color: %(muted)s; padding: 5px 12px; border: none; }
QTabBar::tab:selected { color: %(text)s; border-bottom: 2px solid %(accent)s; }
QScrollBar:vertical { background: transparent; width: 10px; margin: 0; }
QScrollBar::handle:vertical { background: %(border)s; border-radius: 4px; min-height: 24px; }
QScrollBar:horizontal { background: transparent; height: 10px; margin: 0; }
QScrollBar::handle:horizontal { background: %(border)s; border-radius: 4px; min-width: 24px; }
QScrollBar::add-line, QScrollBar::sub-line { width: 0; height: 0; }
QGroupBox { border: 1px solid %(border)s; border-radius: 6px; margin-top: 14px; padding-top: 6px; }
QGroupBox::title { subcontrol-origin: margin; left: 10px; padding: 0 4px; color: %(muted)s; }
QGraphicsView { background: %(bg)s; border: none; }
QLabel#muted, QLabel[muted="true"] { color: %(muted)s; }
QLabel#questionText { font-size: 15pt; font-weight: 600; }
QLabel#sectionTitle { color: %(muted)s; font-weight: 600; font-size: 8pt; letter-spacing: 1px; }
QFrame#card { background: %(panel)s; border: 1px solid %(border)s; border-radius: 8px; }
QFrame#hintBar { background: %(panel)s; border-top: 1px solid %(border)s; }
QLabel#kbd { background: %(raised)s; border: 1px solid %(border)s; border-radius: 3px; padding: 0 4px;
             font-family: "DejaVu Sans Mono"; font-size: 8pt; color: %(text)s; }
""" % COLORS


def apply_theme(app: QApplication) -> None:
    """Fusion style, a dark palette and the style sheet; readable default font."""
    app.setStyle("Fusion")
    pal = QPalette()
    c = color
    pal.setColor(QPalette.Window, c("bg"))
    pal.setColor(QPalette.WindowText, c("text"))
    pal.setColor(QPalette.Base, c("panel"))
    pal.setColor(QPalette.AlternateBase, c("panel_alt"))
    pal.setColor(QPalette.Text, c("text"))
    pal.setColor(QPalette.Button, c("raised"))
    pal.setColor(QPalette.ButtonText, c("text"))
    pal.setColor(QPalette.Highlight, c("selection"))
    pal.setColor(QPalette.HighlightedText, c("text"))
    pal.setColor(QPalette.ToolTipBase, c("raised"))
    pal.setColor(QPalette.ToolTipText, c("text"))
    pal.setColor(QPalette.PlaceholderText, c("muted"))
    pal.setColor(QPalette.Link, c("accent"))
    for role in (QPalette.WindowText, QPalette.Text, QPalette.ButtonText):
        pal.setColor(QPalette.Disabled, role, c("muted"))
    app.setPalette(pal)
    font = QFont(app.font())
    if font.pointSizeF() < 9.5:
        font.setPointSizeF(9.5)
    app.setFont(font)
    app.setStyleSheet(STYLE_SHEET)


# --- icons (drawn here as SVG, so there is nothing to ship or license) ---------------------------------

_ICONS = {
    "app": """<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 64 64'>
      <rect x='4' y='4' width='56' height='56' rx='12' fill='#22272e' stroke='#4c9be8' stroke-width='3'/>
      <circle cx='24' cy='26' r='9' fill='#4fb286'/><rect x='33' y='30' width='17' height='17' rx='2' fill='#e3a74f'/>
      <path d='M14 50 L26 36 L34 44 L40 38 L50 50 Z' fill='#4c9be8' opacity='0.8'/>
      <text x='44' y='24' font-family='DejaVu Sans' font-weight='bold' font-size='18' fill='#d5dbe3'>?</text></svg>""",
    "accept": """<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24'>
      <path d='M4 12.5 L9.5 18 L20 6.5' fill='none' stroke='#4fb286' stroke-width='3' stroke-linecap='round' stroke-linejoin='round'/></svg>""",
    "skip": """<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24'>
      <path d='M5 6 L12 12 L5 18 Z M12 6 L19 12 L12 18 Z' fill='#e3a74f'/></svg>""",
    "flag": """<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24'>
      <path d='M6 21 V4' stroke='#e06c75' stroke-width='2.2' stroke-linecap='round'/>
      <path d='M7 4 H18 L15.5 8 L18 12 H7 Z' fill='#e06c75'/></svg>""",
    "undo": """<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24'>
      <path d='M9 7 L4 12 L9 17' fill='none' stroke='#d5dbe3' stroke-width='2.2' stroke-linecap='round' stroke-linejoin='round'/>
      <path d='M4.5 12 H14 A5 5 0 0 1 14 22' fill='none' stroke='#d5dbe3' stroke-width='2.2' stroke-linecap='round'/></svg>""",
    "redo": """<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24'>
      <path d='M15 7 L20 12 L15 17' fill='none' stroke='#d5dbe3' stroke-width='2.2' stroke-linecap='round' stroke-linejoin='round'/>
      <path d='M19.5 12 H10 A5 5 0 0 0 10 22' fill='none' stroke='#d5dbe3' stroke-width='2.2' stroke-linecap='round'/></svg>""",
    "train": """<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24'>
      <path d='M3 19 L8 13 L12 16 L20 6' fill='none' stroke='#4c9be8' stroke-width='2.4' stroke-linecap='round' stroke-linejoin='round'/>
      <circle cx='20' cy='6' r='2' fill='#4c9be8'/></svg>""",
    "fit": """<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24' fill='none' stroke='#d5dbe3' stroke-width='2' stroke-linecap='round'>
      <path d='M4 9 V4 H9 M15 4 H20 V9 M20 15 V20 H15 M9 20 H4 V15'/></svg>""",
    "heat": """<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24'>
      <rect x='3' y='3' width='8' height='8' rx='1.5' fill='#e06c75'/><rect x='13' y='3' width='8' height='8' rx='1.5' fill='#e3a74f'/>
      <rect x='3' y='13' width='8' height='8' rx='1.5' fill='#3aa6a0'/><rect x='13' y='13' width='8' height='8' rx='1.5' fill='#2f4a66'/></svg>""",
}


def icon(name: str, size: int = 64) -> QIcon:
    """A drawn icon by name (``app``, ``accept``, ``skip``, ``flag``, ``undo``, ``redo``, ``train``, ``fit``, ``heat``)."""
    from PySide6.QtSvg import QSvgRenderer

    svg = _ICONS.get(name)
    if svg is None:
        return QIcon()
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    pix = QPixmap(size, size)
    pix.fill(Qt.transparent)
    p = QPainter(pix)
    renderer.render(p)
    p.end()
    return QIcon(pix)
