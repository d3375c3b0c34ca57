"""The story view in the real main window: a story item shows its sentences shaded by the model's
attention per episode, and the window's review keys work on it like on an image."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings, Qt  # noqa: E402

from vqa_studio import cli  # noqa: E402
from vqa_studio.core.driver import drive  # noqa: E402
from vqa_studio.core.project import Project  # noqa: E402
from vqa_studio.core.train.config import TrainingArgs  # noqa: E402
from vqa_studio.core.train.pipeline import run_training  # noqa: E402
from vqa_studio.core.types import Status  # noqa: E402
from vqa_studio.plugins import load_plugins  # noqa: E402
from vqa_studio_textqa.generate import write_stories  # noqa: E402
from vqa_studio_textqa.qt import StoryPage, shade, story_html  # noqa: E402

BACKGROUND = re.compile(r"background:(#[0-9a-f]{6})")


def test_story_html_shades_each_sentence_per_episode():
    att = np.array([[0.0, 1.0, 0.5], [0.2, 0.1, 0.9]], np.float32)
    page = story_html(["A went to the b.", "C went to the d.", "E got the f."], att)
    colours = BACKGROUND.findall(page)
    # per sentence: two episode cells and the sentence (strongest episode)
    assert len(colours) == 9
    assert colours[0] == shade(0.0) == "#ffffff" and colours[1] == shade(0.2)
    assert colours[2] == shade(0.2) and colours[5] == shade(1.0) and colours[8] == shade(0.9)
    assert "E1" in page and "E2" in page and ">100<" in page
    one = story_html(["A went to the b.", "C went to the d.", "E got the f."], att, episode=1)
    assert BACKGROUND.findall(one)[5] == shade(att[1, 1])
    plain = story_html(["A.", "B."], att)  # attention of another story length: shown plain
    assert set(BACKGROUND.findall(plain)) == {"#ffffff"}


@pytest.fixture
def story_project(tmp_path):
    import torch

    torch.set_num_threads(1)
    for k, path in enumerate(write_stories(tmp_path / "stories", 160, seed=2)):
        if k % 4 == 0:  # a quarter come without answers: the model proposes, the queue asks for review
            story = json.loads(path.read_text())
            story["questions"][0].pop("answer")
            path.write_text(json.dumps(story))
    assert cli.main(["import", "--project", str(tmp_path / "p"), "--format", "babi", "--input",
                     str(tmp_path / "stories"), "-q"]) == 0
    load_plugins()
    with Project.open(tmp_path / "p") as p:
        drive(run_training(p, TrainingArgs(epochs=1, mc_samples=2)))
    return tmp_path / "p"


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("VQA_STUDIO_SETTINGS", str(tmp_path / "settings.ini"))
    monkeypatch.setenv("VQA_STUDIO_ANNOTATOR", "tester")
    load_plugins()
    from vqa_studio.qt.main_window import MainWindow

    win = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.shutdown()
    win.close()


def test_window_shows_a_story_with_its_attention_and_reviews_it(qtbot, window, story_project):
    assert window.open_project(story_project)
    qtbot.waitUntil(lambda: window.model is not None and not window.model.loading
                    and window.controller.current is not None, timeout=20000)
    page = window.stack.currentWidget()
    assert isinstance(page, StoryPage)
    qtbot.waitUntil(lambda: bool(page.sentences), timeout=10000)
    html = page.browser.toHtml()
    assert page.attention is not None and page.attention.shape == (3, len(page.sentences))
    assert all(s.split()[0] in html for s in page.sentences)
    shaded = {c for c in re.findall(r"background-color:(#[0-9a-f]{6})", html)} - {"#ffffff"}
    assert shaded, "no sentence is shaded"
    assert page.episode.count() == 4  # all episodes, then each of the three
    page.episode.setCurrentIndex(2)
    assert page.browser.toHtml() != html
    qid = window.controller.current.question.id
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    qtbot.keyClick(page, Qt.Key_Return)  # accept the model's proposal
    with Project.open(story_project) as p:
        qtbot.waitUntil(lambda: p.question(qid).status is Status.ACCEPTED, timeout=10000)
