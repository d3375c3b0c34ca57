"""Training from the Model menu on tiny data (a real child process), and cancelling it."""
from __future__ import annotations

import multiprocessing

import pytest

from tests.conftest import db_snapshot
from tests.qt.conftest import open_and_wait
from vqa_studio.core.project import Project

pytestmark = pytest.mark.slow


def _no_children(win):
    assert multiprocessing.active_children() == []
    assert not win.device_probe.running


def test_train_from_the_menu_registers_a_version(qtbot, window, review_project):
    win = window
    open_and_wait(qtbot, win, review_project)
    with Project.open(review_project) as p:
        before = [m.version for m in p.models()]
    win.act_train.trigger()                                   # Model > Train / fine-tune...
    dlg = win.train_dialog_widget
    qtbot.waitUntil(dlg.isVisible)
    dlg.epochs.setValue(1)
    dlg.batch.setValue(8)
    assert dlg.params()["mode"] == "full"
    assert dlg.params()["skip_easy"] == 0.0 and dlg.params()["freeze_media_at"] is None
    dlg.skip_easy.setChecked(True)
    dlg.freeze_media.setChecked(True)
    assert dlg.params()["skip_easy"] == 0.75 and dlg.params()["freeze_media_at"] == 0.7
    with qtbot.waitSignal(win.job_finished, timeout=300_000) as sig:
        dlg.accept()
        assert win.train_runner is not None and win.act_cancel_train.isEnabled()
    kind, job = sig.args
    assert kind == "train" and job.state == "done", job.error + job.traceback
    version = job.result["version"]
    with Project.open(review_project) as p:
        models = [m.version for m in p.models()]
        assert models == before + [version] and p.active_model == version
        assert p.stats().n_predictions > 0
    assert win.model_label.text().strip() == f"model {version}"
    assert "registered" in win.training_panel.title.text()
    # the queue and the review follow the new model
    qtbot.waitUntil(lambda: not win.model.loading and win.controller.version == version, timeout=10000)
    win.shutdown()
    _no_children(win)


def test_cancel_leaves_the_registry_as_it_was(qtbot, window, review_project):
    win = window
    open_and_wait(qtbot, win, review_project)
    with Project.open(review_project) as p:
        models_before = db_snapshot(p)["models"]
        active_before = p.active_model
    runner = win.start_training({"epochs": 50, "batch_size": 4, "threads": 1})
    assert runner is not None
    with qtbot.waitSignal(win.job_finished, timeout=300_000) as sig:
        qtbot.waitUntil(lambda: runner.job.last_progress is not None or runner.job.finished, timeout=120_000)
        win.act_cancel_train.trigger()                        # Model > Cancel training
    kind, job = sig.args
    assert kind == "train" and job.state == "cancelled"
    assert "as it was" in win.training_panel.title.text()
    with Project.open(review_project) as p:
        assert db_snapshot(p)["models"] == models_before and p.active_model == active_before
        with p.engine.connect() as conn:
            runs = conn.exec_driver_sql("select status from runs").scalars().all()
        assert runs == ["cancelled"]
    win.shutdown()
    _no_children(win)


def test_rescore_passes_the_sample_count_chosen(qtbot, window, review_project, monkeypatch):
    from vqa_studio.core.active.args import DEFAULT_MC_SAMPLES, ScoringArgs
    from vqa_studio.qt.window import jobs

    started = []

    class _Signal:
        def connect(self, _slot):
            pass

    class RecordingRunner:                                    # the job is built, not run
        def __init__(self, job, _bg, parent=None):
            self.job, self.progress, self.finished, self.running = job, _Signal(), _Signal(), False

        def start(self):
            started.append(self.job)

        def stop(self):
            pass

        def deleteLater(self):  # noqa: N802
            pass

    monkeypatch.setattr(jobs, "JobRunner", RecordingRunner)
    win = window
    open_and_wait(qtbot, win, review_project)
    assert win.mc_samples() == DEFAULT_MC_SAMPLES             # the core's one default until chosen
    win.act_mc_samples.trigger()                              # Model > Samples per question for re-scoring...
    dlg = win.mc_samples_widget
    qtbot.waitUntil(dlg.isVisible)
    assert dlg.intValue() == DEFAULT_MC_SAMPLES
    dlg.setIntValue(3)
    dlg.accept()
    assert win.mc_samples() == 3 and win.settings.value("scoring/mc_samples", type=int) == 3
    win.act_rescore.trigger()                                 # Model > Re-score the pool
    assert len(started) == 1
    job = started[0]
    assert job.job == "score" and job.params == ScoringArgs(version="m1", mc_samples=3).to_dict()
    assert ScoringArgs.from_dict(job.params).mc_samples == 3
    win.score_runner = None
