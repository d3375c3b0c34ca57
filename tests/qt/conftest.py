"""GUI tests run headless: the offscreen platform unless a display is set (CI runs under xvfb-run).

Fixtures build small real projects: images on disk, questions, and a model version's predictions
(answers, calibrated probabilities, uncertainty scores, attention maps, votes) written with
SQLAlchemy the way scoring writes them, plus the fused embeddings file the similar-items view reads.
"""
from __future__ import annotations

import os

if not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from sqlalchemy import insert

from tests.conftest import COLORS, write_png

ANSWERS = ["red", "blue", "green", "yellow", "2", "3", "yes", "no"]


def add_model(project, version: str, qids, *, rng, metrics=None, parent=None, fused_dim: int = 16, active=True):
    """Predictions, scores and a registry row for ``version`` (no checkpoint file: the GUI never needs one)."""
    from vqa_studio.core.insights import fused_path
    from vqa_studio.core.store import codec, db, schema

    now = db.utcnow()
    with project.engine.begin() as conn:
        conn.execute(insert(schema.models).values(version=version, parent=parent, path=f"models/{version}.pt",
                                                  created_at=now, metrics=metrics or {}, config={"mode": "full"},
                                                  snapshot={"n_labels": 10}))
        for k, qid in enumerate(qids):
            order = rng.permutation(len(ANSWERS))[:5]
            top = 0.35 + 0.6 * rng.random()
            probs = [top] + list(np.sort(rng.dirichlet(np.ones(4)) * (1 - top))[::-1])
            att = rng.random((1, 64)).astype(np.float16)
            votes = rng.choice(order[:3], size=20).astype(np.int16)
            scores = {"entropy": float(1 - top), "margin": float(top - probs[1]), "bald": float(rng.random() * 0.3)}
            conn.execute(insert(schema.predictions).values(
                question_id=qid, model_version=version, answers=[ANSWERS[i] for i in order],
                probs=[round(float(p), 6) for p in probs], scores=scores, in_vocab=True,
                attention=codec.encode_array(att), votes=codec.encode_array(votes), created_at=now))
            for m, v in scores.items():
                conn.execute(insert(schema.prediction_scores).values(model_version=version, method=m, question_id=qid,
                                                                     value=v))
    (project.folder / "cache").mkdir(exist_ok=True)
    np.savez(fused_path(project, version), question_ids=np.asarray(qids, np.int64),
             fused=rng.normal(size=(len(qids), fused_dim)).astype(np.float16))
    if active:
        project.set_setting("active_model", version)


def build_review_project(folder, n_images: int = 8, with_model: bool = True, seed: int = 0):
    """Images of coloured circles; per image 'What color is the background?' (labelled on the first
    third and in the val split) and 'How many circles are there?' (unlabelled)."""
    from vqa_studio.core.project import Project

    rng = np.random.default_rng(seed)
    project = Project.create(folder, name="gui test")
    project.annotator = "tester"
    names = list(COLORS)
    qids, labelled = [], []
    for i in range(n_images):
        split = "val" if i % 4 == 3 else "train"
        color = names[i % len(names)]
        item = project.add_item(write_png(folder.parent / "img" / f"{folder.name}-{i}.png", COLORS[color], size=48),
                                split=split)
        known = split == "val" or i < n_images // 3
        q1 = project.add_question(item, "What color is the background?", answers=[color] * 3 if known else ())
        q2 = project.add_question(item, "How many circles are there?")
        (labelled if known else qids).append(q1)
        qids.append(q2)
    if with_model:
        add_model(project, "m1", sorted(qids + labelled), rng=rng,
                  metrics={"val_accuracy": 0.5, "test_accuracy": 0.45, "test_by_answer_type": {"other": 0.4, "number": 0.5},
                           "by_kind": {"image": {"reliability_before": {"bin_edges": [0, .5, 1], "accuracy": [.2, .6],
                                                                          "confidence": [.3, .8], "count": [3, 5]},
                                                 "reliability_after": {"bin_edges": [0, .5, 1], "accuracy": [.3, .7],
                                                                         "confidence": [.3, .7], "count": [3, 5]}}}})
    return project


@pytest.fixture(scope="session", autouse=True)
def _theme(qapp):
    from vqa_studio.qt.compat import guard_singleton_refcounts
    from vqa_studio.qt.style import apply_theme

    guard_singleton_refcounts()
    apply_theme(qapp)


@pytest.fixture
def settings(tmp_path, monkeypatch):
    path = tmp_path / "settings.ini"
    monkeypatch.setenv("VQA_STUDIO_SETTINGS", str(path))
    monkeypatch.setenv("VQA_STUDIO_ANNOTATOR", "tester")
    from PySide6.QtCore import QSettings

    return QSettings(str(path), QSettings.IniFormat)


@pytest.fixture
def review_project(tmp_path):
    project = build_review_project(tmp_path / "proj")
    folder = project.folder
    project.close()
    return folder


@pytest.fixture
def window(qtbot, settings):
    from vqa_studio.qt.main_window import MainWindow

    win = MainWindow(settings=settings)
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.shutdown()
    win.close()


def open_and_wait(qtbot, win, folder, image=True):
    assert win.open_project(folder)
    qtbot.waitUntil(lambda: win.model is not None and not win.model.loading and win.controller.current is not None,
                    timeout=15000)
    if image:
        qtbot.waitUntil(win.current_image_ready, timeout=15000)
    win.activateWindow()  # the review keys are window shortcuts
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)
    return win.controller
