"""The review queue's table model: a lazily fetched model over ranked questions (its dock, table
and painting are in ``queue_dock``).

The model holds only the ordered question ids of the current query (``Project.queue_ids``, loaded
in a worker thread); rows are fetched from the database in pages of 100 when the view first asks
for them (``Project.queue_rows``) and kept in a bounded page cache, so 100,000+ questions scroll
smoothly. Thumbnails are decoded in the background (``ImageCache``) and painted when they arrive.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal

from ...core.types import QueueFilter, QueueRow, Status
from ..imaging import THUMB_KINDS
from ..lru import LRU
from ..style import STATUS_STYLE
from .queue_outliers import _outlier_state, arrange_queue, outlier_text, outlier_tooltip
from .queue_outliers import DEFAULT_OUTLIER_THRESHOLD

COL_THUMB, COL_QUESTION, COL_PROPOSED, COL_CONF, COL_SCORE, COL_STATUS, COL_TYPE, COL_OUTLIER = range(8)
HEADERS = ["", "Question", "Proposal", "Conf.", "Uncertainty", "Status", "Type", "Outlier"]
PAGE = 100
MAX_PAGES = 60
FIRST_PAGE = 300

#: what "To review" means: nobody has looked at these yet
TO_REVIEW = (Status.NEW, Status.PROPOSED)

STATUS_FILTERS: list[tuple[str, tuple[Status, ...] | None]] = [
    ("To review", TO_REVIEW),
    ("All questions", None),
    ("Proposed", (Status.PROPOSED,)),
    ("New (no proposal)", (Status.NEW,)),
    ("Auto-accepted", (Status.AUTO_ACCEPTED,)),
    ("Accepted", (Status.ACCEPTED,)),
    ("Corrected", (Status.CORRECTED,)),
    ("Flagged", (Status.FLAGGED,)),
    ("Skipped", (Status.SKIPPED,)),
    ("Labelled (imported)", (Status.LABELLED,)),
]


_DISPLAY, _USER, _DECORATION, _TOOLTIP, _ALIGN = (int(Qt.DisplayRole), int(Qt.UserRole), int(Qt.DecorationRole),
                                                int(Qt.ToolTipRole), int(Qt.TextAlignmentRole))
_ROLES = frozenset((_DISPLAY, _USER, _DECORATION, _TOOLTIP, _ALIGN))


def cell_text(row: QueueRow, c: int) -> str | None:
    if c == COL_QUESTION:
        return row.text
    if c == COL_PROPOSED:
        return row.proposed or row.answer or ""
    if c == COL_CONF:
        return "" if row.confidence is None else f"{row.confidence * 100:.0f}%"
    if c == COL_SCORE:
        return "" if row.score is None else f"{row.score:.3f}"
    if c == COL_STATUS:
        return STATUS_STYLE.get(row.status.value, (row.status.value,))[0]
    if c == COL_TYPE:
        return row.question_type
    return None


@dataclass
class QueueQuery:
    order_by: str | None = None  # an acquisition method, or "id"; None: the project's setting
    descending: bool = True
    filters: QueueFilter = field(default_factory=lambda: QueueFilter(statuses=list(TO_REVIEW)))
    outliers: str = "all"  # likely outliers: all | hide | only (core.active.selection.arrange_queue)


class QueueModel(QAbstractTableModel):
    """Ranked questions of the current query; rows fetched on demand, page by page."""

    loaded = Signal()  # the first ids of a new query are in (the view was reset)
    extended = Signal()  # the rest of the query's ids were appended
    load_failed = Signal(str)
    outliers_known = Signal(bool)  # whether the active model has outlier scores (the column is worth showing)

    def __init__(self, project, images, runner, parent=None):
        super().__init__(parent)
        self.project = project
        self.images = images
        self.runner = runner
        self.query = QueueQuery()
        self._ids: list[int] = []
        self._row_of: dict[int, int] = {}
        self._pages: LRU[int, list[QueueRow]] = LRU(MAX_PAGES)
        self._paths: dict[int, str] = {}  # item id -> media path (str)
        self._thumb_rows: dict[str, set[int]] = {}
        self._token = 0
        self._loading = False
        self.order_by = "entropy"
        self._outlier: dict[int, float] = {}  # question id -> outlier score of the active model (issue 13)
        self.outlier_threshold = DEFAULT_OUTLIER_THRESHOLD
        images.thumb_ready.connect(self._on_thumb)

    # --- loading --------------------------------------------------------------------------------
    def set_query(self, query: QueueQuery, sync: bool = False) -> None:
        self.query = query
        self.reload(sync)

    def reload(self, sync: bool = False) -> None:
        """Load the ordered ids of the current query (in a worker thread unless ``sync``).

        Two steps: the first ``FIRST_PAGE`` ids come at once (a few ms even on 100,000 questions), so
        the first item shows while the rest of the order (about a second) is read; those rows are
        then appended below without disturbing the view.
        """
        self._token += 1
        token = self._token
        q = replace(self.query, filters=replace(self.query.filters))
        project = self.project

        def first():  # -> (order, the ids read, the ids shown: outlier filter and acquisition policy applied)
            order = q.order_by or project.acquisition
            raw = project.queue_ids(order, q.filters, limit=FIRST_PAGE, descending=q.descending)
            return order, raw, arrange_queue(project, raw, q.outliers, order, head=q.descending)

        def rest(order: str):
            return arrange_queue(project, project.queue_ids(order, q.filters, descending=q.descending), q.outliers, order)

        self._loading = True
        self.runner.submit(_outlier_state, project, on_done=self._set_outliers, on_error=lambda _e: None)
        if sync:
            order, raw, ids = first()
            self._apply(token, (order, ids, {qid: r for r, qid in enumerate(ids)}), complete=len(raw) < FIRST_PAGE)
            if len(raw) >= FIRST_PAGE:
                self._extend(token, rest(order))
            return

        def got_first(res):
            order, raw, ids = res
            self._apply(token, (order, ids, {qid: r for r, qid in enumerate(ids)}), complete=len(raw) < FIRST_PAGE)
            if token == self._token and len(raw) >= FIRST_PAGE:
                self.runner.submit(rest, order, on_done=lambda all_ids: self._extend(token, all_ids),
                                   on_error=lambda exc: self._failed(token, exc))

        self.runner.submit(first, on_done=got_first, on_error=lambda exc: self._failed(token, exc))

    def _failed(self, token: int, exc: BaseException) -> None:
        if token == self._token:
            self._loading = False
            self.load_failed.emit(str(exc))

    def _apply(self, token: int, res, complete: bool = True) -> None:
        if token != self._token:
            return  # a newer query was asked for meanwhile
        order, ids, row_of = res
        self.beginResetModel()
        self.order_by = order
        self._ids, self._row_of = list(ids), row_of
        self._pages.clear()
        self._thumb_rows.clear()
        self.endResetModel()
        self._loading = not complete
        self.loaded.emit()

    def _extend(self, token: int, all_ids: list[int]) -> None:
        """Append the rest of the order below the first page (positions already shown stay put)."""
        if token != self._token:
            return
        have = self._row_of
        more = [qid for qid in all_ids if qid not in have]
        if more:
            start = len(self._ids)
            self.beginInsertRows(QModelIndex(), start, start + len(more) - 1)
            self._ids.extend(more)
            for k, qid in enumerate(more):
                have[qid] = start + k
            self.endInsertRows()
        self._loading = False
        self.extended.emit()

    @property
    def loading(self) -> bool:
        return self._loading

    def _set_outliers(self, state) -> None:
        self._outlier, self.outlier_threshold = state
        self.outliers_known.emit(bool(self._outlier))
        if self._ids:
            self.dataChanged.emit(self.index(0, COL_OUTLIER), self.index(len(self._ids) - 1, COL_OUTLIER))

    def outlier(self, question_id: int) -> float | None:
        """The question's outlier score (None: the active model has none)."""
        return self._outlier.get(question_id)

    # --- rows -----------------------------------------------------------------------------------
    def _page(self, p: int) -> list[QueueRow]:
        page = self._pages.get(p)
        if page is None:
            ids = self._ids[p * PAGE:(p + 1) * PAGE]
            page = self.project.queue_rows(ids, self.order_by, self.query.filters.model_version)
            if len(page) != len(ids):  # a question vanished meanwhile: keep the positions
                got = {r.question_id: r for r in page}
                page = [got.get(qid) for qid in ids]
            self._pages.put(p, page)
        return page

    def row(self, r: int) -> QueueRow | None:
        if not 0 <= r < len(self._ids):
            return None
        return self._page(r // PAGE)[r % PAGE]

    def question_id(self, r: int) -> int | None:
        return self._ids[r] if 0 <= r < len(self._ids) else None

    def row_of(self, question_id: int) -> int | None:
        return self._row_of.get(question_id)

    def ids(self) -> Sequence[int]:
        return self._ids

    def media_path(self, row: QueueRow) -> str:
        path = self._paths.get(row.item_id)
        if path is None:
            path = str(self.project.media_path(row.item_uri))
            self._paths[row.item_id] = path
        return path

    def apply_review(self, question_id: int, status: Status, answer: str | None) -> None:
        """Show a review's result in its row at once, without reading the database again."""
        r = self._row_of.get(question_id)
        if r is None:
            return
        page = self._pages.peek(r // PAGE)
        if page is None or page[r % PAGE] is None:
            return
        page[r % PAGE] = replace(page[r % PAGE], status=status, answer=answer)
        self.dataChanged.emit(self.index(r, 0), self.index(r, len(HEADERS) - 1))

    def refresh_questions(self, question_ids: Sequence[int]) -> None:
        """Re-read these rows (after a review action) without reloading the query."""
        rows = [self._row_of[q] for q in question_ids if q in self._row_of]
        loaded = [r for r in rows if (r // PAGE) in self._pages]
        if not loaded:
            return
        fresh = {x.question_id: x for x in self.project.queue_rows(
            [self._ids[r] for r in loaded], self.order_by, self.query.filters.model_version)}
        for r in loaded:
            qid = self._ids[r]
            if qid in fresh:
                self._pages.peek(r // PAGE)[r % PAGE] = fresh[qid]
            self.dataChanged.emit(self.index(r, 0), self.index(r, len(HEADERS) - 1))

    def next_row(self, start: int, statuses: Sequence[Status] | None, step: int = 1, limit: int = 5000) -> int | None:
        """The first row after ``start`` (in ``step`` direction) whose status is one of ``statuses``."""
        r = start + step
        n = 0
        while 0 <= r < len(self._ids) and n < limit:
            row = self.row(r)
            if row is not None and (statuses is None or row.status in statuses):
                return r
            r += step
            n += 1
        return None

    # --- Qt model API ------------------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation, role=Qt.DisplayRole):  # noqa: N802
        if orientation == Qt.Horizontal:
            if role == Qt.DisplayRole:
                if section == COL_SCORE:
                    arrow = "▼" if self.query.descending else "▲"
                    return f"{self.order_by.replace('_', ' ')} {arrow}"
                return HEADERS[section]
            if role == Qt.ToolTipRole and section == COL_SCORE:
                return "uncertainty by the chosen acquisition method (click to reverse the order)"
        elif role == Qt.DisplayRole:
            return str(section + 1)
        return None

    def data(self, index: QModelIndex, role=_DISPLAY) -> Any:
        role = int(role)
        if role not in _ROLES or not index.isValid():
            return None
        row = self.row(index.row())
        if row is None:
            return None
        c = index.column()
        if role == _DISPLAY:
            return outlier_text(self.outlier(row.question_id), self.outlier_threshold) if c == COL_OUTLIER \
                else cell_text(row, c)
        if role == _USER:
            return row
        if role == _DECORATION:
            return self.thumbnail(index.row(), row) if c == COL_THUMB else None
        if role == _TOOLTIP:
            if c == COL_QUESTION:
                ans = f"\ncurrent answer: {row.answer}" if row.answer else ""
                return f"{row.text}\n{row.item_kind.value} · split {row.split} · {row.answer_type}{ans}"
            if c == COL_PROPOSED and row.proposed:
                return f"the model's top answer: {row.proposed}"
            if c == COL_OUTLIER:
                return outlier_tooltip(self.outlier(row.question_id), self.outlier_threshold)
            return None
        if role == _ALIGN:
            return int(Qt.AlignRight | Qt.AlignVCenter) if c in (COL_CONF, COL_SCORE) else None
        return None

    def thumbnail(self, r: int, row: QueueRow):
        """The row's thumbnail if decoded (else asked for; the row repaints when it arrives)."""
        kind = row.item_kind.value
        if kind not in THUMB_KINDS:
            return None
        path = self.media_path(row)
        img = self.images.thumbnail(path, kind=kind)
        if img is None:
            self._thumb_rows.setdefault(path, set()).add(r)
        return img

    def _on_thumb(self, path: str) -> None:
        rows = self._thumb_rows.pop(path, None)
        for r in rows or ():
            if r < len(self._ids):
                idx = self.index(r, COL_THUMB)
                self.dataChanged.emit(idx, idx, [Qt.DecorationRole])
