"""Long work in a child process: training and scoring jobs.

The child runs the same progress generator the CLI runs in-process (``run_training``,
``score_pool``); each ``Progress`` comes back over a queue. ``cancel()`` sets an event the child
checks at every progress record (every yield of the generator): it then closes the generator,
which rolls back what the run had written, and reports ``cancelled``. A crash is reported with its
traceback; a child that dies without a word (killed, out of memory) is reported too. In every one
of these cases no half-written model is registered and the active model stays as it was: a model
is registered only in the generator's last step.

Processes are started with the ``spawn`` method on every platform (the same on Linux, macOS and
Windows, and safe beside a Qt event loop). The child lowers its scheduling priority so the GUI stays
responsive on small machines.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import queue as queue_mod
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..driver import Cancelled, drive
from ..types import Progress

TRAIN, SCORE = "train", "score"


@dataclass
class JobEvent:
    kind: str  # progress | done | error | cancelled
    progress: Progress | None = None
    result: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    traceback: str = ""


def _child(job: str, folder: str, params: dict[str, Any], q, cancel, threads: int | None) -> None:
    """Entry point of the child process (module level, so ``spawn`` can import it)."""
    try:
        if hasattr(os, "nice"):
            try:
                os.nice(10)
            except OSError:
                pass
        import torch

        if threads:
            torch.set_num_threads(threads)
        from ...plugins import load_plugins
        from ..project import Project

        load_plugins()  # spawn: a plugin's encoder or acquisition function must be known here too
        project = Project.open(folder)
        try:
            gen = _generator(job, project, params)
            try:
                result = drive(gen, cancelled=cancel.is_set,
                               on_progress=lambda p: q.put(JobEvent("progress", progress=p)))
            except Cancelled:
                q.put(JobEvent("cancelled", message="cancelled; nothing was registered"))
                return
            q.put(JobEvent("done", result=_describe(result), message=getattr(result, "summary", lambda: "")()))
        finally:
            project.close()
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
        q.put(JobEvent("error", message=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc()))


def _train_job(project, params: dict[str, Any]):
    from .config import TrainingArgs
    from .pipeline import run_training

    return run_training(project, TrainingArgs.from_dict(params))


def _score_job(project, params: dict[str, Any]):
    """``params``: ``ScoringArgs(...).to_dict()`` (the model version, MC samples, scope...)."""
    from ..active.args import ScoringArgs
    from ..active.scoring import score_pool
    from ..model.registry import load_version

    args = ScoringArgs.from_dict(params)
    bundle = load_version(project, args.version)
    return score_pool(project, bundle, args, activate_proposals=True)


#: the job kinds the app starts; a job may also name any ``"module:function(project, params)"``
#: returning a progress generator (importable in the child: how the tests inject failures)
DEMO = "demo"
JOB_KINDS = {TRAIN: _train_job, SCORE: _score_job, DEMO: "vqa_studio.core.demo:demo_job"}


def _generator(job: str, project, params: dict[str, Any]):
    from ..registry import resolve

    factory = JOB_KINDS.get(job)
    if factory is None:
        if ":" not in job:
            raise ValueError(f"unknown job {job!r} (known: {', '.join(JOB_KINDS)}, or module:function)")
        factory = job
    return resolve(factory)(project, params)


def _describe(result) -> dict[str, Any]:
    if result is None:
        return {}
    out = {}
    for key in ("version", "metrics", "messages", "seconds", "n_questions", "methods"):
        if hasattr(result, key):
            out[key] = getattr(result, key)
    if hasattr(result, "path"):
        out["path"] = str(result.path)
    return out


class Job:
    """A child process running one training or scoring job. Poll it for events."""

    def __init__(self, job: str, project_folder: str | Path, params: dict[str, Any] | None = None,
                 threads: int | None = None):
        self.job = job
        self.folder = str(project_folder)
        self.params = dict(params or {})
        self.threads = threads
        ctx = mp.get_context("spawn")
        self._queue = ctx.Queue()
        self._cancel = ctx.Event()
        self._proc = ctx.Process(target=_child, args=(job, self.folder, self.params, self._queue, self._cancel, threads),
                                 name=f"vqa-studio-{job}", daemon=True)
        self.state = "new"  # new | running | done | error | cancelled
        self.result: dict[str, Any] = {}
        self.error: str = ""
        self.traceback: str = ""
        self.last_progress: Progress | None = None

    def start(self) -> "Job":
        self._proc.start()
        self.state = "running"
        return self

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def pid(self) -> int | None:
        return self._proc.pid

    @property
    def finished(self) -> bool:
        return self.state in ("done", "error", "cancelled")

    def poll(self, timeout: float = 0.0) -> list[JobEvent]:
        """Events that arrived (waiting up to ``timeout`` for the first one)."""
        events: list[JobEvent] = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                remaining = max(0.0, deadline - time.monotonic())
                ev = self._queue.get(timeout=remaining) if (not events and remaining > 0) else self._queue.get_nowait()
            except queue_mod.Empty:
                break
            except (EOFError, OSError):
                break
            events.append(ev)
            self._apply(ev)
        if not events and self.state == "running" and not self._proc.is_alive():
            # drain what may have arrived just before the exit, then call a silent death a death
            try:  # the queue's feeder has flushed everything by the time the process is gone
                while True:
                    ev = self._queue.get(timeout=0.02)
                    events.append(ev)
                    self._apply(ev)
            except (queue_mod.Empty, EOFError, OSError):
                pass
            if self.state == "running":
                ev = JobEvent("error", message=f"the {self.job} process ended unexpectedly (exit code {self._proc.exitcode})")
                events.append(ev)
                self._apply(ev)
        return events

    def _apply(self, ev: JobEvent) -> None:
        if ev.kind == "progress":
            self.last_progress = ev.progress
        elif ev.kind == "done":
            self.state, self.result = "done", ev.result
        elif ev.kind == "error":
            self.state, self.error, self.traceback = "error", ev.message, ev.traceback
        elif ev.kind == "cancelled":
            self.state = "cancelled"

    def wait(self, timeout: float | None = None) -> "Job":
        """Poll until the job finishes (or ``timeout`` seconds pass); then reap the process."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.finished:
            if deadline is not None and time.monotonic() > deadline:
                break
            self.poll(0.2)
        self.join(5.0)
        return self

    def join(self, timeout: float = 5.0) -> None:
        if self._proc.pid is None:
            return
        self._proc.join(timeout)
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(2.0)
        if self._proc.is_alive():  # SIGTERM not handled in time (a loaded machine): no process outlives join
            self._proc.kill()
            self._proc.join(5.0)
        self._queue.close()
        self._queue.join_thread()

    def __del__(self):  # pragma: no cover - safety net
        try:
            if self._proc.pid is not None and self._proc.is_alive():
                self._proc.terminate()
        except Exception:  # noqa: BLE001
            pass
