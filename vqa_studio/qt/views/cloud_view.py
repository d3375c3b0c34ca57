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
  off the GUI thread (``cloud_levels.prepare_cloud``); the free view draws ``moving_budget`` points
  while the camera moves and ``still_budget`` points when it rests. The whole cloud stays on disk.

Background work (loading, the coarse level, colouring) goes through a ``workers.TaskRunner`` (only
the latest job of each kind is delivered). Every edit is a core command (``core.cuboids``) pushed on
the undo stack wrapped in a ``CuboidUndoCommand``, whose writes run on the ``writer`` (the main
window's writer thread; a view of its own otherwise); the view redraws itself when any of them is
done, undone or redone. While an update is on its way to the database the view shows (and edits
from) the geometry it will have, so quick key nudges chain.

Embedding (the main window)::

    view = CloudView(undo_stack=window.undo_stack, writer=window.writer)
    window.register_media_view("cloud", view)
    view.set_item(project, item_id, cloud_path)     # when a cloud item becomes current
    view.set_attention(centres, values)             # the model's attention for the current question
    view.shutdown()                                 # at close
"""
from __future__ import annotations

import time
from collections import deque
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from PySide6.QtCore import QEvent, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QUndoStack, QVector3D
from PySide6.QtWidgets import QApplication, QListWidgetItem, QWidget

from ...core import cuboids as cub
from ...core.data.clouds import Cloud
from ...core.geometry import Cuboid, points_in_cuboid, translate
from ..workers import TaskRunner
from . import cuboid_gl as cgl
from . import cuboid_handles as ch
from .cloud_colors import label_color
from .cloud_edit import CloudEditing
from .cloud_input import CloudInput
from .cloud_layout import DEFAULT_LABELS, STYLE, CloudLayout
from .cloud_levels import COLOR_MODES, CloudLevels, add_coarse_level, compute_colors, prepare_cloud

__all__ = ["CloudView"]


class CloudView(CloudLayout, CloudEditing, CloudInput, QWidget):
    """The four-view cuboid editor over one point-cloud item (see the module docstring)."""

    cloud_loaded = Signal(int)  # number of points in the file, once it is displayed
    selection_changed = Signal(int)  # cuboid id, -1 for none
    cuboids_changed = Signal()
    message = Signal(str)  # errors and notes for the status bar

    def __init__(self, parent: QWidget | None = None, *, undo_stack: QUndoStack | None = None,
                 annotator: str | None = None, moving_budget: int | None = 250_000,
                 still_budget: int | None = 1_500_000, labels: Sequence[str] = DEFAULT_LABELS,
                 writer: TaskRunner | None = None, runner: TaskRunner | None = None):
        """``writer``: the runner the cuboid edits are written on (the main window's writer thread;
        the view makes one of its own without it); ``runner``: the one that loads and colours clouds
        (its own by default: a large cloud must not hold up the review's reads)."""
        super().__init__(parent)
        self.setObjectName("cloudView")
        self.setStyleSheet(STYLE)
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
        self._owned: list[TaskRunner] = []  # the runners this view made, shut down with it
        self._jobs = runner if runner is not None else self._own(TaskRunner(2, "vqa-cloud", self))
        self.writer = writer if writer is not None else self._own(TaskRunner(1, "vqa-cloud-writer", self))
        # updates on their way to the database: cuboid id -> (writes pending, geometry it will have)
        self._optimistic: dict[int, tuple[int, Cuboid]] = {}
        self._queued: dict[int, deque] = {}  # id(command) -> cuboid ids of its queued updates, in order
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

    def event(self, ev) -> bool:
        # the editor itself may hold the focus (the window focuses it when a cloud item shows): the keys
        # it owns while editing are taken before the window's review shortcuts, as in its GL views
        if ev.type() == QEvent.ShortcutOverride and self.claims_key(ev):
            ev.accept()
            return True
        if ev.type() == QEvent.KeyPress and ev.key() in (Qt.Key_Tab, Qt.Key_Backtab) and self.claims_key(ev):
            self.keyPressEvent(ev)  # Tab cycles the cuboids here instead of moving the focus
            return True
        return super().event(ev)

    def keyPressEvent(self, ev: QKeyEvent) -> None:
        if self.handle_key(ev):
            ev.accept()
            return
        super().keyPressEvent(ev)

    def sizeHint(self) -> QSize:
        return QSize(1280, 800)

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
        self._jobs.forget(self._kind("load"))
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
        self._jobs.submit(prepare_cloud, source, mb, sb, mode, att, defer_coarse=True, on_done=self._install,
                          on_error=self._load_failed, kind=self._kind("load"))

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

        self._jobs.submit(add_coarse_level, lv, budget, mode, att, on_done=done, on_error=self._report, kind=self._kind("coarse"))

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

        self._jobs.submit(compute_colors, lv, mode, att, on_done=done, on_error=self._report, kind=self._kind("color"))

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
            self._stored = self._with_optimistic(cub.list_cuboids(self.project, self.item_id))
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
        self.hint.setText(self.hint_text())
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
            cols.append(np.tile(np.array(cgl._rgbf(label_color(s.label)), np.float32), (len(lines), 1)))
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
    def _kind(self, what: str) -> str:
        """A job kind of this view's (a runner may be shared: only the latest of each is delivered)."""
        return f"{what}@{id(self):x}"

    def _own(self, runner: TaskRunner) -> TaskRunner:
        self._owned.append(runner)
        return runner

    @property
    def busy(self) -> bool:
        """True while a cloud is being loaded or recoloured, or an edit written, in the background."""
        return self._jobs.pending > 0 or self.writer.pending > 0

    def wait_until_idle(self, timeout: float = 10.0) -> bool:
        """Process events until the background work and the writes are delivered (scripts and tests)."""
        deadline = time.monotonic() + timeout
        app = QApplication.instance()
        while time.monotonic() < deadline:
            app.processEvents()
            if not self.busy:
                app.processEvents()
                return True
            time.sleep(0.005)
        return False

    def shutdown(self) -> None:
        """Stop delivering background results; the runners this view made end (edits on their way
        to the database are written first)."""
        if self._closed:
            return
        self._closed = True
        for what in ("load", "coarse", "color"):
            self._jobs.forget(self._kind(what))
        for runner in self._owned:
            runner.shutdown(wait=runner is self.writer)

    def closeEvent(self, ev) -> None:
        self.shutdown()
        super().closeEvent(ev)


def _label_pos(c: Cuboid) -> np.ndarray:
    return np.array([c.cx, c.cy, c.top + 0.15 + 0.15 * c.height])
