"""Two annotators edited one question at once: the second is shown both answers and chooses. Keep
mine stores the annotator's own answer again, as a new correction on the version now in place
(``core.team.keep_mine``); take theirs writes nothing. Nothing is overwritten silently."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from .common import _esc


class ConflictDialog(QDialog):
    chosen = Signal(str)  # "mine" | "theirs"

    def __init__(self, conflict, question_text: str = "", parent=None):
        super().__init__(parent)
        self.conflict = conflict
        self.setWindowTitle(f"Question {conflict.question_id} was changed meanwhile")
        who = conflict.their_annotator or "someone else"
        self.intro = intro = QLabel(f"<b>{_esc(who)}</b> changed this question while you were on it. "
                       "Nothing was overwritten: choose which answer stays.")
        intro.setWordWrap(True)
        grid = QGridLayout()
        grid.addWidget(QLabel("Question:"), 0, 0)
        grid.addWidget(QLabel(_esc(question_text) or f"#{conflict.question_id}"), 0, 1)
        grid.addWidget(QLabel("Yours:"), 1, 0)
        self.mine_label = QLabel(f"<b>{_esc(_show(conflict.mine, conflict.action))}</b> ({_esc(conflict.action)})")
        grid.addWidget(self.mine_label, 1, 1)
        grid.addWidget(QLabel(f"{_esc(who)}'s:"), 2, 0)
        self.theirs_label = QLabel(f"<b>{_esc(_show(conflict.theirs, ''))}</b> ({_esc(conflict.their_status)})")
        grid.addWidget(self.theirs_label, 2, 1)
        self.keep_button = QPushButton("Keep mine")
        self.keep_button.setToolTip("store your answer as a new correction, after theirs (both stay in the history)")
        self.take_button = QPushButton("Take theirs")
        self.take_button.setToolTip("leave their answer in place; nothing is written")
        self.keep_button.clicked.connect(lambda: self._choose("mine"))
        self.take_button.clicked.connect(lambda: self._choose("theirs"))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.take_button)
        buttons.addWidget(self.keep_button)
        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addLayout(grid)
        lay.addLayout(buttons)
        self.choice: str | None = None

    def _choose(self, choice: str) -> None:
        self.choice = choice
        self.chosen.emit(choice)
        self.accept()


def _show(answer: str | None, action: str) -> str:
    if answer is None:
        return {"flag": "flagged", "skip": "skipped"}.get(action, "no answer")
    return answer
