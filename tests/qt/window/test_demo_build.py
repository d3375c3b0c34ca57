"""The demo opens at once on an empty project and builds itself in a child process: scenes drawn and
imported (the queue fills), then the first model trained, scored and made active."""
from __future__ import annotations

import multiprocessing

import pytest

from vqa_studio.core.demo import DEMO_NAME
from vqa_studio.core.project import Project

pytestmark = pytest.mark.slow


def test_demo_builds_in_the_background_and_the_queue_fills(qtbot, window, tmp_path, monkeypatch):
    folder = tmp_path / "demo"
    Project.create(folder, name=DEMO_NAME).close()
    win = window
    assert win.open_project(folder)
    qtbot.waitUntil(lambda: win.model is not None and not win.model.loading, timeout=15000)
    assert win.model.rowCount() == 0
    imported = []
    runner = win.start_demo_build(dict(n_scenes=24, seed=2, labelled_fraction=0.5, train=True, n_scenes_3d=0,
                                       questions_per_scene=4, questions_per_scene_3d=4, threads=1))
    assert runner is not None and runner.running
    assert win.act_cancel_train.isEnabled() and not win.act_train.isEnabled()
    runner.progress.connect(lambda p: p.stage == "imported" and imported.append(win.model.rowCount()))
    with qtbot.waitSignal(win.job_finished, timeout=300_000) as sig:
        pass
    kind, job = sig.args
    assert kind == "train" and job.state == "done", job.error + job.traceback
    assert imported  # the import was announced while the job went on
    with Project.open(folder) as p:
        assert p.stats().n_questions == 24 * 4
        assert p.active_model == job.result["version"]
        assert p.stats().n_predictions > 0
    qtbot.waitUntil(lambda: not win.model.loading and win.model.rowCount() > 0, timeout=20_000)
    assert win.controller.version == job.result["version"]
    win.shutdown()
    assert multiprocessing.active_children() == []
