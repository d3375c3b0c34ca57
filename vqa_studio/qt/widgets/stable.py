"""Widgets whose size does not follow their content.

A QLabel whose text changes asks every layout above it to recompute, up to the main window (Qt
relayouts on each ``setText``), and the window then repaints more than the label. A caption or a
counter that changes at every item is drawn by ``StableLabel`` instead: ``setText`` only repaints it.
"""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QLabel, QScrollArea, QSizePolicy, QWidget

from ..style import COLORS


class StableLabel(QWidget):
    """One or a few lines of plain text, elided (or wrapped), with a constant size hint."""

    def __init__(self, text: str = "", width: int = 40, lines: int = 1, expand: bool = False, parent=None):
        super().__init__(parent)
        self._text = text
        self._hint_width = width
        self._lines = lines
        self._align = Qt.AlignLeft | Qt.AlignVCenter
        self._wrap = False
        self._color = QColor(COLORS["text"])
        self.setFixedHeight(self.fontMetrics().lineSpacing() * lines + 6)
        if expand:  # takes the room the layout has, whatever the text
            self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Fixed)
        else:
            self.setFixedWidth(width)

    def setObjectName(self, name: str) -> None:  # noqa: N802
        super().setObjectName(name)
        if name == "muted":
            self._color = QColor(COLORS["muted"])

    def setAlignment(self, align) -> None:  # noqa: N802
        self._align = align
        self.update()

    def setWordWrap(self, on: bool) -> None:  # noqa: N802
        self._wrap = on
        self.update()

    def setText(self, text: str) -> None:  # noqa: N802
        if text != self._text:
            self._text = text
            self.setToolTip(text if len(text) > 40 else "")
            self.update()

    def text(self) -> str:
        return self._text

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(self._hint_width, self.height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(0, self.height())

    def paintEvent(self, _event) -> None:  # noqa: N802
        if not self._text:
            return
        p = QPainter(self)
        p.setPen(self._color)
        r = self.rect().adjusted(2, 0, -2, 0)
        if self._wrap:
            p.drawText(r, int(self._align) | int(Qt.TextWordWrap), self._text)
        else:
            p.drawText(r, self._align, p.fontMetrics().elidedText(self._text, Qt.ElideRight, r.width()))
        p.end()


class StableScrollArea(QScrollArea):
    """A scroll area whose own size hint is fixed: what it shows never relayouts the window."""

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(320, 400)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(120, 80)


def muted_label(text: str = "") -> QLabel:
    """A word-wrapped label in the theme's muted style (hints, explanations)."""
    lab = QLabel(text)
    lab.setObjectName("muted")
    lab.setWordWrap(True)
    return lab
