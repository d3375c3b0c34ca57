"""The review session: the current item, its details (prefetched ahead), the review actions and
their undo/redo, and auto-advance to the next most uncertain item.

Writes go through one writer thread, in order: the GUI never waits for the database (a training
job may hold SQLite's write lock for seconds while it stores predictions), and undo/redo stay in
the order they were asked for. The view moves on at once; the row is refreshed when its write is in.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack

from ..core.commands import ReviewCommand
from ..core.errors import EditConflictError
from ..core.team import VersionedReviewCommand
from ..core.types import Action, Correction, Item, Prediction, Question, Status
from .imaging import attention_image, attention_peak
from .lru import LRU
from .team_claims import ClaimKeeper
from .undo import ReviewUndoCommand
from .widgets.queue_model import TO_REVIEW, QueueModel

PREFETCH = 5
PREFETCH_DELAY_MS = 25
THUMBS_AHEAD = 24
WRITE_DELAY_MS = 15
DETAILS_CACHE = 96


@dataclass(frozen=True)
class ItemDetails:
    question: Question
    item: Item
    media_path: str
    prediction: Prediction | None
    history: list[Correction]
    human_answers: list[tuple[str, str]]
    imported: list[dict[str, Any]]
    version: str | None
    overlays: tuple = ()  # attention heatmaps as QImages, one per glimpse (made off the GUI thread)
    peaks: tuple = ()  # each glimpse's peak attention relative to uniform
    revision: int = 0  # the question's version when read: edits are based on it (conflicts)


def load_details(project, question_id: int, version: str | None) -> ItemDetails | None:
    """Everything the review shows about one question (``Project.review_record``), with the
    attention overlays of an image item made here (off the GUI thread when prefetched)."""
    rec = project.review_record(question_id, version)
    if rec is None:
        return None
    item, pred = rec.item, rec.prediction
    overlays, peaks = (), ()
    if pred is not None and pred.attention is not None and item.kind.value == "image":
        att = np.asarray(pred.attention)
        att = att[None, :] if att.ndim == 1 else att
        overlays = tuple(attention_image(a) for a in att)
        peaks = tuple(attention_peak(a) for a in att)
    return ItemDetails(rec.question, item, str(project.media_path(item)), pred, rec.history, rec.human_answers,
                       rec.imported, version, overlays, peaks, rec.revision)


class ReviewController(QObject):
    current_changed = Signal(object)  # ItemDetails | None
    written = Signal(object, str)  # Correction, op (do | undo | redo)
    failed = Signal(str)  # a write that did not happen, in words
    notice = Signal(str)  # something to say in the status bar
    queue_done = Signal()
    conflict = Signal(object)  # EditConflictError: someone else changed the question first

    def __init__(self, project, model: QueueModel, images, bg, writer, undo_stack: QUndoStack, parent=None):
        super().__init__(parent)
        self.project = project
        self.model = model
        self.images = images
        self.bg = bg
        self.writer = writer
        self.undo_stack = undo_stack
        self.version = project.active_model
        self.current_row = -1
        self.current_qid: int | None = None
        self.current: ItemDetails | None = None
        self.advance_statuses: Sequence[Status] | None = TO_REVIEW
        self._details: LRU[int, ItemDetails] = LRU(DETAILS_CACHE)
        self._loading: set[int] = set()
        self._writes: Counter[int] = Counter()  # pending writes per question
        self._wrappers: dict[int, ReviewUndoCommand] = {}
        self.auto_advance = True
        self._prefetch_timer = QTimer(self)
        self._prefetch_timer.setSingleShot(True)
        self._prefetch_timer.setInterval(PREFETCH_DELAY_MS)
        self._prefetch_timer.timeout.connect(self._prefetch)
        self._outbox: list[tuple[ReviewCommand, str]] = []
        self._outbox_timer = QTimer(self)
        self._outbox_timer.setSingleShot(True)
        self._outbox_timer.setInterval(WRITE_DELAY_MS)
        self._outbox_timer.timeout.connect(self._flush_outbox)
        model.loaded.connect(self._on_loaded)
        model.modelReset.connect(self._forget_row)
        settings = getattr(parent, "settings", None)
        name = settings.value("review/annotator", "") if settings is not None else ""
        if name:  # the annotator's name from the settings (default: the login name, Project.annotator)
            project.annotator = str(name)
        self.conflict_dialog = None
        self.conflict.connect(self._show_conflict)
        self.claims: ClaimKeeper | None = None
        if not project.read_only and ClaimKeeper.wanted(project):
            self.claims = ClaimKeeper(project, writer, project.annotator, self)
            self.claims.held_elsewhere.connect(self._held_elsewhere)
            self.current_changed.connect(self._claim_current)

    # --- navigation -------------------------------------------------------------------------------
    @property
    def pending_writes(self) -> int:
        return sum(self._writes.values())

    def set_version(self, version: str | None) -> None:
        self.version = version
        self._details.clear()

    def _forget_row(self) -> None:
        self.current_row = -1

    def _on_loaded(self) -> None:
        row = self.model.row_of(self.current_qid) if self.current_qid is not None else None
        if row is not None:
            self.current_row = row
            self._refresh_current()
            self.current_changed.emit(self.current)
            self._prefetch_soon()
        else:
            self.go_to_row(0)

    def details(self, question_id: int) -> ItemDetails | None:
        d = self._details.get(question_id)
        if d is not None:
            return d
        d = load_details(self.project, question_id, self.version)
        if d is not None and not self._writes[question_id]:
            self._remember(d)
        return d

    def _remember(self, d: ItemDetails) -> None:
        self._details.put(d.question.id, d)

    def go_to_row(self, row: int) -> None:
        qid = self.model.question_id(row)
        if qid is None:
            self.current_row, self.current_qid, self.current = -1, None, None
            self.current_changed.emit(None)
            return
        self.current_row, self.current_qid = row, qid
        self.current = self.details(qid)
        self.current_changed.emit(self.current)
        self._prefetch_soon()

    def go_to_question(self, question_id: int) -> None:
        row = self.model.row_of(question_id)
        if row is not None:
            self.go_to_row(row)
        else:  # not in the current view (filtered out): show it anyway
            self.current_row, self.current_qid = -1, question_id
            self.current = self.details(question_id)
            self.current_changed.emit(self.current)

    def next(self) -> None:
        if self.current_row + 1 < self.model.rowCount():
            self.go_to_row(self.current_row + 1)

    def previous(self) -> None:
        if self.current_row > 0:
            self.go_to_row(self.current_row - 1)

    def _next_free(self, row: int) -> int | None:
        """The next row to review after ``row`` that no other annotator is known to hold."""
        taken = self.claims.elsewhere if self.claims is not None else {}
        r = self.model.next_row(row, self.advance_statuses)
        while r is not None and self.model.question_id(r) in taken:
            r = self.model.next_row(r, self.advance_statuses)
        return r

    def advance(self) -> None:
        """To the next item still to review below the current one (the queue is in review order),
        passing by those another annotator holds (team server)."""
        r = self._next_free(self.current_row)
        if r is None:
            r = self._next_free(-1)
            if r is not None and r == self.current_row:
                r = None
        if r is None:
            self.queue_done.emit()
            return
        self.go_to_row(r)

    def _prefetch_soon(self) -> None:
        # once the new item is painted: the reads ahead must not compete with this frame
        self._prefetch_timer.start()

    def _prefetch(self, row: int | None = None) -> None:
        row = self.current_row if row is None else row
        if row < 0:
            return
        # thumbnails of the rows the queue will scroll to next: decoded before they are shown
        for r in range(row + 1, min(row + 1 + THUMBS_AHEAD, self.model.rowCount())):
            qrow = self.model.row(r)
            if qrow is not None and qrow.item_kind.value == "image":
                self.images.request(self.model.media_path(qrow), thumb=True)
        version = self.version
        for r in [*range(row + 1, row + 1 + PREFETCH), row - 1]:
            qid = self.model.question_id(r)
            if qid is None:
                continue
            qrow = self.model.row(r)
            if qrow is not None and qrow.item_kind.value == "image":
                self.images.request(self.model.media_path(qrow))
            if qid in self._details or qid in self._loading or self._writes[qid]:
                continue
            self._loading.add(qid)
            self.bg.submit(load_details, self.project, qid, version,
                           on_done=lambda d, qid=qid, v=version: self._prefetched(qid, v, d),
                           on_error=lambda _e, qid=qid: self._loading.discard(qid))

    def _prefetched(self, qid: int, version: str | None, d: ItemDetails | None) -> None:
        self._loading.discard(qid)
        if d is not None and version == self.version and not self._writes[qid]:
            self._remember(d)

    def _refresh_current(self) -> None:
        if self.current_qid is not None:
            self._details.pop(self.current_qid, None)
            self.current = self.details(self.current_qid)

    # --- review actions --------------------------------------------------------------------------------
    def _check(self, what: str) -> ItemDetails | None:
        d = self.current
        if d is None:
            self.notice.emit(f"nothing to {what}: no item selected")
        return d

    def accept(self) -> bool:
        d = self._check("accept")
        if d is None:
            return False
        if (d.prediction is None or not d.prediction.answers) and d.question.answer is None:
            self.notice.emit("no proposal to accept here: type the answer instead")
            return False
        return self._review(self._command(d, Action.ACCEPT))

    def pick(self, k: int) -> bool:
        d = self._check("pick")
        if d is None:
            return False
        n = len(d.prediction.answers) if d.prediction else 0
        if not 1 <= k <= n:
            self.notice.emit(f"there is no proposal {k} (the model proposed {n})")
            return False
        return self._review(self._command(d, Action.PICK, pick=k))

    def correct(self, answer: str) -> bool:
        d = self._check("correct")
        if d is None or not answer.strip():
            return False
        return self._review(self._command(d, Action.CORRECT, answer=answer.strip()))

    def flag(self, note: str | None) -> bool:
        d = self._check("flag")
        if d is None:
            return False
        return self._review(self._command(d, Action.FLAG, note=(note or "").strip() or None))

    def skip(self) -> bool:
        d = self._check("skip")
        if d is None:
            return False
        return self._review(self._command(d, Action.SKIP))

    def _command(self, d: ItemDetails, action: Action, **kw) -> ReviewCommand:
        """A review command based on the version shown; while this window's own edits of the question
        are still on their way to the database, they come first (in order) and nothing is checked."""
        base = None if self._writes[d.question.id] else d.revision
        return VersionedReviewCommand(d.question.id, action, base_version=base, **kw)

    def _review(self, cmd: ReviewCommand, advance: bool = True) -> bool:
        wrapper = ReviewUndoCommand(cmd, self._execute)
        self._wrappers[id(cmd)] = wrapper
        self.undo_stack.push(wrapper)  # runs wrapper.redo() -> do
        if self.auto_advance and advance:
            self.advance()
        return True

    # --- team: conflicts and claims -----------------------------------------------------------------
    def _show_conflict(self, exc: EditConflictError) -> None:
        from PySide6.QtWidgets import QWidget

        from .dialogs.conflict import ConflictDialog

        d = self._details.get(exc.question_id) or self.details(exc.question_id)
        parent = self.parent() if isinstance(self.parent(), QWidget) else None
        self.conflict_dialog = ConflictDialog(exc, d.question.text if d else "", parent)
        self.conflict_dialog.chosen.connect(lambda choice, exc=exc: self.resolve_conflict(exc, choice))
        self.conflict_dialog.open()

    def resolve_conflict(self, exc: EditConflictError, choice: str) -> None:
        """``mine``: the annotator's answer again, as a new edit on the version now in place (a third
        edit meanwhile is another conflict); ``theirs``: nothing is written, their answer is shown."""
        if choice == "mine":
            action = Action(exc.action)
            if action in (Action.ACCEPT, Action.PICK, Action.AUTO_ACCEPT, Action.CORRECT):
                cmd = VersionedReviewCommand(exc.question_id, Action.CORRECT, answer=exc.mine,
                                             base_version=exc.current_version)
            else:
                cmd = VersionedReviewCommand(exc.question_id, action, base_version=exc.current_version)
            self._review(cmd, advance=False)
        else:
            self.notice.emit(f"question {exc.question_id}: kept '{exc.theirs}' ({exc.their_annotator or 'theirs'})")

    def _claim_current(self, _details=None) -> None:
        if self.claims is not None:
            self.claims.show(self.current_qid)

    def _held_elsewhere(self, qid: int, who: str) -> None:
        self.notice.emit(f"question {qid} is being reviewed by {who} (claimed); the queue passes it by")
        if qid == self.current_qid and self.auto_advance and not self._writes[qid]:
            self.advance()

    def _execute(self, cmd: ReviewCommand, op: str) -> None:
        qid = cmd.question_id
        self._writes[qid] += 1
        self._details.pop(qid, None)
        # handed to the writer right after this frame is painted (in order), so the write's own
        # Python work never competes with drawing the next item
        self._outbox.append((cmd, op))
        self._outbox_timer.start()
        if op in ("undo", "redo") and self.current_qid != qid:
            self.go_to_question(qid)  # show the annotator what changed back

    def _flush_outbox(self) -> None:
        self._outbox_timer.stop()
        outbox, self._outbox = self._outbox, []
        for cmd, op in outbox:
            fn: Callable = {"do": cmd.do, "undo": cmd.undo, "redo": cmd.redo}[op]
            self.writer.submit(fn, self.project, on_done=lambda c, cmd=cmd, op=op: self._written(cmd, op, c),
                               on_error=lambda e, cmd=cmd, op=op: self._write_failed(cmd, op, e))

    def _settle(self, qid: int) -> None:
        self._writes[qid] -= 1
        if self._writes[qid] <= 0:
            del self._writes[qid]

    def _written(self, cmd: ReviewCommand, op: str, correction: Correction) -> None:
        qid = cmd.question_id
        self._settle(qid)
        if op == "do":
            self._wrappers.pop(id(cmd), None)
        self._details.pop(qid, None)
        self.model.apply_review(qid, correction.after_status, correction.after_answer)
        if qid == self.current_qid:
            self._refresh_current()
            self.current_changed.emit(self.current)
        self.written.emit(correction, op)

    def _write_failed(self, cmd: ReviewCommand, op: str, exc: BaseException) -> None:
        self._settle(cmd.question_id)
        verb = {"do": cmd.action.value, "undo": "undo", "redo": "redo"}[op]
        why = self.project.fault_message(exc) or str(exc)
        self.failed.emit(f"Could not {verb} question {cmd.question_id}: {why}")
        if op == "do" and isinstance(exc, EditConflictError):
            self.conflict.emit(exc)  # both answers shown: the annotator chooses
        wrapper = self._wrappers.pop(id(cmd), None)
        if op == "do" and wrapper is not None:
            wrapper.dead = True  # never done: its undo and redo do nothing
            idx = self.undo_stack.index()
            if idx > 0 and self.undo_stack.command(idx - 1) is wrapper:
                wrapper.setObsolete(True)
                self.undo_stack.undo()  # drops the obsolete command from the stack
        self.model.refresh_questions([cmd.question_id])
        if cmd.question_id == self.current_qid:
            self._refresh_current()
            self.current_changed.emit(self.current)

    def wait_for_writes(self, timeout: float = 10.0) -> bool:
        """Block until the writer has run what was asked so far (tests, shutdown)."""
        self._flush_outbox()
        return self.writer.wait_idle(timeout)

    def close_claims(self, timeout: float = 10.0) -> None:
        """Release this annotator's claims (the project is closing) and wait for it."""
        if self.claims is not None:
            self.claims.release_all()
            self.claims = None
        self.wait_for_writes(timeout)
