"""The image view: zoom (wheel, Ctrl +/-), pan (drag), fit (Ctrl+0), and the model's attention
heatmap over the image, one glimpse at a time, with an opacity slider and an on/off key (Space)."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPixmap, QTransform
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGraphicsItem,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..imaging import attention_image
from ..widgets.stable import StableLabel
from ..style import COLORS, icon


class ImageView(QGraphicsView):
    zoom_changed = Signal(float)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.Antialiasing | QPainter.SmoothPixmapTransform)
        self.setDragMode(QGraphicsView.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.AnchorViewCenter)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAsNeeded)
        self.setFrameShape(QFrame.NoFrame)
        self.setBackgroundBrush(QColor(COLORS["bg"]))
        self.setFocusPolicy(Qt.StrongFocus)
        self.pixmap_item = QGraphicsPixmapItem()
        self.pixmap_item.setTransformationMode(Qt.SmoothTransformation)
        self.scene().addItem(self.pixmap_item)
        self.heat_item = QGraphicsPixmapItem(self.pixmap_item)
        self.heat_item.setTransformationMode(Qt.SmoothTransformation)
        # smooth scaling of a small image to the view's size is the costly part of a repaint: keep the
        # scaled result until the item or the zoom changes
        for item in (self.pixmap_item, self.heat_item):
            item.setCacheMode(QGraphicsItem.DeviceCoordinateCache)
        self.message_item = QGraphicsSimpleTextItem()
        self.message_item.setBrush(QColor(COLORS["muted"]))
        f = QFont(self.font())
        f.setPointSizeF(f.pointSizeF() + 1)
        self.message_item.setFont(f)
        self.scene().addItem(self.message_item)
        self._fit_mode = True
        self._attention: np.ndarray | None = None
        self._overlays: list = []
        self.glimpse = 0
        self.overlay_visible = True
        self.opacity = 0.55
        self.heat_item.setOpacity(self.opacity)

    # --- content ---------------------------------------------------------------------------------
    def set_image(self, image, message: str = "") -> None:
        """Show a QImage (or nothing, with a message: loading, unreadable file...)."""
        if image is None or image.isNull():
            self.pixmap_item.setPixmap(QPixmap())
            self.heat_item.setVisible(False)
            self.message_item.setText(message)
            self.message_item.setVisible(bool(message))
            br = self.message_item.boundingRect()
            self.message_item.setPos(-br.width() / 2, -br.height() / 2)
            self.scene().setSceneRect(QRectF(-200, -100, 400, 200))
            self.resetTransform()
            return
        new_size = image.size()
        old = self.pixmap_item.pixmap()
        self.pixmap_item.setPixmap(QPixmap.fromImage(image))
        self.message_item.setVisible(False)
        self.scene().setSceneRect(QRectF(0, 0, new_size.width(), new_size.height()))
        self._place_heat()
        if self._fit_mode or old.isNull() or old.size() != new_size:
            self.fit()

    def set_attention(self, attention: np.ndarray | None, overlays=()) -> None:
        """Attention [G, K] of the current prediction (K a square grid), or None; ``overlays``: the
        heatmap images already made (one per glimpse), else they are made here."""
        self._overlays = list(overlays or ())
        self._attention = None if attention is None else np.asarray(attention)
        if self._attention is not None and self._attention.ndim == 1:
            self._attention = self._attention[None, :]
        if self._attention is None or self.glimpse >= len(self._attention):
            self.glimpse = 0
        self._place_heat()

    @property
    def n_glimpses(self) -> int:
        return 0 if self._attention is None else int(self._attention.shape[0])

    def set_glimpse(self, g: int) -> None:
        self.glimpse = max(0, min(g, self.n_glimpses - 1)) if self.n_glimpses else 0
        self._place_heat()

    def set_overlay_visible(self, on: bool) -> None:
        self.overlay_visible = on
        self._place_heat()

    def set_opacity(self, value: float) -> None:
        self.opacity = max(0.0, min(1.0, value))
        self.heat_item.setOpacity(self.opacity)

    def _place_heat(self) -> None:
        pix = self.pixmap_item.pixmap()
        if pix.isNull() or self._attention is None or not self.overlay_visible or not self.n_glimpses:
            self.heat_item.setVisible(False)
            return
        img = self._overlays[self.glimpse] if self.glimpse < len(self._overlays) else None
        if img is None:
            img = attention_image(self._attention[self.glimpse])
        if img is None:
            self.heat_item.setVisible(False)
            return
        heat = QPixmap.fromImage(img)
        self.heat_item.setPixmap(heat)
        self.heat_item.setTransform(QTransform.fromScale(pix.width() / heat.width(), pix.height() / heat.height()))
        self.heat_item.setVisible(True)

    # --- zoom / pan --------------------------------------------------------------------------------
    def fit(self) -> None:
        self._fit_mode = True
        rect = self.scene().sceneRect()
        if rect.isEmpty():
            return
        self.fitInView(rect.adjusted(-4, -4, 4, 4), Qt.KeepAspectRatio)
        self.zoom_changed.emit(self.transform().m11())

    def zoom(self, factor: float) -> None:
        cur = self.transform().m11()
        factor = max(0.05 / cur, min(factor, 40.0 / cur))
        self._fit_mode = False
        self.scale(factor, factor)
        self.zoom_changed.emit(self.transform().m11())

    def wheelEvent(self, event) -> None:  # noqa: N802
        delta = event.angleDelta().y()
        if delta:
            self.zoom(1.0015 ** delta)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self._fit_mode:
            self.fit()


def zoom_text(z: float) -> str:
    return f"Zoom {z * 100:.0f}%"


class ImagePage(QWidget):
    """The image view with its bar: caption, fit, zoom, heatmap on/off, glimpse, opacity."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.view = ImageView()
        self.caption = StableLabel("", width=80, expand=True)
        self.caption.setObjectName("muted")
        self.fit_button = QToolButton()
        self.fit_button.setIcon(icon("fit"))
        self.fit_button.setToolTip("Fit the image (Ctrl+0)")
        self.fit_button.setFocusPolicy(Qt.NoFocus)
        # labelled and set apart from the opacity slider (a bare "100%" beside it read as the opacity)
        self.zoom_label = StableLabel(zoom_text(1.0), width=84)
        self.zoom_label.setObjectName("muted")
        self.zoom_label.setToolTip("Image zoom (wheel, Ctrl +/-; Ctrl+0 fits)")
        self.heat_button = QToolButton()
        self.heat_button.setIcon(icon("heat"))
        self.heat_button.setText("Attention")
        self.heat_button.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.heat_button.setCheckable(True)
        self.heat_button.setChecked(True)
        self.heat_button.setToolTip("Show the model's attention (Space)")
        self.heat_button.setFocusPolicy(Qt.NoFocus)
        self.glimpse = QComboBox()
        self.glimpse.setToolTip("Attention glimpse ([ and ])")
        self.glimpse.setFocusPolicy(Qt.NoFocus)
        self.opacity = QSlider(Qt.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(int(self.view.opacity * 100))
        self.opacity.setFixedWidth(110)
        self.opacity.setToolTip("Heatmap opacity")
        self.opacity.setFocusPolicy(Qt.NoFocus)
        op_label = QLabel("opacity")
        op_label.setObjectName("muted")

        bar = QHBoxLayout()
        bar.setContentsMargins(10, 6, 10, 4)
        bar.setSpacing(8)
        bar.addStretch(1)
        bar.addWidget(self.heat_button)
        bar.addWidget(self.glimpse)
        bar.addWidget(op_label)
        bar.addWidget(self.opacity)
        sep = QFrame()
        sep.setFrameShape(QFrame.VLine)
        sep.setObjectName("muted")
        bar.addSpacing(6)
        bar.addWidget(sep)
        bar.addSpacing(6)
        bar.addWidget(self.zoom_label)
        bar.addWidget(self.fit_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addLayout(bar)
        lay.addWidget(self.view, 1)
        cap = QHBoxLayout()
        cap.setContentsMargins(10, 2, 10, 2)
        cap.addWidget(self.caption, 1)
        lay.addLayout(cap)

        self.fit_button.clicked.connect(self.view.fit)
        self.heat_button.toggled.connect(self.view.set_overlay_visible)
        self.opacity.valueChanged.connect(lambda v: self.view.set_opacity(v / 100))
        self.glimpse.currentIndexChanged.connect(lambda i: self.view.set_glimpse(max(0, i)))
        self.view.zoom_changed.connect(lambda z: self.zoom_label.setText(zoom_text(z)))
        self.setFocusProxy(self.view)

    def set_attention(self, attention, overlays=()) -> None:
        self.view.set_attention(attention, overlays)
        n = self.view.n_glimpses
        self.glimpse.blockSignals(True)
        if self.glimpse.count() != n:
            self.glimpse.clear()
            self.glimpse.addItems([f"glimpse {g + 1}" for g in range(n)])
        self.glimpse.setCurrentIndex(self.view.glimpse if n else -1)
        self.glimpse.blockSignals(False)
        self.glimpse.setVisible(n > 1)
        self.heat_button.setEnabled(n > 0)

    def toggle_overlay(self) -> None:
        self.heat_button.setChecked(not self.heat_button.isChecked())

    def step_glimpse(self, step: int) -> None:
        n = self.view.n_glimpses
        if n > 1:
            self.glimpse.setCurrentIndex((self.view.glimpse + step) % n)
