"""The cuboid editor's layout (``CloudView`` inherits it): the toolbar, the object list, the free
view and the three close-ups in panels with titles, the hint line, and the free view's box overlays.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...core.geometry import Cuboid
from ..style import COLORS
from . import cuboid_gl as cgl
from . import cuboid_handles as ch
from .cloud_levels import COLOR_MODES

__all__ = ["CloudLayout", "DEFAULT_LABELS", "EDIT_HINT", "HINT", "STYLE"]

_MODE_NAMES = {"rgb": "RGB", "height": "Height", "attention": "Attention"}
DEFAULT_LABELS = ("box", "sphere", "cylinder", "cone", "torus", "car", "pedestrian", "cyclist")
HINT = "Click a cuboid or press Tab to edit it (then the arrows, Q/E, N, Del, Home are the editor's; Esc when done)"
EDIT_HINT = ("Editing #{id}: arrows move · PgUp/PgDn up/down · Shift+keys resize · Q/E rotate · Ctrl finer · "
             "N new · Del delete · Home frame · Tab next · Esc done (the keys go back to the review)")


def _panel(title: str, body: QWidget, parent: QWidget | None = None) -> tuple[QFrame, QLabel]:
    frame = QFrame(parent)
    frame.setObjectName("cloudPanel")
    lay = QVBoxLayout(frame)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(0)
    head = QLabel(title, frame)
    head.setObjectName("cloudPanelHead")
    head.setTextFormat(Qt.RichText)
    head.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)  # long hints clip, never widen the editor
    lay.addWidget(head)
    lay.addWidget(body, 1)
    return frame, head


STYLE = """
#cloudPanel { background: %(bg)s; border: 1px solid %(border)s; border-radius: 4px; }
#cloudPanelHead { background: %(panel)s; color: %(text)s; padding: 3px 8px; border-bottom: 1px solid %(border)s; }
#cloudToolbar { background: %(panel)s; border-bottom: 1px solid %(border)s; }
#cloudToolbar QToolButton { padding: 3px 8px; border: 1px solid %(border)s; border-radius: 4px; background: %(raised)s; }
#cloudToolbar QToolButton:checked { background: %(accent_dim)s; border-color: %(accent)s; }
#cloudHint { color: %(muted)s; padding: 2px 8px; }
#cloudList { background: %(panel)s; border: 1px solid %(border)s; border-radius: 4px; }
""" % COLORS


class CloudLayout:
    """The widgets of ``CloudView`` (a mixin: ``CloudView`` is the QWidget)."""

    def _build(self, labels: Sequence[str]) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self._build_toolbar(labels))
        outer.addWidget(self._build_views(), 1)
        self.hint = QLabel(HINT, self)
        self.hint.setObjectName("cloudHint")
        self.hint.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        outer.addWidget(self.hint)
        self._build_overlays()
        self._update_buttons()

    def _build_toolbar(self, labels: Sequence[str]) -> QFrame:
        """New, Delete, the label, the colour mode, the point size and the info line."""
        bar = QFrame(self)
        bar.setObjectName("cloudToolbar")
        tl = QHBoxLayout(bar)
        tl.setContentsMargins(6, 4, 6, 4)
        tl.setSpacing(6)
        self.new_button = QToolButton(bar)
        self.new_button.setText("New cuboid")
        self.new_button.setCheckable(True)
        self.new_button.setToolTip("Then click in the 3D view where the cuboid should stand "
                                   "(N does the same while a cuboid is selected)")
        self.new_button.toggled.connect(self._set_place_mode)
        self.delete_button = QToolButton(bar)
        self.delete_button.setText("Delete")
        self.delete_button.setToolTip("Delete the selected cuboid (Del)")
        self.delete_button.clicked.connect(self.delete_selected)
        self.label_box = QComboBox(bar)
        self.label_box.setEditable(True)
        self.label_box.setInsertPolicy(QComboBox.NoInsert)
        self.label_box.addItems(list(labels))
        self.label_box.setMinimumContentsLength(10)
        self.label_box.setToolTip("The selected cuboid's label (and the label of new cuboids)")
        self.label_box.activated.connect(lambda _i: self.set_label(self.label_box.currentText()))
        self.label_box.lineEdit().editingFinished.connect(lambda: self.set_label(self.label_box.currentText()))
        self.color_box = QComboBox(bar)
        for mode in COLOR_MODES:
            self.color_box.addItem(_MODE_NAMES[mode], mode)
        self.color_box.setToolTip("Colour the points by their RGB, their height, or the model's attention")
        self.color_box.currentIndexChanged.connect(lambda i: self.set_color_mode(self.color_box.itemData(i)))
        self.size_box = QSpinBox(bar)
        self.size_box.setRange(1, 12)
        self.size_box.setValue(int(self.point_size))
        self.size_box.setSuffix(" px")
        self.size_box.setToolTip("Point size")
        self.size_box.valueChanged.connect(self.set_point_size)
        self.info = QLabel("", bar)
        self.info.setStyleSheet(f"color: {COLORS['muted']};")
        self.info.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        tl.addWidget(self.new_button)
        tl.addWidget(self.delete_button)
        tl.addSpacing(8)
        tl.addWidget(QLabel("Label", bar))
        tl.addWidget(self.label_box)
        tl.addSpacing(8)
        tl.addWidget(QLabel("Colour", bar))
        tl.addWidget(self.color_box)
        tl.addWidget(QLabel("Points", bar))
        tl.addWidget(self.size_box)
        self.info.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        tl.addWidget(self.info, 1)
        return bar

    def _build_views(self) -> QSplitter:
        """The cuboid list, the free view and the three close-ups, each in a titled panel."""
        split = QSplitter(Qt.Horizontal, self)
        split.setChildrenCollapsible(False)
        split.setHandleWidth(4)
        self.list = QListWidget(split)
        self.list.setObjectName("cloudList")
        self.list.setMinimumWidth(120)
        self.list.currentItemChanged.connect(self._on_list_current)
        self.free = cgl.FreeView(split)
        self.free.setMinimumSize(320, 240)
        self.free.key_handler = self.handle_key
        self.free.key_claims = self.claims_key
        self.free.clicked.connect(self._on_free_click)
        self.free.moving_changed.connect(lambda _m: self._update_info())
        free_panel, self.free_head = _panel(self._free_title(), self.free, split)
        right = QSplitter(Qt.Vertical, split)
        right.setChildrenCollapsible(False)
        right.setHandleWidth(4)
        self.closeups: dict[str, cgl.CloseUpView] = {}
        self.heads: dict[str, QLabel] = {}
        for name in ch.VIEWS:
            view = cgl.CloseUpView(name, right)
            view.setMinimumSize(200, 140)
            view.key_handler = self.handle_key
            view.key_claims = self.claims_key
            view.on_preview = self._on_preview
            view.on_commit = self._on_commit
            view.on_view_changed = self._crop_timer.start
            panel, head = _panel(self._closeup_title(name, None), view, right)
            right.addWidget(panel)
            self.closeups[name] = view
            self.heads[name] = head
        split.addWidget(self.list)
        split.addWidget(free_panel)
        split.addWidget(right)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 3)
        split.setStretchFactor(2, 2)
        split.setSizes([150, 760, 460])
        return split

    def _build_overlays(self) -> None:
        """The free view's overlays: the other cuboids, the selected one."""
        self._boxes = cgl.LinesItem(pos=np.zeros((0, 3), np.float32), mode="lines", width=1.5, glOptions=cgl.OVERLAY)
        self._boxes.setDepthValue(5)
        self._sel_box = cgl.LinesItem(pos=np.zeros((0, 3), np.float32), mode="lines", width=3.0,
                                      glOptions=cgl.OVERLAY, color=cgl._rgbf(cgl.SELECTED_COLOR))
        self._sel_box.setDepthValue(6)
        self.free.addItem(self._boxes)
        self.free.addItem(self._sel_box)

    @staticmethod
    def _free_title() -> str:
        return (f"<b>3D</b> &nbsp;<span style='color:{COLORS['muted']}'>drag orbit · right-drag pan · "
                f"wheel zoom · click select · N then click: new cuboid</span>")

    @staticmethod
    def _closeup_title(name: str, c: Cuboid | None) -> str:
        tips = {"top": "edges, corners: resize · inside: move · pink knob: rotate",
                "side": "edges: length, height · inside: move",
                "front": "edges: width, height · inside: move"}
        dims = ""
        if c is not None:
            a, b = ch.VIEW_AXES[name]
            names = ("l", "w", "h")
            dims = f"{names[a]} {c.size[a]:.2f} × {names[b]} {c.size[b]:.2f} m"
            if name == "top":
                dims += f" · yaw {math.degrees(c.yaw):.1f}°"
        return (f"<b>{name.upper()}</b> &nbsp;<span style='color:{COLORS['accent']}'>{dims}</span>"
                f" &nbsp;<span style='color:{COLORS['muted']}'>{tips[name] if c is not None else 'select a cuboid'}</span>")
