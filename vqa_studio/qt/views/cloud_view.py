"""The point-cloud view and cuboid editor: a free orbit view plus top, side and front close-ups of the
selected cuboid, as annotators know it from CVAT.

* Free view (``cuboid_gl.FreeView``): left drag orbits, right / middle / Ctrl+left drag pans, wheel
  zooms, a click selects the cuboid under the mouse. **N** (or the toolbar's "New cuboid"), then a
  click, places a cuboid at the picked point (the nearest displayed point to the mouse ray, or the
  ground under the mouse) standing on the ground.
* Close-ups (``cuboid_gl.CloseUpView``): orthographic, aligned with the selected cuboid, showing the
  points around it. Drag a corner or an edge to resize (the opposite side stays), the inside to
  move, the pink knob of the top view to rotate (yaw); wheel zooms, drag outside the box pans,
  double-click re-frames.
* Keys (in any of the four views): arrows move the selected cuboid along its own axes (as drawn in
  the top view), PageUp / PageDown move it up / down, Shift + those keys resize, Q / E rotate; the
  step scales with the top view's zoom, Ctrl makes it 5x finer. Tab / Shift+Tab next / previous
  cuboid, F frames it in the free view, Delete deletes it, Esc cancels placing or a drag.
* Colour by RGB, height, or the model's attention (``set_attention``), point size.
* Large clouds: a level of detail (``core.data.clouds.LevelOfDetail``) is computed once per cloud,
  off the GUI thread; the free view draws ``moving_budget`` points while the camera moves and
  ``still_budget`` points when it rests. The whole cloud stays on disk.

Every edit is a core command (``core.cuboids``) pushed on the undo stack wrapped in a
``CuboidUndoCommand``; the view redraws itself when any of them is done, undone or redone.

Embedding (the main window)::

    view = CloudView(undo_stack=window.undo_stack)
    window.register_media_view("cloud", view)
    view.set_item(project, item_id, cloud_path)     # when a cloud item becomes current
    view.set_attention(centres, values)             # the model's attention for the current question
    view.shutdown()                                 # at close
"""
from __future__ import annotations

import itertools
import math
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
from PySide6.QtCore import QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QUndoStack, QVector3D
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...core import cuboids as cub
from ...core.data.clouds import Cloud, LevelOfDetail, load_cloud
from ...core.geometry import Cuboid, points_in_cuboid, translate
from ..style import COLORS
from . import cuboid_gl as cgl
from . import cuboid_handles as ch
from .cuboid_undo import CuboidUndoCommand

__all__ = ["CloudView", "CloudLevels", "prepare_cloud", "add_coarse_level", "compute_colors", "COLOR_MODES"]

COLOR_MODES = ("rgb", "height", "attention")
_MODE_NAMES = {"rgb": "RGB", "height": "Height", "attention": "Attention"}
DEFAULT_LABELS = ("box", "sphere", "cylinder", "cone", "torus", "car", "pedestrian", "cyclist")
HINT = ("N new · click select · Tab next · arrows move · PgUp/PgDn up/down · Shift+keys resize · "
        "Q/E rotate · Ctrl finer · Del delete · F frame")


# --- preparing a cloud for display (pure numpy; runs in a worker thread) --------------------------------------

@dataclass
class CloudLevels:
    """What the view draws of one cloud: a coarse level (while the camera moves) and a fine one (at
    rest), each with positions (relative to ``origin``), file colours and display colours."""

    n_points: int
    coarse_xyz: np.ndarray
    fine_xyz: np.ndarray
    coarse_rgb: np.ndarray | None
    fine_rgb: np.ndarray | None
    zrange: tuple[float, float]
    ground_z: float
    origin: np.ndarray
    path: Path | None = None
    lod_sizes: list[int] = field(default_factory=list)
    coarse_rgba: np.ndarray | None = None
    fine_rgba: np.ndarray | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    coarse_pending: bool = False  # the coarse level is still to be computed (``add_coarse_level``)
    color_mode: str = "rgb"  # what the display colours were computed for
    color_attention: Any = None

    @property
    def same_level(self) -> bool:
        return self.coarse_xyz is self.fine_xyz


def add_coarse_level(levels: CloudLevels, moving_budget: int, mode: str = "rgb", attention=None
                     ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, list[int]]:
    """The coarse level of a cloud prepared with ``defer_coarse`` (its fine level is the whole
    cloud): (xyz, rgb, rgba colours, level sizes). Does not change ``levels``."""
    lod = LevelOfDetail(levels.fine_xyz, budgets=[moving_budget])
    idx = lod.indices(moving_budget)
    xyz = np.ascontiguousarray(levels.fine_xyz[idx])
    rgb = None if levels.fine_rgb is None else np.ascontiguousarray(levels.fine_rgb[idx])
    tmp = CloudLevels(levels.n_points, xyz, xyz, rgb, rgb, levels.zrange, levels.ground_z, levels.origin)
    rgba = compute_colors(tmp, mode, attention)[1]
    return xyz, rgb, rgba, lod.sizes


def prepare_cloud(source: str | Path | Cloud | np.ndarray, moving_budget: int | None = 250_000,
                  still_budget: int | None = 1_500_000, mode: str = "rgb", attention=None,
                  defer_coarse: bool = False) -> CloudLevels:
    """Load (if a path) and thin a cloud for display, and colour it. ``moving_budget`` None: no
    coarse level; ``still_budget`` None: every point at rest.

    With ``defer_coarse``, a cloud that fits ``still_budget`` is returned at once with its fine level
    only (``coarse_pending``): the first frame does not wait for the level of detail, and
    ``add_coarse_level`` computes the coarse one afterwards."""
    t0 = time.perf_counter()
    path = None
    if isinstance(source, (str, Path)):
        path = Path(source)
        cloud = load_cloud(path)
    elif isinstance(source, Cloud):
        cloud = source
        path = source.path
    else:
        cloud = Cloud(np.asarray(source, dtype=np.float32)[:, :3])
    t1 = time.perf_counter()
    n = len(cloud)
    budgets = [b for b in (moving_budget, still_budget) if b is not None and b < n]
    pending = False
    if defer_coarse and (still_budget is None or n <= still_budget) and budgets:
        budgets, pending = [], True
    if budgets:
        lod = LevelOfDetail(cloud, budgets=budgets)
        fine_idx = lod.indices(still_budget) if still_budget is not None else lod.indices(None)
        coarse_idx = lod.indices(moving_budget) if moving_budget is not None else fine_idx
        sizes = lod.sizes
    else:
        fine_idx = coarse_idx = None
        sizes = [n]
    t2 = time.perf_counter()

    def take(a, idx):
        if a is None:
            return None
        return a if idx is None else np.ascontiguousarray(a[idx])

    fine_xyz = take(cloud.xyz, fine_idx)
    fine_rgb = take(cloud.rgb, fine_idx)
    if coarse_idx is fine_idx or (coarse_idx is not None and fine_idx is not None and len(coarse_idx) == len(fine_idx)):
        coarse_xyz, coarse_rgb = fine_xyz, fine_rgb
    else:
        coarse_xyz, coarse_rgb = take(cloud.xyz, coarse_idx), take(cloud.rgb, coarse_idx)
    z = fine_xyz[:, 2]
    sample = z if len(z) <= 200_000 else z[:: max(1, len(z) // 200_000)]
    lo, ground, hi = np.percentile(sample, [1.0, 0.5, 99.0])
    levels = CloudLevels(
        n_points=n, coarse_xyz=coarse_xyz, fine_xyz=fine_xyz, coarse_rgb=coarse_rgb, fine_rgb=fine_rgb,
        zrange=(float(lo), float(hi) if hi > lo else float(lo) + 1.0), ground_z=float(ground),
        origin=np.zeros(3) if cloud.origin is None else np.asarray(cloud.origin, dtype=np.float64),
        path=path, lod_sizes=sizes, coarse_pending=pending,
    )
    levels.coarse_rgba, levels.fine_rgba = compute_colors(levels, mode, attention)
    levels.color_mode, levels.color_attention = mode, attention
    t3 = time.perf_counter()
    levels.seconds = {"load": t1 - t0, "lod": t2 - t1, "colour": t3 - t2}
    return levels


def compute_colors(levels: CloudLevels, mode: str, attention=None) -> tuple[np.ndarray, np.ndarray]:
    """RGBA float32 colours of the coarse and the fine level for a colour mode. Attention without
    attention values shows RGB; RGB without colours in the file shows height."""

    def one(xyz, rgb):
        if mode == "attention" and attention is not None:
            centres, values = attention  # in the file's coordinates
            shifted = np.asarray(centres, dtype=np.float64).reshape(-1, 3) - levels.origin
            return cgl.rgba(cgl.attention_colors(xyz, shifted, values))
        if mode in ("rgb", "attention") and rgb is not None:
            return cgl.rgba(rgb)
        return cgl.rgba(cgl.height_colors(xyz[:, 2], levels.zrange))

    fine = one(levels.fine_xyz, levels.fine_rgb)
    coarse = fine if levels.same_level else one(levels.coarse_xyz, levels.coarse_rgb)
    return coarse, fine


# --- background jobs ---------------------------------------------------------------------------------------

class _Jobs(QObject):
    """Runs a function in a daemon thread; the result comes back on the GUI thread. Only the latest
    job of each kind is delivered (a newer cloud makes an older load stale)."""

    _finished = Signal(str, int, object, object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._tokens = itertools.count(1)
        self._latest: dict[str, int] = {}
        self._callbacks: dict[int, tuple[Callable, Callable | None]] = {}
        self._running = 0
        self._closed = False
        self._finished.connect(self._deliver)

    @property
    def busy(self) -> bool:
        return self._running > 0

    def submit(self, kind: str, fn: Callable[[], Any], on_done: Callable[[Any], None],
               on_error: Callable[[BaseException], None] | None = None) -> int:
        token = next(self._tokens)
        self._latest[kind] = token
        self._callbacks[token] = (on_done, on_error)
        self._running += 1
        signal = self._finished

        def run() -> None:
            try:
                result, error = fn(), None
            except BaseException as exc:  # noqa: BLE001 - handed to the GUI thread
                result, error = None, exc
            try:
                signal.emit(kind, token, result, error)
            except RuntimeError:  # the view is gone
                pass

        threading.Thread(target=run, name=f"vqa-cloud-{kind}", daemon=True).start()
        return token

    def cancel(self, kind: str) -> None:
        self._latest.pop(kind, None)

    def close(self) -> None:
        self._closed = True
        self._latest.clear()

    def _deliver(self, kind: str, token: int, result: Any, error: Any) -> None:
        self._running -= 1
        on_done, on_error = self._callbacks.pop(token, (None, None))
        if self._closed or self._latest.get(kind) != token:
            return
        del self._latest[kind]
        if error is not None:
            if on_error is not None:
                on_error(error)
        elif on_done is not None:
            on_done(result)


# --- the widget -------------------------------------------------------------------------------------------

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


_STYLE = """
#cloudPanel { background: %(bg)s; border: 1px solid %(border)s; border-radius: 4px; }
#cloudPanelHead { background: %(panel)s; color: %(text)s; padding: 3px 8px; border-bottom: 1px solid %(border)s; }
#cloudToolbar { background: %(panel)s; border-bottom: 1px solid %(border)s; }
#cloudToolbar QToolButton { padding: 3px 8px; border: 1px solid %(border)s; border-radius: 4px; background: %(raised)s; }
#cloudToolbar QToolButton:checked { background: %(accent_dim)s; border-color: %(accent)s; }
#cloudHint { color: %(muted)s; padding: 2px 8px; }
#cloudList { background: %(panel)s; border: 1px solid %(border)s; border-radius: 4px; }
""" % COLORS


class CloudView(QWidget):
    """The four-view cuboid editor over one point-cloud item (see the module docstring)."""

    cloud_loaded = Signal(int)  # number of points in the file, once it is displayed
    selection_changed = Signal(int)  # cuboid id, -1 for none
    cuboids_changed = Signal()
    message = Signal(str)  # errors and notes for the status bar

    def __init__(self, parent: QWidget | None = None, *, undo_stack: QUndoStack | None = None,
                 annotator: str | None = None, moving_budget: int | None = 250_000,
                 still_budget: int | None = 1_500_000, labels: Sequence[str] = DEFAULT_LABELS):
        super().__init__(parent)
        self.setObjectName("cloudView")
        self.setStyleSheet(_STYLE)
        self.own_stack = undo_stack is None
        self.undo_stack = undo_stack if undo_stack is not None else QUndoStack(self)
        self.annotator = annotator
        self.moving_budget = moving_budget
        self.still_budget = still_budget
        self.project: Any = None
        self.item_id: int | None = None
        self.cloud_path: Path | None = None
        self.levels: CloudLevels | None = None
        self.color_mode = "rgb"
        self.attention: tuple[np.ndarray, np.ndarray] | None = None
        self.point_size = 2.0
        self._stored: list[cub.StoredCuboid] = []
        self._selected: int | None = None
        self._preview: Cuboid | None = None
        self._template: Cuboid | None = None  # size and label of the next new cuboid
        self._crop: np.ndarray | None = None
        self._jobs = _Jobs(self)
        self._text_items: dict[int, Any] = {}
        self._closed = False
        self._crop_timer = QTimer(self)  # re-crop the close-ups' points after a zoom / pan settles
        self._crop_timer.setSingleShot(True)
        self._crop_timer.setInterval(120)
        self._crop_timer.timeout.connect(self._update_crop)
        self._build(labels)
        if self.own_stack:
            for act, seq in ((self.undo_stack.createUndoAction(self, "Undo"), QKeySequence.Undo),
                             (self.undo_stack.createRedoAction(self, "Redo"), QKeySequence.Redo)):
                act.setShortcut(seq)
                act.setShortcutContext(Qt.WidgetWithChildrenShortcut)
                self.addAction(act)

    # --- layout -------------------------------------------------------------------------------------------
    def _build(self, labels: Sequence[str]) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)

        bar = QFrame(self)
        bar.setObjectName("cloudToolbar")
        tl = QHBoxLayout(bar)
        tl.setContentsMargins(6, 4, 6, 4)
        tl.setSpacing(6)
        self.new_button = QToolButton(bar)
        self.new_button.setText("New cuboid (N)")
        self.new_button.setCheckable(True)
        self.new_button.setToolTip("Then click in the 3D view where the cuboid should stand")
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
        outer.addWidget(bar)

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
        outer.addWidget(split, 1)

        self.hint = QLabel(HINT, self)
        self.hint.setObjectName("cloudHint")
        self.hint.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        outer.addWidget(self.hint)

        # free-view overlays: other cuboids, the selected one
        self._boxes = cgl.LinesItem(pos=np.zeros((0, 3), np.float32), mode="lines", width=1.5, glOptions=cgl.OVERLAY)
        self._boxes.setDepthValue(5)
        self._sel_box = cgl.LinesItem(pos=np.zeros((0, 3), np.float32), mode="lines", width=3.0,
                                      glOptions=cgl.OVERLAY, color=cgl._rgbf(cgl.SELECTED_COLOR))
        self._sel_box.setDepthValue(6)
        self.free.addItem(self._boxes)
        self.free.addItem(self._sel_box)
        self._update_buttons()

    def sizeHint(self) -> QSize:
        return QSize(1280, 800)

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

    # --- content ------------------------------------------------------------------------------------------
    def set_item(self, project: Any, item_id: int, cloud_path: str | Path | None = None) -> None:
        """Show an item's cloud and cuboids; edits go to ``project``. The cloud is loaded and thinned
        in a worker thread (``cloud_loaded`` when it is shown); the cuboids show at once."""
        if cloud_path is None:
            cloud_path = project.media_path(project.item(item_id))
        cloud_path = Path(cloud_path)
        same = (project is self.project and item_id == self.item_id and self.cloud_path == cloud_path
                and self.levels is not None)
        self.cancel_edits()
        self.project, self.item_id = project, item_id
        if not same:
            self._selected = None
            self.attention = None
            self._set_levels(None)
            self.cloud_path = cloud_path
            self._load(cloud_path)
        self.reload_cuboids()

    def set_cloud(self, cloud: Cloud | np.ndarray | str | Path, project: Any = None, item_id: int | None = None) -> None:
        """Show a cloud file, or a cloud already in memory (a viewer only, unless a project and an item
        are given)."""
        self.cancel_edits()
        self.project, self.item_id = project, item_id
        self._selected = None
        self.attention = None
        self.cloud_path = Path(cloud) if isinstance(cloud, (str, Path)) else getattr(cloud, "path", None)
        self._set_levels(None)
        self._load(cloud)
        self.reload_cuboids()

    def clear(self, message: str = "") -> None:
        self.cancel_edits()
        self._jobs.cancel("load")
        self.project = self.item_id = self.cloud_path = None
        self._selected = None
        self.attention = None
        self._set_levels(None)
        self._stored = []
        self._refresh()
        self.info.setText(message)

    def _load(self, source) -> None:
        name = Path(source).name if isinstance(source, (str, Path)) else "cloud"
        self.info.setText(f"loading {name}…")
        mode, att = self.color_mode, self.attention
        mb, sb = self.moving_budget, self.still_budget
        self._jobs.submit("load", lambda: prepare_cloud(source, mb, sb, mode, att, defer_coarse=True), self._install,
                          self._load_failed)

    def _load_failed(self, exc: BaseException) -> None:
        self.info.setText("cannot show the cloud")
        self._report(exc)

    def _install(self, levels: CloudLevels) -> None:
        first = self.levels is None
        self._set_levels(levels)
        if first:
            self._fit_camera()
        self._refresh()
        if levels.coarse_pending and self.moving_budget is not None:
            self._start_coarse(levels)
        if levels.color_mode != self.color_mode or levels.color_attention is not self.attention:
            self._recolor()  # the colouring changed while the cloud was loading (attention arrived)
        self.cloud_loaded.emit(levels.n_points)

    def _start_coarse(self, lv: CloudLevels) -> None:
        mode, att, budget = self.color_mode, self.attention, int(self.moving_budget)

        def done(result) -> None:
            if self.levels is not lv:
                return
            xyz, rgb, rgba, sizes = result
            lv.coarse_xyz, lv.coarse_rgb, lv.coarse_rgba, lv.lod_sizes = xyz, rgb, rgba, sizes
            lv.coarse_pending = False
            coarse = cgl.PointsItem(pos=xyz, color=rgba, size=self.point_size, glOptions="opaque")
            self.free.set_levels(coarse, self.free.fine)
            if self.color_mode != mode or self.attention is not att:
                self._recolor()
            self._update_info()

        self._jobs.submit("coarse", lambda: add_coarse_level(lv, budget, mode, att), done, self._report)

    def _set_levels(self, levels: CloudLevels | None) -> None:
        self.levels = levels
        if levels is None:
            self.free.set_levels(None, None)
            self._crop = None
            for v in self.closeups.values():
                v.set_points(np.zeros((0, 3), np.float32), np.zeros((0, 4), np.float32), self.point_size + 1)
            return
        fine = cgl.PointsItem(pos=levels.fine_xyz, color=levels.fine_rgba, size=self.point_size, glOptions="opaque")
        coarse = None
        if not levels.same_level:
            coarse = cgl.PointsItem(pos=levels.coarse_xyz, color=levels.coarse_rgba, size=self.point_size,
                                    glOptions="opaque")
        self.free.set_levels(coarse, fine)
        self._update_crop()

    def _fit_camera(self) -> None:
        lv = self.levels
        if lv is None:
            return
        xyz = lv.coarse_xyz
        lo, hi = np.percentile(xyz[:: max(1, len(xyz) // 50_000)], [1, 99], axis=0)
        centre = (lo + hi) / 2.0
        extent = float(np.linalg.norm(hi - lo))
        self.free.setCameraPosition(pos=QVector3D(float(centre[0]), float(centre[1]), float(lv.zrange[0])),
                                    distance=max(extent * 1.05, 1.0), elevation=40, azimuth=-65)

    # --- colours ----------------------------------------------------------------------------------------
    def set_color_mode(self, mode: str) -> None:
        if mode not in COLOR_MODES:
            raise ValueError(f"unknown colour mode {mode!r} (one of {', '.join(COLOR_MODES)})")
        if mode == "attention" and self.attention is None:
            self.message.emit("no attention for this question yet")
        self.color_mode = mode
        i = self.color_box.findData(mode)
        if self.color_box.currentIndex() != i:
            self.color_box.blockSignals(True)
            self.color_box.setCurrentIndex(i)
            self.color_box.blockSignals(False)
        self._recolor()

    def set_attention(self, centres, values, glimpse: int | None = None) -> None:
        """The model's attention for the current question: ``values`` [K] (or [G, K]: one glimpse,
        or their mean when ``glimpse`` is None) over region centres [K, 3] in the cloud's
        coordinates. Switches the colouring to attention; ``None`` centres clear it."""
        if centres is None or values is None:
            self.attention = None
            if self.color_mode == "attention":
                self.set_color_mode("rgb")
            return
        c = np.asarray(centres, dtype=np.float32).reshape(-1, 3)
        v = np.asarray(values, dtype=np.float32)
        if v.ndim == 2:
            v = v[glimpse] if glimpse is not None else v.mean(axis=0)
        v = v.reshape(-1)
        if len(v) != len(c):
            raise ValueError(f"attention: {len(c)} centres but {len(v)} values")
        self.attention = (c, v)
        self.set_color_mode("attention")

    def _recolor(self) -> None:
        lv = self.levels
        if lv is None:
            return
        mode, att, coarse_xyz = self.color_mode, self.attention, lv.coarse_xyz

        def done(colors):
            if self.levels is not lv:
                return
            if lv.coarse_xyz is not coarse_xyz:  # the coarse level arrived meanwhile: colour it too
                self._recolor()
                return
            lv.coarse_rgba, lv.fine_rgba = colors
            lv.color_mode, lv.color_attention = mode, att
            self.free.fine.setData(color=lv.fine_rgba)
            if self.free.coarse is not None:
                self.free.coarse.setData(color=lv.coarse_rgba)
            self._update_crop()

        self._jobs.submit("color", lambda: compute_colors(lv, mode, att), done, self._report)

    def set_point_size(self, px: float) -> None:
        self.point_size = float(px)
        if self.size_box.value() != int(px):
            self.size_box.blockSignals(True)
            self.size_box.setValue(int(px))
            self.size_box.blockSignals(False)
        for it in (self.free.fine, self.free.coarse):
            if it is not None:
                it.setData(size=self.point_size)
        self._update_crop()

    # --- cuboids ----------------------------------------------------------------------------------------
    @property
    def cuboids(self) -> list[cub.StoredCuboid]:
        return list(self._stored)

    @property
    def selected_id(self) -> int | None:
        return self._selected

    def selected(self) -> cub.StoredCuboid | None:
        return next((s for s in self._stored if s.id == self._selected), None)

    def _origin(self) -> np.ndarray:
        return self.levels.origin if self.levels is not None else np.zeros(3)

    def _to_display(self, c: Cuboid) -> Cuboid:
        o = self._origin()
        return translate(c, -o[0], -o[1], -o[2]) if np.any(o) else c

    def _to_store(self, c: Cuboid) -> Cuboid:
        o = self._origin()
        return translate(c, o[0], o[1], o[2]) if np.any(o) else c

    def display_cuboid(self, cuboid_id: int | None = None) -> Cuboid | None:
        """A cuboid as drawn (the preview during a drag), in the view's coordinates."""
        cid = self._selected if cuboid_id is None else cuboid_id
        if cid == self._selected and self._preview is not None:
            return self._preview
        s = next((s for s in self._stored if s.id == cid), None)
        return self._to_display(s.cuboid) if s is not None else None

    def reload_cuboids(self) -> None:
        if self.project is not None and self.item_id is not None:
            self._stored = cub.list_cuboids(self.project, self.item_id)
            known = {self.label_box.itemText(i) for i in range(self.label_box.count())}
            for label in sorted({s.label for s in self._stored} - known):
                if label:
                    self.label_box.addItem(label)
        else:
            self._stored = []
        if self._selected is not None and not any(s.id == self._selected for s in self._stored):
            self._selected = None
        self._refresh()
        self.cuboids_changed.emit()

    def select(self, cuboid_id: int | None) -> None:
        if cuboid_id is not None and not any(s.id == cuboid_id for s in self._stored):
            raise KeyError(f"no cuboid {cuboid_id} in this item")
        if cuboid_id == self._selected:
            return
        self.cancel_edits()
        self._selected = cuboid_id
        sel = self.selected()
        if sel is not None:
            self._template = sel.cuboid
        self._refresh(refit=True)
        self.selection_changed.emit(-1 if cuboid_id is None else cuboid_id)

    def cancel_edits(self) -> None:
        for v in self.closeups.values():
            v.cancel_drag()
        self._preview = None
        self.new_button.setChecked(False)

    def _refresh(self, refit: bool = False) -> None:
        """Redraw everything that depends on the cuboids and the selection."""
        self._update_list()
        self._update_boxes()
        sel = self.display_cuboid()
        for name, v in self.closeups.items():
            v.editable = self.project is not None
            v.set_cuboid(sel, realign=True, refit=refit)
            self.heads[name].setText(self._closeup_title(name, sel))
        self._update_crop()
        self._update_buttons()
        self._update_info()
        if sel is not None:
            self.label_box.blockSignals(True)
            self.label_box.setCurrentText(sel.label)
            self.label_box.blockSignals(False)

    def _update_list(self) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for s in self._stored:
            it = QListWidgetItem(f"#{s.id}  {s.label or '(no label)'}" + ("  · import" if s.source == "import" else ""))
            it.setData(Qt.UserRole, s.id)
            self.list.addItem(it)
            if s.id == self._selected:
                self.list.setCurrentItem(it)
        self.list.blockSignals(False)

    def _on_list_current(self, cur, _prev) -> None:
        if cur is not None:
            self.select(cur.data(Qt.UserRole))

    def _update_boxes(self) -> None:
        segs, cols = [], []
        for s in self._stored:
            if s.id == self._selected:
                continue
            lines = cgl.box_lines(self._to_display(s.cuboid))
            segs.append(lines)
            cols.append(np.tile(np.array(cgl._rgbf(cgl.label_color(s.label)), np.float32), (len(lines), 1)))
        if segs:
            self._boxes.setData(pos=np.concatenate(segs), color=np.concatenate(cols))
        else:
            self._boxes.setData(pos=np.zeros((0, 3), np.float32))
        for t in self._text_items.values():
            self.free.removeItem(t)
        self._text_items = {}
        for s in self._stored:
            c = self._to_display(s.cuboid)
            color = cgl.SELECTED_COLOR if s.id == self._selected else (225, 230, 238)
            t = cgl.text_item(f"#{s.id} {s.label}", _label_pos(c), color=color, size=10)
            t.setDepthValue(7)
            self.free.addItem(t)
            self._text_items[s.id] = t
        self._update_selected_box()

    def _update_selected_box(self) -> None:
        sel = self.display_cuboid()
        self._sel_box.setData(pos=cgl.box_lines(sel) if sel is not None else np.zeros((0, 3), np.float32))
        if sel is not None and self._selected in self._text_items:
            self._text_items[self._selected].setData(pos=_label_pos(sel))
        self.free.update()

    def _update_crop(self) -> None:
        lv, sel = self.levels, self.display_cuboid()
        empty = np.zeros((0, 3), np.float32)
        if lv is None or sel is None:
            for v in self.closeups.values():
                v.set_points(empty, np.zeros((0, 4), np.float32), self.point_size + 1)
            self._crop = None
            return
        # what the close-ups can show: along the box's length, width and height, the larger of a margin
        # around the box and each view's visible half-extent (so no crop edge shows), capped
        m = max(0.6, 0.6 * float(max(sel.length, sel.width, sel.height)))
        half = sel.size / 2.0 + m
        for name, view in self.closeups.items():
            fr = view.frame()
            if fr is None:
                continue
            a, b = ch.VIEW_AXES[name]
            off = view.offset
            half[a] = max(half[a], fr.half_width + abs(float(off @ fr.right)))
            half[b] = max(half[b], fr.half_height + abs(float(off @ fr.up)))
        half = np.minimum(half, sel.size / 2.0 + 25.0)
        cx, cy, cz = sel.cx, sel.cy, sel.cz
        region = Cuboid(cx, cy, cz, 2 * half[0], 2 * half[1], 2 * half[2], sel.yaw)
        r = float(np.hypot(half[0], half[1]))
        xyz = lv.fine_xyz
        near = np.flatnonzero(np.abs(xyz[:, 0] - cx) <= r)
        near = near[np.abs(xyz[near, 1] - cy) <= r]
        idx = near[points_in_cuboid(xyz[near], region)]
        self._crop = idx
        pos, col = xyz[idx], lv.fine_rgba[idx]
        # each close-up only shows what is near the box along its viewing direction (the side view does
        # not show the objects in front of or behind the box); the top view keeps the ground around it
        local = (pos.astype(np.float64) - sel.center) @ ch.axes_of(sel).T
        for name, v in self.closeups.items():
            depth = ({0, 1, 2} - set(ch.VIEW_AXES[name])).pop()
            keep = np.abs(local[:, depth]) <= sel.size[depth] / 2.0 + (2.0 * m if depth == 2 else m)
            v.set_points(pos[keep], col[keep], self.point_size + 1)

    def _update_buttons(self) -> None:
        editable = self.project is not None and self.item_id is not None
        self.new_button.setEnabled(editable)
        self.delete_button.setEnabled(editable and self._selected is not None)

    def _update_info(self) -> None:
        lv = self.levels
        if lv is None:
            return
        shown = self.free.shown_points
        txt = f"{lv.n_points:,} points · showing {shown:,}"
        if not lv.same_level:
            txt += " (moving)" if self.free.moving else f" (moving: {len(lv.coarse_xyz):,})"
        txt += f" · {len(self._stored)} cuboids"
        self.info.setText(txt)

    # --- editing ---------------------------------------------------------------------------------------
    def _push(self, command: cub.CuboidCommand, merge_key: str | None = None) -> bool:
        if self.project is None:
            self.message.emit("this cloud is shown without a project: nothing can be edited")
            return False
        wrapper = CuboidUndoCommand(command, self.project, self, self._report, merge_key, item_id=self.item_id)
        self.undo_stack.push(wrapper)
        return wrapper.error is None

    def _report(self, exc: BaseException) -> None:
        text = str(exc) or type(exc).__name__
        self.hint.setText(f"<span style='color:{COLORS['bad']}'>{text}</span>")
        self.message.emit(text)

    def command_applied(self, command: cub.CuboidCommand, op: str, project: Any = None,
                        item_id: int | None = None) -> None:
        """Called by ``CuboidUndoCommand`` after a do / undo / redo (also from the main window's
        Edit menu): reload the cuboids and select what the command touched. Edits of another item
        (undone while this one is shown) change nothing here."""
        if self._closed:
            return
        if (project is not None and project is not self.project) or (item_id is not None and item_id != self.item_id):
            return
        self._preview = None
        select = self._selected
        ids = command.cuboid_ids
        if op in ("do", "redo", "undo") and ids:
            select = ids[0]
        self.reload_cuboids()
        if select is not None and not any(s.id == select for s in self._stored):
            select = None
        if select != self._selected:
            self._selected = select
            self._refresh(refit=True)
            self.selection_changed.emit(-1 if select is None else select)
        if op != "failed":
            self.hint.setText(HINT)

    def create_cuboid(self, cuboid: Cuboid) -> int | None:
        """Add a cuboid (in the view's coordinates) through the undo stack; returns its id."""
        if self.item_id is None:
            return None
        cmd = cub.CreateCuboid(self.item_id, self._to_store(cuboid), annotator=self.annotator)
        self._template = cuboid
        if self._push(cmd):
            return cmd.cuboid_id
        return None

    def update_selected(self, new: Cuboid, kind: str = "edit", merge_key: str | None = None) -> bool:
        """Give the selected cuboid a new geometry (view coordinates) through the undo stack."""
        sel = self.selected()
        if sel is None:
            return False
        stored = self._to_store(new)
        if cub.same_geometry(stored, sel.cuboid):
            return False
        cmd = cub.UpdateCuboid(sel.id, stored, old=sel.cuboid, kind=kind, annotator=self.annotator)
        self._template = new
        return self._push(cmd, merge_key)

    def delete_selected(self) -> bool:
        sel = self.selected()
        if sel is None:
            return False
        return self._push(cub.DeleteCuboid(sel.id, annotator=self.annotator))

    def set_label(self, label: str) -> None:
        label = " ".join(str(label).split())
        sel = self.selected()
        if sel is None or not label or label == sel.label:
            return
        self.update_selected(replace(self._to_display(sel.cuboid), label=label), kind="label")

    def _on_preview(self, c: Cuboid) -> None:
        self._preview = c
        self.free.start_moving(edit=True)  # the coarse level keeps a drag smooth on a software renderer
        self._update_selected_box()
        for name, v in self.closeups.items():
            if not v.dragging:
                v.set_cuboid(c, realign=False)
            self.heads[name].setText(self._closeup_title(name, c))

    def _on_commit(self, c: Cuboid, kind: str) -> None:
        self._preview = None
        if not self.update_selected(c, kind):
            self._refresh()

    # placing
    def _set_place_mode(self, on: bool) -> None:
        on = bool(on) and self.project is not None and self.item_id is not None
        self.free.set_place_mode(on)
        if self.new_button.isChecked() != on:
            self.new_button.blockSignals(True)
            self.new_button.setChecked(on)
            self.new_button.blockSignals(False)
        if on:
            self.hint.setText("Click in the 3D view where the new cuboid should stand (Esc cancels)")
            self.free.setFocus()
        else:
            self.hint.setText(HINT)

    def begin_place(self) -> None:
        self._set_place_mode(True)

    def pick(self, x: float, y: float, radius: float = 7.0) -> np.ndarray | None:
        """The displayed point nearest the mouse ray through pixel (x, y) of the free view (within
        ``radius`` pixels, the closest to the camera among those), or where the ray meets the ground."""
        lv = self.levels
        if lv is not None:
            xyz = lv.coarse_xyz if self.free.moving else lv.fine_xyz
            px, w = self.free.project(xyz)
            d2 = (px[:, 0] - x) ** 2 + (px[:, 1] - y) ** 2
            cand = np.flatnonzero((w > 0) & (d2 <= radius * radius))
            if len(cand):
                return xyz[cand[np.argmin(w[cand])]].astype(np.float64)
        o, d = self.free.ray(x, y)
        ground = lv.ground_z if lv is not None else 0.0
        if d[2] < -1e-6:
            return o + d * ((ground - o[2]) / d[2])
        return None

    def ground_at(self, x: float, y: float, radius: float = 1.0) -> float:
        """The ground height near (x, y): a low percentile of the points within ``radius`` metres."""
        lv = self.levels
        if lv is None:
            return 0.0
        xyz = lv.fine_xyz
        near = np.flatnonzero(np.abs(xyz[:, 0] - x) <= radius)
        near = near[(xyz[near, 0] - x) ** 2 + (xyz[near, 1] - y) ** 2 <= radius * radius]
        if len(near) < 20:
            return lv.ground_z
        return float(np.percentile(xyz[near, 2], 2.0))

    def place_at(self, x: float, y: float) -> int | None:
        """Place a new cuboid at pixel (x, y) of the free view, standing on the ground."""
        self._set_place_mode(False)
        p = self.pick(x, y)
        if p is None:
            self.message.emit("click on the cloud or the ground to place a cuboid")
            return None
        ground = min(self.ground_at(p[0], p[1]), float(p[2]))
        t = self._template
        length, width, height = (t.length, t.width, t.height) if t is not None else (1.0, 1.0, 1.0)
        label = " ".join(self.label_box.currentText().split()) or (t.label if t is not None else "object")
        new = Cuboid(float(p[0]), float(p[1]), ground + height / 2.0, length, width, height, 0.0, label)
        return self.create_cuboid(new)

    def cuboid_at(self, x: float, y: float) -> int | None:
        """The cuboid the mouse ray through free-view pixel (x, y) enters first."""
        o, d = self.free.ray(x, y)
        best, best_t = None, math.inf
        for s in self._stored:
            c = self.display_cuboid(s.id)
            t = _ray_box(o, d, c)
            if t is not None and t < best_t:
                best, best_t = s.id, t
        return best

    def _on_free_click(self, x: float, y: float, _mods) -> None:
        if self.free.place_mode:
            self.place_at(x, y)
        else:
            self.select(self.cuboid_at(x, y))

    def frame_selected(self) -> None:
        c = self.display_cuboid()
        if c is None:
            return
        self.free.setCameraPosition(pos=QVector3D(c.cx, c.cy, c.cz),
                                    distance=max(3.0 * float(max(c.length, c.width, c.height)), 2.0))
        self.free.start_moving()

    # keys
    def step(self) -> float:
        """The keyboard move / resize step (metres): 4 pixels of the top close-up."""
        fr = self.closeups["top"].frame()
        scale = fr.scale if fr is not None else 0.01
        return float(np.clip(4.0 * scale, 0.002, 1.0))

    def rotation_step(self) -> float:
        """The keyboard rotation step (radians): the box's corner moves about 4 pixels of the top view."""
        c = self.display_cuboid()
        r = 0.5 * math.hypot(c.length, c.width) if c is not None else 1.0
        return float(np.clip(self.step() / max(r, 0.05), math.radians(0.1), math.radians(5.0)))

    _MOVE_KEYS = {Qt.Key_Right: (0, 1), Qt.Key_Left: (0, -1), Qt.Key_Up: (1, 1), Qt.Key_Down: (1, -1),
                  Qt.Key_PageUp: (2, 1), Qt.Key_PageDown: (2, -1)}

    def claims_key(self, ev: QKeyEvent) -> bool:
        """Keys the views take before the window's shortcuts do (only while they are meaningful)."""
        key, mods = ev.key(), ev.modifiers()
        if mods & (Qt.AltModifier | Qt.MetaModifier):
            return False
        if mods & Qt.ControlModifier and key not in self._MOVE_KEYS:
            return False
        if key in (Qt.Key_N, Qt.Key_Escape) and self.project is not None:
            return True
        if key in (Qt.Key_Tab, Qt.Key_Backtab) and self._stored:
            return True
        if self._selected is None:
            return False
        return key in self._MOVE_KEYS or key in (Qt.Key_Q, Qt.Key_E, Qt.Key_Delete, Qt.Key_Backspace, Qt.Key_F)

    def handle_key(self, ev: QKeyEvent) -> bool:
        key, mods = ev.key(), ev.modifiers()
        if not self.claims_key(ev):
            return False
        if key == Qt.Key_N:
            self._set_place_mode(not self.free.place_mode)
            return True
        if key == Qt.Key_Escape:
            self.cancel_edits()
            self._refresh()
            return True
        if key in (Qt.Key_Tab, Qt.Key_Backtab):
            ids = [s.id for s in self._stored]
            back = key == Qt.Key_Backtab or bool(mods & Qt.ShiftModifier)
            i = ids.index(self._selected) if self._selected in ids else -1
            self.select(ids[(i + (-1 if back else 1)) % len(ids)])
            return True
        if key in (Qt.Key_Delete, Qt.Key_Backspace):
            self.delete_selected()
            return True
        if key == Qt.Key_F:
            self.frame_selected()
            return True
        fine = 0.2 if mods & Qt.ControlModifier else 1.0
        c = self.display_cuboid()
        if c is None:
            return False
        self.free.start_moving(edit=True)
        if key in (Qt.Key_Q, Qt.Key_E):
            sign = 1.0 if key == Qt.Key_Q else -1.0  # Q: counter-clockwise seen from above
            new = ch.nudge(c, "rotate", 2, sign * self.rotation_step() * fine)
            self.update_selected(new, "rotate", merge_key=f"rotate:{self._selected}")
            return True
        axis, sign = self._MOVE_KEYS[key]
        what = "resize" if mods & Qt.ShiftModifier else "move"
        new = ch.nudge(c, what, axis, sign * self.step() * fine)
        self.update_selected(new, what, merge_key=f"{what}:{self._selected}")
        return True

    def keyPressEvent(self, ev: QKeyEvent) -> None:
        if self.handle_key(ev):
            ev.accept()
            return
        super().keyPressEvent(ev)

    def grab_image(self):
        """The whole editor as a QImage, GL views included as they are on screen. (``QWidget.grab``
        alone misses what the GL views paint with QPainter, such as the cuboid labels.)"""
        from PySide6.QtCore import QPoint
        from PySide6.QtGui import QPainter

        img = self.grab().toImage()
        painter = QPainter(img)
        for view in (self.free, *self.closeups.values()):
            if view.isVisible() and view.has_gl():
                painter.drawImage(view.mapTo(self, QPoint(0, 0)), view.grabFramebuffer())
        painter.end()
        return img

    # --- tests, benchmarks, shutdown ---------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        """True while a cloud is being loaded or recoloured in the background."""
        return self._jobs.busy

    def wait_until_idle(self, timeout: float = 10.0) -> bool:
        """Process events until the background work is delivered (for scripts and tests)."""
        deadline = time.monotonic() + timeout
        app = QApplication.instance()
        while time.monotonic() < deadline:
            app.processEvents()
            if not self._jobs.busy:
                app.processEvents()
                return True
            time.sleep(0.005)
        return False

    def shutdown(self) -> None:
        """Stop delivering background results (the worker threads are daemons and end by themselves)."""
        self._closed = True
        self._jobs.close()

    def closeEvent(self, ev) -> None:
        self.shutdown()
        super().closeEvent(ev)


def _label_pos(c: Cuboid) -> np.ndarray:
    return np.array([c.cx, c.cy, c.top + 0.15 + 0.15 * c.height])


def _ray_box(o: np.ndarray, d: np.ndarray, c: Cuboid) -> float | None:
    """Distance along the ray (o, d) to where it enters box ``c`` (slab test in the box's frame)."""
    ax = ch.axes_of(c)
    lo_o = ax @ (o - c.center)
    lo_d = ax @ d
    half = c.size / 2.0
    t0, t1 = -math.inf, math.inf
    for k in range(3):
        if abs(lo_d[k]) < 1e-12:
            if abs(lo_o[k]) > half[k]:
                return None
            continue
        a = (-half[k] - lo_o[k]) / lo_d[k]
        b = (half[k] - lo_o[k]) / lo_d[k]
        if a > b:
            a, b = b, a
        t0, t1 = max(t0, a), min(t1, b)
        if t0 > t1:
            return None
    if t1 < 0:
        return None
    return max(t0, 0.0)
