"""The review queue: a lazily fetched table model over ranked questions, and its dock.

The model holds only the ordered question ids of the current query (``Project.queue_ids``, loaded
in a worker thread); rows are fetched from the database in pages of 100 when the view first asks
for them (``Project.queue_rows``) and kept in a bounded page cache, so 100,000+ questions scroll
smoothly. Thumbnails are decoded in the background (``ImageCache``) and painted when they arrive.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Any, Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...core.types import QueueFilter, QueueRow, Status
from ..style import COLORS, STATUS_STYLE

COL_THUMB, COL_QUESTION, COL_PROPOSED, COL_CONF, COL_SCORE, COL_STATUS, COL_TYPE = range(7)
HEADERS = ["", "Question", "Proposal", "Conf.", "Uncertainty", "Status", "Type"]
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
_WRAP = Qt.AlignVCenter | Qt.AlignLeft | Qt.TextWordWrap
_LEFT = Qt.AlignVCenter | Qt.AlignLeft
_RIGHT = Qt.AlignVCenter | Qt.AlignRight


def _display(row: QueueRow, c: int) -> str | None:
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


class QueueModel(QAbstractTableModel):
    """Ranked questions of the current query; rows fetched on demand, page by page."""

    loaded = Signal()  # the first ids of a new query are in (the view was reset)
    extended = Signal()  # the rest of the query's ids were appended
    load_failed = Signal(str)

    def __init__(self, project, images, runner, parent=None):
        super().__init__(parent)
        self.project = project
        self.images = images
        self.runner = runner
        self.query = QueueQuery()
        self._ids: list[int] = []
        self._row_of: dict[int, int] = {}
        self._pages: OrderedDict[int, list[QueueRow]] = OrderedDict()
        self._paths: dict[int, str] = {}  # item id -> media path (str)
        self._thumb_rows: dict[str, set[int]] = {}
        self._token = 0
        self._loading = False
        self.order_by = "entropy"
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

        def first():
            order = q.order_by or project.acquisition
            return order, project.queue_ids(order, q.filters, limit=FIRST_PAGE, descending=q.descending)

        def rest(order: str):
            return project.queue_ids(order, q.filters, descending=q.descending)

        self._loading = True
        if sync:
            order, ids = first()
            self._apply(token, (order, ids, {qid: r for r, qid in enumerate(ids)}), complete=len(ids) < FIRST_PAGE)
            if len(ids) >= FIRST_PAGE:
                self._extend(token, rest(order))
            return

        def got_first(res):
            order, ids = res
            self._apply(token, (order, ids, {qid: r for r, qid in enumerate(ids)}), complete=len(ids) < FIRST_PAGE)
            if token == self._token and len(ids) >= FIRST_PAGE:
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

    # --- rows -----------------------------------------------------------------------------------
    def _page(self, p: int) -> list[QueueRow]:
        page = self._pages.get(p)
        if page is None:
            ids = self._ids[p * PAGE:(p + 1) * PAGE]
            page = self.project.queue_rows(ids, self.order_by, self.query.filters.model_version)
            if len(page) != len(ids):  # a question vanished meanwhile: keep the positions
                got = {r.question_id: r for r in page}
                page = [got.get(qid) for qid in ids]
            self._pages[p] = page
            while len(self._pages) > MAX_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(p)
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
        page = self._pages.get(r // PAGE)
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
                self._pages[r // PAGE][r % PAGE] = fresh[qid]
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
            return _display(row, c)
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
            return None
        if role == _ALIGN:
            return int(Qt.AlignRight | Qt.AlignVCenter) if c in (COL_CONF, COL_SCORE) else None
        return None

    def thumbnail(self, r: int, row: QueueRow):
        """The row's thumbnail if decoded (else asked for; the row repaints when it arrives)."""
        if row.item_kind.value != "image":
            return None
        path = self.media_path(row)
        img = self.images.thumbnail(path)
        if img is None:
            self._thumb_rows.setdefault(path, set()).add(r)
        return img

    def _on_thumb(self, path: str) -> None:
        rows = self._thumb_rows.pop(path, None)
        for r in rows or ():
            if r < len(self._ids):
                idx = self.index(r, COL_THUMB)
                self.dataChanged.emit(idx, idx, [Qt.DecorationRole])


class QueueDelegate(QStyledItemDelegate):
    """Paints every cell itself, straight from the row (no per-role round trips through the model):
    a thumbnail, two lines of question, a confidence bar, the score, a coloured status chip."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._base = QColor(COLORS["panel"])
        self._alt = QColor(COLORS["panel_alt"])
        self._sel = QColor(COLORS["selection"])
        self._text = QColor(COLORS["text"])
        self._muted = QColor(COLORS["muted"])
        self._raised = QColor(COLORS["raised"])
        self._bar = {k: QColor(COLORS[k]) for k in ("good", "accent", "warn")}
        self._chips: dict[str, tuple[QColor, QColor, QColor]] = {}
        self._small: QFont | None = None
        self._elided: dict[tuple[int, int, int], str] = {}

    def _chip_colors(self, status: str, col: str):
        got = self._chips.get(status)
        if got is None:
            base = QColor(col)
            fill = QColor(base)
            fill.setAlpha(48)
            got = self._chips[status] = (base, fill, base.lighter(125))
        return got

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        r = index.row()
        c = index.column()
        model = index.model()
        rect = option.rect
        selected = bool(option.state & QStyle.State_Selected)
        painter.fillRect(rect, self._sel if selected else (self._alt if r % 2 else self._base))
        row = model.row(r)
        if row is None:
            return
        if c == COL_QUESTION:
            key = (row.question_id, c, rect.width())
            text = self._elided.get(key)
            if text is None:
                fm = painter.fontMetrics()
                text = fm.elidedText(_display(row, c), Qt.ElideRight,
                                     max(10, (rect.width() - 10) * 2 - fm.averageCharWidth() * 4))
                if len(self._elided) > 4000:
                    self._elided.clear()
                self._elided[key] = text
            painter.setPen(self._text)
            painter.drawText(rect.adjusted(6, 3, -4, -3), _WRAP, text)
        elif c == COL_PROPOSED or c == COL_TYPE:
            painter.setPen(self._text if (row.proposed and c == COL_PROPOSED) else self._muted)
            box = rect.adjusted(6, 0, -4, 0)
            painter.drawText(box, _LEFT, painter.fontMetrics().elidedText(_display(row, c), Qt.ElideRight, box.width()))
        elif c == COL_SCORE:
            painter.setPen(self._text)
            painter.drawText(rect.adjusted(4, 0, -8, 0), _RIGHT, _display(row, c))
        elif c == COL_THUMB:
            img = model.thumbnail(r, row)
            box = rect.adjusted(3, 2, -3, -2)
            if img is not None and not img.isNull():
                sz = img.size().scaled(box.size(), Qt.KeepAspectRatio)
                painter.drawImage(QRect(box.x() + (box.width() - sz.width()) // 2,
                                        box.y() + (box.height() - sz.height()) // 2, sz.width(), sz.height()), img)
            else:
                painter.fillRect(box, self._raised)
        elif c == COL_CONF and row.confidence is not None:
            conf = max(0.0, min(1.0, row.confidence))
            bar = QRect(rect.x() + 4, rect.center().y() - 3, max(10, rect.width() - 42), 6)
            painter.fillRect(bar, self._raised)
            painter.fillRect(QRect(bar.x(), bar.y(), max(3, int(bar.width() * conf)), bar.height()),
                             self._bar["good" if conf >= 0.8 else "accent" if conf >= 0.5 else "warn"])
            painter.setPen(self._text)
            painter.drawText(QRect(bar.right() + 4, rect.y(), rect.right() - bar.right() - 6, rect.height()), _RIGHT,
                             f"{conf * 100:.0f}%")
        elif c == COL_STATUS:
            label, col = STATUS_STYLE.get(row.status.value, (row.status.value, COLORS["muted"]))
            base, fill, text = self._chip_colors(row.status.value, col)
            font = painter.font()
            if self._small is None:
                self._small = QFont(font)
                self._small.setPointSizeF(max(7.0, self._small.pointSizeF() - 1))
            painter.setFont(self._small)
            w = painter.fontMetrics().horizontalAdvance(label) + 14
            chip = QRect(rect.x() + 4, rect.center().y() - 9, min(w, rect.width() - 8), 18)
            painter.setRenderHint(QPainter.Antialiasing, True)
            painter.setPen(QPen(base, 1))
            painter.setBrush(fill)
            painter.drawRoundedRect(chip, 9, 9)
            painter.setRenderHint(QPainter.Antialiasing, False)
            painter.setPen(text)
            painter.drawText(chip, Qt.AlignCenter, label)
            painter.setFont(font)

    def sizeHint(self, option, index) -> QSize:  # noqa: N802
        return QSize(60, 48)


class QueueView(QTableView):
    """The table: printable keys go to the window (they start a correction), never to a type-ahead search."""

    def keyboardSearch(self, search: str) -> None:  # noqa: N802
        pass


class QueueDock(QWidget):
    """Search box, status filter, sort order, more filters (split, types, model version), the table."""

    query_changed = Signal(object)  # QueueQuery

    def __init__(self, model: QueueModel, parent=None):
        super().__init__(parent)
        self.model = model
        self._splits: list[str] = []
        self._qtypes: list[str] = []
        self._atypes: list[str] = []
        self._versions: list[str] = []
        self._sel_splits: set[str] = set()
        self._sel_qtypes: set[str] = set()
        self._sel_atypes: set[str] = set()
        self._version: str | None = None

        self.search = QLineEdit()
        self.search.setPlaceholderText("Search questions and answers…")
        self.search.setClearButtonEnabled(True)
        self.status = QComboBox()
        for label, _ in STATUS_FILTERS:
            self.status.addItem(label)
        self.sort = QComboBox()
        self.sort.setToolTip("Sort by an acquisition score (most informative first)")
        self.direction = QToolButton()
        self.direction.setText("▼")
        self.direction.setToolTip("Most uncertain first / least uncertain first")
        self.more = QToolButton()
        self.more.setText("Filters")
        self.more.setPopupMode(QToolButton.InstantPopup)
        self.more_menu = QMenu(self)
        self.more.setMenu(self.more_menu)

        self.table = QueueView()
        self.table.setModel(model)
        self.table.setItemDelegate(QueueDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(True)  # two lines of question in a 48 px row
        self.table.setTextElideMode(Qt.ElideRight)
        self.table.setVerticalScrollMode(QAbstractItemView.ScrollPerPixel)
        self.table.setFocusPolicy(Qt.ClickFocus)
        self.table.setAutoScroll(False)  # the window scrolls it, sparingly (see MainWindow._select_row)
        vh = self.table.verticalHeader()
        vh.setVisible(False)
        vh.setSectionResizeMode(QHeaderView.Fixed)
        vh.setDefaultSectionSize(48)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.Interactive)
        hh.setStretchLastSection(False)
        hh.setSectionResizeMode(COL_QUESTION, QHeaderView.Stretch)
        hh.setHighlightSections(False)
        for col, w in ((COL_THUMB, 50), (COL_PROPOSED, 72), (COL_CONF, 66), (COL_SCORE, 80), (COL_STATUS, 94),
                       (COL_TYPE, 76)):
            self.table.setColumnWidth(col, w)
        hh.sectionClicked.connect(self._header_clicked)

        self.count = QLabel("")
        self.count.setObjectName("muted")

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.setSpacing(6)
        top.addWidget(self.search, 1)
        top.addWidget(self.more)
        row2 = QHBoxLayout()
        row2.setContentsMargins(0, 0, 0, 0)
        row2.setSpacing(6)
        row2.addWidget(self.status, 1)
        sort_label = QLabel("sort")
        sort_label.setObjectName("muted")
        row2.addWidget(sort_label)
        row2.addWidget(self.sort, 1)
        row2.addWidget(self.direction)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 4, 4, 6)
        lay.setSpacing(6)
        lay.addLayout(top)
        lay.addLayout(row2)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.count)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(250)
        self._debounce.timeout.connect(self._emit)
        self.search.textChanged.connect(lambda _: self._debounce.start())
        self.status.currentIndexChanged.connect(lambda _: self._emit())
        self.sort.currentIndexChanged.connect(lambda _: self._emit())
        self.direction.clicked.connect(self._flip)
        model.loaded.connect(self._update_count)
        model.extended.connect(self._update_count)

    # --- options from the project -------------------------------------------------------------------
    def set_options(self, methods: Sequence[str], current_method: str, splits: Sequence[str], qtypes: Sequence[str],
                    atypes: Sequence[str], versions: Sequence[str]) -> None:
        self.sort.blockSignals(True)
        self.sort.clear()
        for m in methods:
            self.sort.addItem(m.replace("_", " "), m)
        self.sort.addItem("question order (id)", "id")
        i = self.sort.findData(current_method)
        self.sort.setCurrentIndex(i if i >= 0 else 0)
        self.sort.blockSignals(False)
        self._splits, self._qtypes, self._atypes, self._versions = list(splits), list(qtypes), list(atypes), list(versions)
        self._sel_splits &= set(splits)
        self._sel_qtypes &= set(qtypes)
        self._sel_atypes &= set(atypes)
        if self._version not in versions:
            self._version = None
        self._build_menu()

    def _build_menu(self) -> None:
        m = self.more_menu
        m.clear()

        def group(title: str, values: list[str], selected: set[str]) -> None:
            sub = m.addMenu(title)
            if not values:
                sub.setEnabled(False)
            for v in values:
                a = sub.addAction(v)
                a.setCheckable(True)
                a.setChecked(v in selected)
                a.toggled.connect(lambda on, v=v, sel=selected: self._toggle(sel, v, on))

        group("Split", self._splits, self._sel_splits)
        group("Question type", self._qtypes, self._sel_qtypes)
        group("Answer type", self._atypes, self._sel_atypes)
        sub = m.addMenu("Model version")
        a = sub.addAction("active model")
        a.setCheckable(True)
        a.setChecked(self._version is None)
        a.triggered.connect(lambda: self._set_version(None))
        for v in self._versions:
            a = sub.addAction(v)
            a.setCheckable(True)
            a.setChecked(v == self._version)
            a.triggered.connect(lambda _=False, v=v: self._set_version(v))
        m.addSeparator()
        m.addAction("Clear filters", lambda: QTimer.singleShot(0, self, self.clear_filters))
        self._update_more_label()

    def _update_more_label(self) -> None:
        n = len(self._sel_splits) + len(self._sel_qtypes) + len(self._sel_atypes) + (self._version is not None)
        self.more.setText(f"Filters ({n})" if n else "Filters")

    def _toggle(self, selected: set[str], value: str, on: bool) -> None:
        (selected.add if on else selected.discard)(value)
        self._update_more_label()
        self._emit()

    def _set_version(self, v: str | None) -> None:
        self._version = v
        QTimer.singleShot(0, self, self._build_menu)  # not while the menu's own action is being handled
        self._update_more_label()
        self._emit()

    def clear_filters(self) -> None:
        self._sel_splits.clear()
        self._sel_qtypes.clear()
        self._sel_atypes.clear()
        self._version = None
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self._build_menu()
        self._emit()

    # --- query -----------------------------------------------------------------------------------
    def current_query(self) -> QueueQuery:
        statuses = STATUS_FILTERS[max(0, self.status.currentIndex())][1]
        filt = QueueFilter(
            statuses=list(statuses) if statuses else None,
            splits=sorted(self._sel_splits) or None,
            question_types=sorted(self._sel_qtypes) or None,
            answer_types=sorted(self._sel_atypes) or None,
            model_version=self._version,
            search=self.search.text().strip() or None,
        )
        return QueueQuery(order_by=self.sort.currentData(), descending=self.direction.text() == "▼", filters=filt)

    def set_status_filter(self, label: str) -> None:
        i = self.status.findText(label)
        if i >= 0:
            self.status.setCurrentIndex(i)

    def _flip(self) -> None:
        self.direction.setText("▲" if self.direction.text() == "▼" else "▼")
        self._emit()

    def _header_clicked(self, section: int) -> None:
        if section == COL_SCORE:
            self._flip()

    def _emit(self) -> None:
        self.query_changed.emit(self.current_query())

    def _update_count(self) -> None:
        n = self.model.rowCount()
        what = self.status.currentText().lower()
        more = "+ (reading the rest…)" if self.model.loading else ""
        self.count.setText(f"{n:,}{more} questions · {what} · sorted by {self.model.order_by.replace('_', ' ')}")
