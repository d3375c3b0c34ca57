"""Jobs: training and re-scoring run in child processes (``core.train.jobs.Job``, polled by a
``JobRunner``); when a model changes, what depends on it is read again (queue, insights, changes)."""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog

from ..dialogs.common import show_error
from ..workers import JobRunner

MC_SAMPLES_KEY = "scoring/mc_samples"


class JobsMixin:
    """``train_runner`` / ``score_runner`` (None when none ran), the training panel and the status
    bar's job widgets; ``job_finished`` is emitted when a job ends, whatever its end."""

    def train_dialog(self) -> None:
        if self.project is None:
            return
        if self.train_runner is not None and self.train_runner.running:
            self._notify("a training job is already running")
            return
        from ..dialogs.train import TrainDialog

        dlg = TrainDialog(self.project.active_model is not None, parent=self, probe=self.device_probe)
        dlg.setAttribute(Qt.WA_DeleteOnClose)
        dlg.accepted.connect(lambda: self.start_training(dlg.params()))
        self.train_dialog_widget = dlg
        dlg.open()

    def start_training(self, params: dict[str, Any]) -> JobRunner | None:
        from ...core.train.jobs import TRAIN

        epochs = int(params.get("epochs", 1))
        return self._start_job(TRAIN, params, f"Training ({params.get('mode', 'full')}, {epochs} epochs)", epochs)

    def start_demo_build(self, params: dict[str, Any]) -> JobRunner | None:
        """Draw the demo's scenes into the open (empty) project, import them and train its first model,
        in a child process like training: the window stays usable, the queue fills when the import ends
        and again when the first model's proposals are stored."""
        from ...core.demo import first_model_args
        from ...core.train.jobs import DEMO

        train_args = first_model_args().to_dict()
        epochs = int(train_args.get("epochs", 1))
        return self._start_job(DEMO, {**params, "train_args": train_args},
                               "Building the demo: drawing the scenes, then training the first model", epochs)

    def _start_job(self, kind: str, params: dict[str, Any], title: str, epochs: int) -> JobRunner | None:
        from ...core.train.jobs import Job

        if self.project is None or (self.train_runner is not None and self.train_runner.running):
            return None
        self._previous_version = self.project.active_model
        self._train_epochs = epochs
        job = Job(kind, self.project.folder, params, threads=params.pop("threads", None) or _job_threads())
        runner = JobRunner(job, self.bg, parent=self)
        runner.progress.connect(self._train_progress)
        runner.finished.connect(self._train_finished)
        self.train_runner = runner
        self.training_panel.started(title, self._train_epochs)
        self.training_dock.raise_()
        self.training_panel.allow_build()
        self.job_label.setText("training")
        self.job_bar.setVisible(True)
        self.job_bar.setRange(0, 0)
        self.job_cancel.setVisible(True)
        self.act_cancel_train.setEnabled(True)
        self.act_train.setEnabled(False)
        try:
            runner.start()
        except Exception as exc:  # noqa: BLE001
            self._train_finished_ui()
            self.train_runner = None
            show_error(self, "Training could not start", str(exc))
            return None
        return runner

    def _train_progress(self, p) -> None:
        if p.stage == "imported" and self.project is not None:  # the demo's questions are in: show them
            self.model.reload()
            self._load_project_info()
        self.training_panel.progress(p)
        if p.total:
            self.job_bar.setRange(0, p.total)
            self.job_bar.setValue(min(p.done, p.total))
        else:
            self.job_bar.setRange(0, 0)
        self.job_label.setText(f"training: {p.stage}")

    def _train_finished_ui(self) -> None:
        self.job_bar.setVisible(False)
        self.job_cancel.setVisible(False)
        self.job_label.setText("")
        self.act_cancel_train.setEnabled(False)
        self.act_train.setEnabled(self.project is not None)

    def _train_finished(self, job) -> None:
        self._train_finished_ui()
        if job.state == "done":
            version = job.result.get("version")
            self.training_panel.ended(f"Model {version} registered and active")
            self._notify(f"model {version} trained, registered and made active; the pool was re-scored")
            self.model_changed(version, previous=self._previous_version)
        elif job.state == "cancelled":
            self.training_panel.ended("Training cancelled — the registry is as it was")
            self._notify("training cancelled; nothing was registered")
        else:
            self.training_panel.ended("Training failed — the registry is as it was")
            show_error(self, "Training failed", job.error or "the training process failed", job.traceback)
        self.job_finished.emit("train", job)

    def cancel_training(self) -> None:
        if self.train_runner is not None and self.train_runner.running:
            self.train_runner.cancel()
            self.training_panel.cancel.setEnabled(False)
            self.job_label.setText("cancelling…")

    def rescore(self) -> JobRunner | None:
        from ...core.active.args import ScoringArgs
        from ...core.train.jobs import SCORE, Job

        if self.project is None or not self.project.active_model:
            self._notify("no model to score with: train one first")
            return None
        if self.score_runner is not None and self.score_runner.running:
            self._notify("the pool is already being scored")
            return None
        args = ScoringArgs(version=self.project.active_model, mc_samples=self.mc_samples())
        job = Job(SCORE, self.project.folder, args.to_dict(), threads=_job_threads())
        runner = JobRunner(job, self.bg, parent=self)
        runner.progress.connect(lambda p: self._notify(f"scoring: {p.message}", timeout=2000))
        runner.finished.connect(self._score_finished)
        self.score_runner = runner
        runner.start()
        self._notify("re-scoring the pool in the background…")
        return runner

    def mc_samples(self) -> int:
        """MC-dropout samples per question when re-scoring: a setting (``scoring/mc_samples``) whose
        default is the core's one default."""
        from ...core.active.args import DEFAULT_MC_SAMPLES

        return max(1, int(self.settings.value(MC_SAMPLES_KEY, DEFAULT_MC_SAMPLES, type=int)))

    def set_mc_samples(self, n: int) -> None:
        self.settings.setValue(MC_SAMPLES_KEY, max(1, int(n)))

    def mc_samples_dialog(self) -> QInputDialog:
        dlg = QInputDialog(self)
        dlg.setWindowTitle("Re-scoring")
        dlg.setLabelText("MC-dropout samples per question when the pool is re-scored\n"
                         "(more: steadier uncertainty scores, slower scoring):")
        dlg.setInputMode(QInputDialog.IntInput)
        dlg.setIntRange(1, 1000)
        dlg.setIntValue(self.mc_samples())
        dlg.setAttribute(Qt.WA_DeleteOnClose)
        dlg.intValueSelected.connect(self.set_mc_samples)
        self.mc_samples_widget = dlg
        dlg.open()
        return dlg

    def _score_finished(self, job) -> None:
        if job.state == "done":
            self._notify(f"the pool was re-scored with model {job.result.get('version')}")
            self.model_changed(self.project.active_model if self.project else None)
        elif job.state == "error":
            show_error(self, "Scoring failed", job.error, job.traceback)
        self.job_finished.emit("score", job)

    def _stop_jobs(self) -> None:
        for runner in (self.train_runner, self.score_runner):
            if runner is not None:
                runner.stop()
                runner.deleteLater()  # and with it the job's queue and event (OS semaphores)
        self.train_runner = self.score_runner = None
        self._train_finished_ui()

    # --- after a model change -------------------------------------------------------------------------
    def model_changed(self, version: str | None, previous: str | None = None) -> None:
        """After training, activation or re-scoring: reload what depends on the model."""
        if self.project is None or self.controller is None:
            return
        version = version or self.project.active_model
        self.controller.set_version(version)
        self._update_model_label()
        self.fused_index = None
        self.model.reload()
        self._load_project_info()
        self.refresh_insights()
        from ...core import insights

        project = self.project
        prev = previous if previous is not None else None

        def changes():
            old = prev or insights.previous_version(project, version)
            return old, version, (insights.changed_answers(project, old, version) if old and version else [])

        self.bg.submit(changes, on_done=lambda res: self._changes_done(project, res))

    def _changes_done(self, project, res) -> None:
        if project is not self.project:
            return
        old, new, changes = res
        self.changes_panel.set_changes(old, new, changes)
        if old and new:
            self.changes_dock.setWindowTitle(f"Answer changes {old} → {new} ({len(changes):,})")

    def refresh_insights(self) -> None:
        if self.project is None:
            return
        from ...core import insights

        project = self.project
        method = self.model.order_by if self.model else None
        self._insights_token += 1
        token = self._insights_token

        def work():
            models = project.models()
            active = next((m for m in models if m.active), None)
            return {
                "histogram": insights.score_histogram(project, method=method),
                "versions": insights.accuracy_per_version(models),
                "answer_types": insights.accuracy_by_answer_type(active),
                "reliability": insights.reliability(active),
                "note": "" if active else "No model yet: Model ▸ Train / fine-tune…",
            }

        self.bg.submit(work, on_done=lambda d: token == self._insights_token and self.insights_panel.show_data(d))


def _job_threads() -> int:
    """Threads for a training / scoring process: every core but one, which stays with the GUI."""
    import os

    return max(1, (os.cpu_count() or 2) - 1)
