"""Long and slow work off the GUI thread.

- ``TaskRunner``: a small thread pool for short reads (a queue page, an item's details, a decoded
  image, the answers that changed), the database writer (one worker: writes in order) and the 3D
  view's loading and colouring; the result, or the error, comes back as a call on the GUI thread.
  Work submitted with a ``kind`` is delivered only if it is still the latest of its kind.
- ``GeneratorTask``: runs one core progress generator (import, export, auto-accept) in a thread;
  progress, result, error and cancel come back as signals. Cancel closes the generator in its own
  thread, which is how the core rolls an import back.
- ``JobRunner``: polls a ``core.train.jobs.Job`` (training or scoring in a child process) with a
  ``QTimer``; reaps the finished process in the background so the GUI never waits for it.

Nothing here leaves a thread or a process behind: every owner calls ``shutdown()`` / ``stop()``.
"""
from __future__ import annotations

import itertools
import threading
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Generator

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from ..core.driver import Cancelled, drive
from ..core.types import Progress


class TaskRunner(QObject):
    """A thread pool whose results are delivered on the GUI thread.

    ``submit(fn, *args, on_done=..., on_error=...)``: ``on_done(result)`` or ``on_error(exc)`` is
    called on the thread this object lives in (the GUI thread). With ``kind="..."`` only the latest
    job of that kind is delivered (a newer cloud makes an older load stale); ``forget(kind)`` drops
    the one in flight. After ``shutdown()`` nothing is delivered any more.
    """

    _deliver = Signal(object, object, object, object)  # token, callback, value, is_error

    def __init__(self, workers: int = 2, name: str = "vqa-bg", parent: QObject | None = None):
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._closed = False
        self._pending = 0
        self._lock = threading.Lock()
        self._latest: dict[str, object] = {}  # kind -> token of its latest job (GUI thread only)
        self._deliver.connect(self._on_deliver)

    @property
    def pending(self) -> int:
        """Jobs submitted and not yet delivered (stale ones included until they end)."""
        return self._pending

    def submit(self, fn: Callable[..., Any], *args, on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[BaseException], None] | None = None, kind: str | None = None,
               **kwargs) -> Future | None:
        if self._closed:
            return None
        if kind is not None:
            token = self._latest[kind] = object()
            on_done = self._latest_only(kind, token, on_done, False)
            on_error = self._latest_only(kind, token, on_error, True)
        with self._lock:
            self._pending += 1
        fut = self._pool.submit(fn, *args, **kwargs)

        def done(f: Future) -> None:
            try:
                if f.cancelled():
                    self._deliver.emit(None, None, None, None)
                    return
                exc = f.exception()
                if exc is not None:
                    exc.__vqa_traceback__ = "".join(traceback.format_exception(exc))  # type: ignore[attr-defined]
                    self._deliver.emit(f, on_error, exc, True)
                else:
                    self._deliver.emit(f, on_done, f.result(), False)
            except RuntimeError:  # the owner (and this object's C++ side) is gone: nobody to tell
                pass

        fut.add_done_callback(done)
        return fut

    def forget(self, kind: str) -> None:
        """The job of ``kind`` in flight, if any, is not delivered."""
        self._latest.pop(kind, None)

    def _latest_only(self, kind: str, token: object, callback: Callable | None, is_error: bool) -> Callable:
        def deliver(value) -> None:
            if self._latest.get(kind) is not token:
                return  # a newer job of this kind was submitted, or it was forgotten
            del self._latest[kind]
            self._call(callback, value, is_error)

        return deliver

    @Slot(object, object, object, object)
    def _on_deliver(self, token, callback, value, is_error) -> None:
        with self._lock:
            self._pending = max(0, self._pending - 1)
        if self._closed or token is None:
            return
        self._call(callback, value, is_error)

    @staticmethod
    def _call(callback: Callable | None, value: Any, is_error: bool) -> None:
        if callback is not None:
            callback(value)
        elif is_error:
            import sys

            print(f"background task failed: {getattr(value, '__vqa_traceback__', value)}", file=sys.stderr)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until everything submitted so far ran (tests and shutdown); True when idle."""
        marker = self._pool.submit(lambda: None)
        try:
            marker.result(timeout)
        except Exception:  # noqa: BLE001
            return False
        return True

    def shutdown(self, wait: bool = True) -> None:
        self._closed = True
        self._pool.shutdown(wait=wait, cancel_futures=True)


class GeneratorTask(QObject):
    """Run ``make_gen()`` (a core Progress generator) in a thread.

    Signals (on the GUI thread): ``progress(Progress)`` (at most every 50 ms, and at each new
    stage), ``finished(result)``, ``failed(exc)``, ``cancelled()``; ``ended()`` after any of the three.
    """

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    ended = Signal()

    _ids = itertools.count(1)

    def __init__(self, make_gen: Callable[[], Generator[Progress, None, Any]], name: str = "task",
                 parent: QObject | None = None, min_interval: float = 0.05):
        super().__init__(parent)
        self._make_gen = make_gen
        self._cancel = threading.Event()
        self._min_interval = min_interval
        self.name = name
        self._thread = threading.Thread(target=self._run, name=f"vqa-{name}-{next(self._ids)}", daemon=False)
        self.result: Any = None
        self.error: BaseException | None = None
        self.state = "new"  # new | running | done | error | cancelled

    def start(self) -> "GeneratorTask":
        self.state = "running"
        self._thread.start()
        return self

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def running(self) -> bool:
        return self.state == "running"

    def wait(self, timeout: float | None = None) -> bool:
        """Join the thread (the signals it emitted are delivered by the event loop afterwards)."""
        if self._thread.ident is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            result = drive(self._make_gen(), on_progress=self.progress.emit, cancelled=self._cancel.is_set,
                           min_interval=self._min_interval)
        except Cancelled:
            self._emit_end("cancelled", None)
        except BaseException as exc:  # noqa: BLE001 - reported to the GUI, never lost
            exc.__vqa_traceback__ = "".join(traceback.format_exception(exc))  # type: ignore[attr-defined]
            self._emit_end("error", exc)
        else:
            self._emit_end("done", result)

    def _emit_end(self, state: str, value: Any) -> None:
        self.state = state
        if state == "done":
            self.result = value
            self.finished.emit(value)
        elif state == "error":
            self.error = value
            self.failed.emit(value)
        else:
            self.cancelled.emit()
        self.ended.emit()


#: scheduling niceness of training / scoring processes: the GUI, and the annotator, come first
JOB_NICENESS = 12


def _lower_priority(job) -> None:
    """Renice the job's process (POSIX), so a busy CPU still serves the GUI at once."""
    import os

    pid = getattr(job, "pid", None) or getattr(getattr(job, "_proc", None), "pid", None)
    if not pid or not hasattr(os, "setpriority"):
        return
    try:
        current = os.getpriority(os.PRIO_PROCESS, pid)
        if current < JOB_NICENESS:
            os.setpriority(os.PRIO_PROCESS, pid, JOB_NICENESS)
    except OSError:
        pass


class JobRunner(QObject):
    """Poll a core ``Job`` (child process) from the GUI thread without ever blocking it.

    Signals: ``progress(Progress)``, ``finished(job)`` (state done / error / cancelled).
    """

    progress = Signal(object)
    finished = Signal(object)

    def __init__(self, job, reaper: TaskRunner, interval_ms: int = 100, parent: QObject | None = None):
        super().__init__(parent)
        self.job = job
        self._reaper = reaper
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._poll)
        self._reaped = threading.Event()

    def start(self) -> "JobRunner":
        self.job.start()
        _lower_priority(self.job)
        self._timer.start()
        return self

    def cancel(self) -> None:
        if not self.job.finished:
            self.job.cancel()

    @property
    def running(self) -> bool:
        return not self.job.finished

    @Slot()
    def _poll(self) -> None:
        progress = [ev.progress for ev in self.job.poll(0.0) if ev.kind == "progress" and ev.progress is not None]
        # every stage change and epoch record goes out; of a run of step records, only the last
        for i, p in enumerate(progress):
            nxt = progress[i + 1] if i + 1 < len(progress) else None
            if nxt is None or nxt.stage != p.stage or p.stage == "epoch":
                self.progress.emit(p)
        if self.job.finished:
            self._timer.stop()
            # reaping waits for the child to exit: never on the GUI thread
            if self._reaper.submit(self._reap) is None:
                self._reap()
            self.finished.emit(self.job)

    def _reap(self) -> None:
        try:
            self.job.join(10.0)
        finally:
            self._reaped.set()

    def stop(self, timeout: float = 15.0) -> None:
        """Cancel if still running, wait for the end and reap the process (at shutdown)."""
        self._timer.stop()
        if not self.job.finished and self.job.state != "new":
            self.job.cancel()
            self.job.wait(timeout)
            return
        if self.job.state != "new":
            if not self._reaped.wait(timeout):
                self.job.join(2.0)
