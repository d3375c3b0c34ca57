"""Editing in the cuboid editor (``CloudView`` inherits it): every edit is a core command pushed
on the undo stack in a ``CuboidUndoCommand`` and written on the writer thread; while an update is on
its way the view shows (and edits from) the geometry it will have, so quick key nudges chain.
"""
from __future__ import annotations

from collections import deque
from dataclasses import replace
from typing import Any

from ...core import cuboids as cub
from ...core.geometry import Cuboid
from ..style import COLORS
from .cuboid_undo import CuboidUndoCommand

__all__ = ["CloudEditing"]


class CloudEditing:
    """Creating, changing and deleting cuboids through the undo stack (a mixin of ``CloudView``)."""

    def _push(self, command: cub.CuboidCommand, merge_key: str | None = None) -> bool:
        """Push ``command`` on the undo stack; it is written on the writer thread. True when pushed
        (a write that fails later is reported, and the view reloads)."""
        if self.project is None:
            self.message.emit("this cloud is shown without a project: nothing can be edited")
            return False
        wrapper = CuboidUndoCommand(command, self.project, self.writer, self.undo_stack, self, self._report,
                                    merge_key, item_id=self.item_id)
        self.undo_stack.push(wrapper)
        return not wrapper.dead

    def command_queued(self, command: cub.CuboidCommand, op: str, target) -> None:
        """Called by ``CuboidUndoCommand`` when a write is handed to the writer: an update's cuboid
        is shown (and edited) with the geometry it will have, so the next nudge chains on it."""
        if self._closed or target is None:
            return
        cid, geometry = target
        count = self._optimistic.get(cid, (0, geometry))[0]
        self._optimistic[cid] = (count + 1, geometry)
        self._queued.setdefault(id(command), deque()).append(cid)
        self._stored = self._with_optimistic(self._stored)
        self._refresh()

    def _settle(self, command: cub.CuboidCommand) -> None:
        """One queued write of ``command`` was applied (or failed)."""
        queue = self._queued.get(id(command))
        if not queue:
            return
        cid = queue.popleft()
        if not queue:
            del self._queued[id(command)]
        count, geometry = self._optimistic.get(cid, (1, None))
        if count <= 1:
            self._optimistic.pop(cid, None)
        else:
            self._optimistic[cid] = (count - 1, geometry)

    def _with_optimistic(self, stored: list[cub.StoredCuboid]) -> list[cub.StoredCuboid]:
        if not self._optimistic:
            return stored
        return [replace(s, cuboid=self._optimistic[s.id][1]) if s.id in self._optimistic else s for s in stored]

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
        self._settle(command)
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
            self.hint.setText(self.hint_text())

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
