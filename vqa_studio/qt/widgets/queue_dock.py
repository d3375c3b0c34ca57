"""The review queue's dock: search, filters, sort order and the table, whose cells are painted
straight from the rows of ``queue_model.QueueModel``."""
from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import QModelIndex, QRect, QSize, Qt, QTimer, Signal
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

from ...core.types import QueueFilter
from ..style import COLORS, STATUS_STYLE
from .queue_model import (
    COL_CONF,
    COL_OUTLIER,
    COL_PROPOSED,
    COL_QUESTION,
    COL_SCORE,
    COL_STATUS,
    COL_THUMB,
    COL_TYPE,
    STATUS_FILTERS,
    QueueModel,
    QueueQuery,
    cell_text,
)
from .queue_outliers import add_outlier_menu, paint_outlier

_WRAP = Qt.AlignVCenter | Qt.AlignLeft | Qt.TextWordWrap
_LEFT = Qt.AlignVCenter | Qt.AlignLeft
_RIGHT = Qt.AlignVCenter | Qt.AlignRight


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
                text = fm.elidedText(cell_text(row, c), Qt.ElideRight,
                                     max(10, (rect.width() - 10) * 2 - fm.averageCharWidth() * 4))
                if len(self._elided) > 4000:
                    self._elided.clear()
                self._elided[key] = text
            painter.setPen(self._text)
            painter.drawText(rect.adjusted(6, 3, -4, -3), _WRAP, text)
        elif c == COL_PROPOSED or c == COL_TYPE:
            painter.setPen(self._text if (row.proposed and c == COL_PROPOSED) else self._muted)
            box = rect.adjusted(6, 0, -4, 0)
            painter.drawText(box, _LEFT, painter.fontMetrics().elidedText(cell_text(row, c), Qt.ElideRight, box.width()))
        elif c == COL_SCORE:
            painter.setPen(self._text)
            painter.drawText(rect.adjusted(4, 0, -8, 0), _RIGHT, cell_text(row, c))
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
        elif c == COL_OUTLIER:
            paint_outlier(painter, rect, model.outlier(row.question_id), model.outlier_threshold)
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
        self._outliers = "all"  # likely outliers: all | hide | only (queue_outliers)

        self._build_controls()
        self._build_table(model)
        self.count = QLabel("")
        self.count.setObjectName("muted")
        self._build_layout()

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(250)
        self._debounce.timeout.connect(self._emit)
        self.search.textChanged.connect(lambda _: self._debounce.start())
        self.status.currentIndexChanged.connect(lambda _: self._emit())
        self.sort.currentIndexChanged.connect(lambda _: self._emit())
        self.direction.clicked.connect(self._flip)
        model.loaded.connect(self.update_count)
        model.extended.connect(self.update_count)

    def _build_controls(self) -> None:
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

    def _build_table(self, model: QueueModel) -> None:
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
        self.table.setAutoScroll(False)  # the window scrolls it, sparingly (see window/current_item.py, _select_row)
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
                       (COL_TYPE, 66), (COL_OUTLIER, 56)):
            self.table.setColumnWidth(col, w)
        # the outlier column only once the active model has outlier scores (it costs the question's width)
        self.table.setColumnHidden(COL_OUTLIER, True)
        model.outliers_known.connect(lambda known: self.table.setColumnHidden(COL_OUTLIER, not known))
        hh.sectionClicked.connect(self._header_clicked)

    def _build_layout(self) -> None:
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
        add_outlier_menu(self, m)
        m.addSeparator()
        m.addAction("Clear filters", lambda: QTimer.singleShot(0, self, self.clear_filters))
        self._update_more_label()

    def _update_more_label(self) -> None:
        n = len(self._sel_splits) + len(self._sel_qtypes) + len(self._sel_atypes) + (self._version is not None) \
            + (self._outliers != "all")
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
        self._outliers = "all"
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
        return QueueQuery(order_by=self.sort.currentData(), descending=self.direction.text() == "▼", filters=filt,
                          outliers=self._outliers)

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

    def update_count(self) -> None:
        n = self.model.rowCount()
        what = self.status.currentText().lower()
        more = "+ (reading the rest…)" if self.model.loading else ""
        self.count.setText(f"{n:,}{more} questions · {what} · sorted by {self.model.order_by.replace('_', ' ')}")
