"""Mouse and keyboard of the cuboid editor (``CloudView`` inherits it): placing a new cuboid with a
click, picking points and cuboids under the mouse, framing, and the editing keys.
"""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent, QVector3D

from ...core.geometry import Cuboid, ray_box_entry
from . import cuboid_handles as ch
from .cloud_layout import EDIT_HINT, HINT

__all__ = ["CloudInput"]


class CloudInput:
    """Placing, picking and keys (a mixin of ``CloudView``)."""

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
            self.hint.setText(self.hint_text())

    def hint_text(self) -> str:
        """The editor's key hint for its state: how to start editing, or the editing keys."""
        return EDIT_HINT.format(id=self._selected) if self._selected is not None and self.project is not None else HINT

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
            t = ray_box_entry(o, d, c)
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

    # Who owns a key (the window's review keys or the editor) is decided here, once, and shown in the
    # hints: Enter, 1-5, S, F, J/K/P, Space, letters (a correction), Ctrl+Z and the menus always reach
    # the review; while a cuboid is selected (clicked, or Tab) the editor takes the arrows, PgUp/PgDn,
    # Q/E, N, Delete, Home and Esc (Esc ends the editing, giving those keys back to the review).
    _EDIT_KEYS = (Qt.Key_Q, Qt.Key_E, Qt.Key_N, Qt.Key_Delete, Qt.Key_Backspace, Qt.Key_Home, Qt.Key_Escape)

    def editing(self) -> bool:
        """True while the editor owns its keys: a cuboid is selected, or a new one is being placed."""
        return self.project is not None and (self._selected is not None or self.free.place_mode)

    def claims_key(self, ev: QKeyEvent) -> bool:
        """Keys the editor takes before the window's shortcuts (the review keys) see them."""
        key, mods = ev.key(), ev.modifiers()
        if mods & (Qt.AltModifier | Qt.MetaModifier):
            return False
        if mods & Qt.ControlModifier and key not in self._MOVE_KEYS:
            return False
        if key in (Qt.Key_Tab, Qt.Key_Backtab):
            return bool(self._stored)
        if key == Qt.Key_Escape:
            return self.editing()
        if self._selected is None or self.project is None:
            return False
        return key in self._MOVE_KEYS or key in self._EDIT_KEYS

    def handles_key(self, ev: QKeyEvent) -> bool:
        """Keys the editor acts on when they reach it: those it claims, and (outside the main window,
        where no review shortcut takes them first) N to place a new cuboid and F to frame."""
        if self.claims_key(ev):
            return True
        if ev.modifiers() & (Qt.AltModifier | Qt.MetaModifier | Qt.ControlModifier):
            return False
        if ev.key() == Qt.Key_N:
            return self.project is not None
        return ev.key() == Qt.Key_F and self._selected is not None

    def handle_key(self, ev: QKeyEvent) -> bool:
        key, mods = ev.key(), ev.modifiers()
        if not self.handles_key(ev):
            return False
        if key == Qt.Key_N:
            self._set_place_mode(not self.free.place_mode)
            return True
        if key == Qt.Key_Escape:
            if self.free.place_mode or self._preview is not None:
                self.cancel_edits()
                self._refresh()
            else:
                self.select(None)  # done editing: the keys are the review's again
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
        if key in (Qt.Key_F, Qt.Key_Home):
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
