"""The answer panel: the question, the model's top-5 with probability bars, the votes of its MC
samples / ensemble members, each uncertainty score, the stored answers and the history, and the
correction box (typing starts a correction with completion from the answer vocabulary)."""
from __future__ import annotations

from collections import Counter
from typing import Sequence

import numpy as np
from PySide6.QtCore import QRectF, QSize, QStringListModel, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import (
    QCompleter,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ...core.types import Action, Status
from ..style import COLORS, STATUS_STYLE
from .stable import StableScrollArea, muted_label


def _title(text: str) -> QLabel:
    lab = QLabel(text.upper())
    lab.setObjectName("sectionTitle")
    return lab


class ProbRow(QWidget):
    """``[1]  answer  ▇▇▇▇▇▇▇▇░░░  87%`` — clickable (picks the proposal)."""

    clicked = Signal(int)

    def __init__(self, k: int, parent=None):
        super().__init__(parent)
        self.k = k
        self.answer = ""
        self.prob = 0.0
        self.current = False
        self.setMinimumHeight(26)
        self.setCursor(Qt.PointingHandCursor)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)

    def set(self, answer: str, prob: float, current: bool) -> None:
        if (answer, prob, current) == (self.answer, self.prob, self.current):
            return
        self.answer, self.prob, self.current = answer, prob, current
        self.setToolTip(f"press {self.k} to pick '{answer}'" if answer else "")
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(300, 26)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        if self.answer and event.button() == Qt.LeftButton:
            self.clicked.emit(self.k)

    def paintEvent(self, _event) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        r = self.rect().adjusted(0, 2, 0, -2)
        if self.current:
            p.setPen(Qt.NoPen)
            p.setBrush(QColor(COLORS["selection"]))
            p.drawRoundedRect(QRectF(r), 5, 5)
        # key badge
        key = QRectF(r.x() + 4, r.center().y() - 9, 18, 18)
        p.setPen(QPen(QColor(COLORS["border"]), 1))
        p.setBrush(QColor(COLORS["raised"]))
        p.drawRoundedRect(key, 3, 3)
        f = QFont(self.font())
        f.setPointSizeF(max(7.0, f.pointSizeF() - 1.5))
        f.setBold(True)
        p.setFont(f)
        p.setPen(QColor(COLORS["text"] if self.answer else COLORS["muted"]))
        p.drawText(key, Qt.AlignCenter, str(self.k))
        if not self.answer:
            p.end()
            return
        # answer text
        f = QFont(self.font())
        f.setBold(self.k == 1)
        p.setFont(f)
        text_w = int(r.width() * 0.36)
        p.setPen(QColor(COLORS["text"]))
        fm = p.fontMetrics()
        p.drawText(QRectF(key.right() + 8, r.y(), text_w, r.height()), Qt.AlignVCenter | Qt.AlignLeft,
                   fm.elidedText(self.answer, Qt.ElideRight, text_w))
        # bar
        x0 = key.right() + 14 + text_w
        pct_w = 44
        bar = QRectF(x0, r.center().y() - 5, max(10.0, r.right() - x0 - pct_w - 6), 10)
        p.setPen(Qt.NoPen)
        p.setBrush(QColor(COLORS["raised"]))
        p.drawRoundedRect(bar, 5, 5)
        col = QColor(COLORS["good"] if self.k == 1 else COLORS["accent"])
        if self.k != 1:
            col.setAlpha(170)
        p.setBrush(col)
        p.drawRoundedRect(QRectF(bar.x(), bar.y(), max(4.0, bar.width() * max(0.0, min(1.0, self.prob))), bar.height()), 5, 5)
        f.setBold(False)
        p.setFont(f)
        p.setPen(QColor(COLORS["text"] if self.k == 1 else COLORS["muted"]))
        p.drawText(QRectF(bar.right() + 4, r.y(), pct_w, r.height()), Qt.AlignVCenter | Qt.AlignRight,
                   f"{self.prob * 100:.1f}%" if self.prob < 0.995 else f"{self.prob * 100:.0f}%")
        p.end()


class VoteHistogram(QWidget):
    """What the MC samples / ensemble members voted: one bar per answer, with counts."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.counts: list[tuple[str, int]] = []
        self.total = 0
        self.setMinimumHeight(70)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Minimum)

    def set_votes(self, counts: list[tuple[str, int]], total: int) -> None:
        self.counts, self.total = counts[:5], total
        height = max(40, 18 * max(1, len(self.counts)) + 4)
        if height != self.minimumHeight():  # a relayout only when the height changes (not on every item)
            self.setMinimumHeight(height)
            self.updateGeometry()
        self.update()

    def paintEvent(self, _event) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        if not self.counts or not self.total:
            p.setPen(QColor(COLORS["muted"]))
            p.drawText(self.rect(), Qt.AlignLeft | Qt.AlignTop, "no votes stored")
            p.end()
            return
        f = QFont(self.font())
        f.setPointSizeF(max(7.0, f.pointSizeF() - 1))
        p.setFont(f)
        fm = p.fontMetrics()
        label_w = min(90, int(self.width() * 0.42))
        top = max(c for _, c in self.counts)
        for i, (ans, c) in enumerate(self.counts):
            y = 2 + i * 18
            p.setPen(QColor(COLORS["text"]))
            p.drawText(QRectF(0, y, label_w - 4, 16), Qt.AlignVCenter | Qt.AlignLeft, fm.elidedText(ans, Qt.ElideRight, label_w - 6))
            w = (self.width() - label_w - 40) * c / top
            col = QColor(COLORS["violet"] if i else COLORS["good"])
            col.setAlpha(200)
            p.setPen(Qt.NoPen)
            p.setBrush(col)
            p.drawRoundedRect(QRectF(label_w, y + 3, max(3.0, w), 10), 3, 3)
            p.setPen(QColor(COLORS["muted"]))
            p.drawText(QRectF(label_w + w + 4, y, 40, 16), Qt.AlignVCenter | Qt.AlignLeft, f"{c}/{self.total}")
        p.end()


class CorrectionEdit(QLineEdit):
    """The correction box. ``Esc`` gives up (``cancelled``); ``Enter`` submits (``submitted``)."""

    cancelled = Signal()
    submitted = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setPlaceholderText("Type to correct…   Enter saves · Esc cancels")
        self.returnPressed.connect(self._submit)

    def _submit(self) -> None:
        text = " ".join(self.text().split())
        if text:
            self.submitted.emit(text)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key_Escape:
            popup = self.completer().popup() if self.completer() else None
            if popup is not None and popup.isVisible():
                popup.hide()
                return
            self.clear()
            self.cancelled.emit()
            return
        super().keyPressEvent(event)
        if event.key() in (Qt.Key_Return, Qt.Key_Enter):
            event.accept()  # QLineEdit leaves Enter to its parents: here it must not also accept a proposal


class AnswerPanel(QWidget):
    pick_requested = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.model_answers: list[str] = []
        self.order_by = "entropy"
        self._current_answer = None

        self._build_labels()
        self._build_correction()
        self._build_layout(self._build_body())
        self.show_details(None)

    def _build_labels(self) -> None:
        self.question = QLabel("Open a project to start reviewing")
        self.question.setObjectName("questionText")
        self.question.setWordWrap(True)
        self.question.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.question.setFocusPolicy(Qt.NoFocus)
        self.meta = muted_label()
        self.current = QLabel("")
        self.current.setWordWrap(True)
        self.current.setTextFormat(Qt.RichText)

        self.proposals_title = _title("Model proposals")
        self.rows = [ProbRow(k) for k in range(1, 6)]
        for r in self.rows:
            r.clicked.connect(self.pick_requested)
        self.no_proposal = muted_label("No model proposal yet — train a model (Model ▸ Train) or type the answer.")

        self.votes_title = _title("Votes")
        self.votes = VoteHistogram()
        self.scores_title = _title("Uncertainty")
        self.scores = QGridLayout()
        self.scores.setHorizontalSpacing(10)
        self.scores.setVerticalSpacing(2)
        self.scores_box = QWidget()
        self.scores_box.setLayout(self.scores)
        self._score_labels: list[tuple[QLabel, QLabel]] = []

        self.answers_title = _title("Stored answers")
        self.answers = QLabel("")
        self.answers.setWordWrap(True)
        self.answers.setTextFormat(Qt.RichText)
        self.history_title = _title("History")
        self.history = QLabel("")
        self.history.setWordWrap(True)
        self.history.setTextFormat(Qt.RichText)

    def _build_correction(self) -> None:
        self.correction = CorrectionEdit()
        self._completion_model = QStringListModel(self)
        comp = QCompleter(self._completion_model, self)
        comp.setCaseSensitivity(Qt.CaseInsensitive)
        comp.setCompletionMode(QCompleter.PopupCompletion)
        comp.setFilterMode(Qt.MatchStartsWith)
        comp.setMaxVisibleItems(8)
        self.correction.setCompleter(comp)

    def _build_body(self) -> QWidget:
        """The question card, the proposals, votes and scores, the stored answers, the history."""
        card = QFrame()
        card.setObjectName("card")
        cl = QVBoxLayout(card)
        cl.setContentsMargins(12, 10, 12, 10)
        cl.setSpacing(4)
        cl.addWidget(_title("Question"))
        cl.addWidget(self.question)
        cl.addWidget(self.meta)
        cl.addWidget(self.current)

        body = QWidget()
        bl = QVBoxLayout(body)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.setSpacing(6)
        bl.addWidget(card)
        bl.addSpacing(4)
        bl.addWidget(self.proposals_title)
        for r in self.rows:
            bl.addWidget(r)
        bl.addWidget(self.no_proposal)
        two = QHBoxLayout()
        two.setSpacing(14)
        left = QVBoxLayout()
        left.setSpacing(4)
        left.addWidget(self.votes_title)
        left.addWidget(self.votes)
        left.addStretch(1)
        right = QVBoxLayout()
        right.setSpacing(4)
        right.addWidget(self.scores_title)
        right.addWidget(self.scores_box)
        right.addStretch(1)
        two.addLayout(left, 3)
        two.addLayout(right, 2)
        bl.addSpacing(4)
        bl.addLayout(two)
        bl.addSpacing(4)
        bl.addWidget(self.answers_title)
        bl.addWidget(self.answers)
        bl.addWidget(self.history_title)
        bl.addWidget(self.history)
        bl.addStretch(1)
        return body

    def _build_layout(self, body: QWidget) -> None:
        scroll = StableScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setWidget(body)
        scroll.setFocusPolicy(Qt.NoFocus)

        corr_title = _title("Correction")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 4, 8, 8)
        lay.setSpacing(6)
        lay.addWidget(scroll, 1)
        lay.addWidget(corr_title)
        lay.addWidget(self.correction)

    # --- data ----------------------------------------------------------------------------------------
    def set_vocabulary(self, answers: Sequence[str]) -> None:
        self._completion_model.setStringList(list(answers))

    def add_completion(self, answer: str) -> None:
        """Offer ``answer`` in the correction box's completion from now on."""
        m = self._completion_model
        m.setStringList(m.stringList() + [answer])

    def set_model_answers(self, answers: Sequence[str]) -> None:
        self.model_answers = list(answers)

    def show_details(self, d) -> None:
        """Show an ``ItemDetails`` (``qt.review``), or the empty state for None."""
        if d is None:
            self.question.setText("Nothing to review here")
            self.meta.setText("Change the filters, import data (File ▸ Import) or open another project.")
            self.current.setText("")
            for r in self.rows:
                r.set("", 0.0, False)
            self.no_proposal.setVisible(False)
            self.votes.set_votes([], 0)
            self._set_scores({})
            self.answers.setText("")
            self.history.setText("")
            return
        q, item, pred = d.question, d.item, d.prediction
        self.question.setText(q.text)
        label, col = STATUS_STYLE.get(q.status.value, (q.status.value, COLORS["muted"]))
        where = f"{item.kind.value} {item.id}"
        self.meta.setText(f"#{q.id} · {q.question_type} · {q.answer_type} · split {item.split} · {where}")
        cur = (f"<span style='color:{col}'>● {label}</span>")
        if q.answer:
            cur += f" &nbsp; current answer <b>{_esc(q.answer)}</b>"
        if q.status is Status.FLAGGED and q.note:
            cur += f"<br><span style='color:{COLORS['bad']}'>note: {_esc(q.note)}</span>"
        self.current.setText(cur)

        answers = list(pred.answers) if pred else []
        probs = list(pred.probs) if pred else []
        for k, r in enumerate(self.rows):
            if k < len(answers):
                r.set(answers[k], float(probs[k]) if k < len(probs) else 0.0, q.answer is not None and answers[k] == q.answer)
            else:
                r.set("", 0.0, False)
            r.setVisible(bool(answers))
        self.no_proposal.setVisible(not answers)
        self.proposals_title.setText(f"MODEL {pred.model_version} PROPOSES".upper() if pred else "MODEL PROPOSALS")

        votes = pred.votes if pred is not None else None
        if votes is not None and len(votes):
            counts = Counter(int(v) for v in np.asarray(votes).ravel().tolist())
            named = [(self._answer_name(i, answers), c) for i, c in counts.most_common()]
            self.votes.set_votes(named, int(sum(counts.values())))
            self.votes_title.setText(f"VOTES OF {len(np.asarray(votes).ravel())} SAMPLES")
        else:
            self.votes.set_votes([], 0)
            self.votes_title.setText("VOTES")
        self._set_scores(dict(pred.scores) if pred else {})

        parts = []
        if d.human_answers:
            parts.append("<br>".join(f"<b>{_esc(a)}</b> <span style='color:{COLORS['muted']}'>by {_esc(who)}</span>"
                                     for who, a in d.human_answers))
        if d.imported:
            c = Counter(a["answer"] for a in d.imported)
            parts.append("imported: " + ", ".join(f"<b>{_esc(a)}</b>" + (f" ×{n}" if n > 1 else "")
                                                  for a, n in c.most_common(6)))
        self.answers.setText("<br>".join(parts) if parts else f"<span style='color:{COLORS['muted']}'>none yet</span>")
        self.history.setText(_history_html(d.history))

    def _answer_name(self, index: int, top: list[str]) -> str:
        if 0 <= index < len(self.model_answers):
            return self.model_answers[index]
        return f"class {index}"

    def _set_scores(self, scores: dict[str, float]) -> None:
        """Uncertainty scores, one row per method; the labels are made once and reused."""
        items = sorted(scores.items()) if scores else [("—", None)]
        while len(self._score_labels) < len(items):
            a, b = QLabel(""), QLabel("")
            b.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
            r = len(self._score_labels)
            self.scores.addWidget(a, r, 0)
            self.scores.addWidget(b, r, 1)
            self._score_labels.append((a, b))
        accent = f"color: {COLORS['accent']}; font-weight: 600"
        muted = f"color: {COLORS['muted']}"
        for i, (a, b) in enumerate(self._score_labels):
            if i >= len(items):
                a.setVisible(False)
                b.setVisible(False)
                continue
            name, v = items[i]
            a.setText(name.replace("_", " "))
            b.setText("" if v is None else f"{v:.3f}")
            style = accent if name == self.order_by else muted
            if a.styleSheet() != style:
                a.setStyleSheet(style)
                b.setStyleSheet(style if name == self.order_by else "")
            a.setVisible(True)
            b.setVisible(True)

    # --- correction ------------------------------------------------------------------------------------
    def start_correction(self, text: str = "") -> None:
        self.correction.setFocus(Qt.ShortcutFocusReason)
        self.correction.setText(text)
        self.correction.setCursorPosition(len(text))
        if text and self.correction.completer() is not None:
            comp = self.correction.completer()
            comp.setCompletionPrefix(text)
            comp.complete()


_ACTION_WORDS = {
    Action.ACCEPT: "accepted", Action.PICK: "picked", Action.CORRECT: "corrected", Action.FLAG: "flagged",
    Action.SKIP: "skipped", Action.AUTO_ACCEPT: "auto-accepted", Action.UNDO: "undid", Action.REDO: "redid",
}


def _esc(text) -> str:
    import html

    return html.escape(str(text))


def _history_html(history) -> str:
    if not history:
        return f"<span style='color:{COLORS['muted']}'>no review yet</span>"
    lines = []
    for c in history[-5:][::-1]:
        word = _ACTION_WORDS.get(c.action, c.action.value)
        change = ""
        if c.after_answer != c.before_answer:
            change = f" {_esc(c.before_answer or '∅')} → <b>{_esc(c.after_answer or '∅')}</b>"
        elif c.after_answer:
            change = f" <b>{_esc(c.after_answer)}</b>"
        when = c.created_at.strftime("%H:%M") if c.created_at else ""
        lines.append(f"<span style='color:{COLORS['muted']}'>{when}</span> {_esc(c.annotator)} {word}{change}")
    more = len(history) - 5
    if more > 0:
        lines.append(f"<span style='color:{COLORS['muted']}'>… {more} earlier</span>")
    return "<br>".join(lines)
