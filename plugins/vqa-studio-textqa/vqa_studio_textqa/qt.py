"""The story view: the page the main window shows for a story item (registered as the medium's
``view``). Each sentence is a row; one narrow cell per episode is shaded by that episode's attention
on the sentence (its value in %), and the sentence itself by the episode chosen above (default: the
strongest attention over all episodes). The answer panel, the queue and the review keys are the
window's own, as for images."""
from __future__ import annotations

import html

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QTextBrowser, QVBoxLayout, QWidget

ALL = -1
SHADE = (255, 140, 0)  # the attention colour (orange), mixed with white by the attention value


def shade(value: float) -> str:
    """The background colour of an attention ``value`` in [0, 1]: white to orange."""
    v = float(np.clip(value, 0.0, 1.0))
    r, g, b = (round(255 + (c - 255) * v) for c in SHADE)
    return f"#{r:02x}{g:02x}{b:02x}"


def story_html(sentences: list[str], attention: np.ndarray | None, episode: int = ALL) -> str:
    """The story as an HTML table: per sentence, its episode cells and the shaded sentence."""
    att = None if attention is None else np.asarray(attention, dtype=np.float32)
    if att is not None and (att.ndim != 2 or att.shape[1] != len(sentences)):
        att = None  # a prediction of another version of the story: show it plain
    rows = []
    for i, sentence in enumerate(sentences):
        cells = ""
        if att is not None:
            cells = "".join(f"<td class='ep' style='background:{shade(att[e, i])}' title='episode {e + 1}'>"
                            f"{att[e, i] * 100:.0f}</td>" for e in range(att.shape[0]))
            value = att[:, i].max() if episode == ALL else att[min(episode, att.shape[0] - 1), i]
            bg = shade(value)
        else:
            bg = "#ffffff"
        rows.append(f"<tr><td class='n'>{i + 1}</td>{cells}<td style='background:{bg}; color:#111111; padding:3px 8px'>"
                    f"{html.escape(sentence)}</td></tr>")
    head = ""
    if att is not None:
        head = "<tr><th></th>" + "".join(f"<th>E{e + 1}</th>" for e in range(att.shape[0])) + "<th></th></tr>"
    return ("<style>td.ep{width:34px; text-align:center; font-size:8pt; color:#333} td.n{color:#888; "
            "text-align:right; padding-right:6px} th{font-size:8pt; color:#888}</style>"
            f"<table cellspacing='2' style='font-size:13pt'>{head}{''.join(rows)}</table>")


class StoryPage(QWidget):
    """A story item: its question above, the story with its attention below."""

    def __init__(self, window=None):
        super().__init__()
        self.window = window
        self.sentences: list[str] = []
        self.attention: np.ndarray | None = None
        self.title = QLabel("")
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.RichText)
        self.episode = QComboBox()
        self.episode.addItem("Sentence shade: strongest over all episodes", ALL)
        self.episode.setFocusPolicy(Qt.NoFocus)  # the review keys stay with the page
        self.episode.currentIndexChanged.connect(lambda _: self._render())
        self.browser = QTextBrowser()
        self.browser.setFocusPolicy(Qt.NoFocus)
        self.browser.setOpenLinks(False)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.episode)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.browser, 1)
        self.setFocusPolicy(Qt.StrongFocus)

    def show_item(self, details) -> None:
        from vqa_studio.core.errors import BadInputError

        from .story import read_story

        self.title.setText(f"<span style='font-size:14pt; font-weight:600'>{html.escape(details.question.text)}</span>"
                           f"<br><span style='color:#888'>{html.escape(str(details.media_path))}</span>")
        try:
            self.sentences = list(read_story(details.media_path)["sentences"])
        except BadInputError as exc:
            self.sentences, self.attention = [], None
            self.browser.setHtml(f"<p>The story cannot be shown: {html.escape(str(exc))}</p>")
            return
        pred = details.prediction
        self.attention = None if pred is None or pred.attention is None else np.asarray(pred.attention, np.float32)
        self._set_episodes()
        self._render()

    def _set_episodes(self) -> None:
        n = 0 if self.attention is None or self.attention.ndim != 2 else self.attention.shape[0]
        if self.episode.count() - 1 == n:
            return
        keep = self.episode.currentData()
        self.episode.blockSignals(True)
        while self.episode.count() > 1:
            self.episode.removeItem(1)
        for e in range(n):
            self.episode.addItem(f"Sentence shade: episode {e + 1}", e)
        self.episode.setCurrentIndex(max(0, self.episode.findData(keep)))
        self.episode.blockSignals(False)

    def _render(self) -> None:
        if self.sentences:
            self.browser.setHtml(story_html(self.sentences, self.attention, self.episode.currentData()))

    def clear(self) -> None:
        self.sentences, self.attention = [], None
        self.browser.clear()
