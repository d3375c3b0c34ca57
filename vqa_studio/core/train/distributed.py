"""Training on several processes: ``vqa-studio train --nproc N`` (torch.distributed, torchrun's contract).

:func:`launch` starts N worker processes with the ``spawn`` method (the same on Linux, macOS and
Windows), each with the environment torchrun gives its workers (``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``LOCAL_WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT`` on a free port) and joins them
in one process group: NCCL with one GPU per process (``cuda:LOCAL_RANK``), gloo on the CPU (and on
Windows, where there is no NCCL). The rendezvous is a TCP store on 127.0.0.1, or a file store on
Windows (``VQA_STUDIO_DIST_INIT=file`` chooses it anywhere).

Every rank runs the same pipeline (:func:`~vqa_studio.core.train.pipeline.run_training`'s ``_run``)
and the same training loop; :func:`current` is how the loop finds out it is one of several. The loop
then (see ``loop.py``'s hooks):

* wraps the network in ``DistributedDataParallel`` (gradients all-reduced; rank 0's weights and
  buffers broadcast), after checking that every rank read the same data;
* gives each rank its share of each epoch's batches through a ``DistributedSampler`` over the
  epoch's batch plan (``set_epoch`` every epoch); a rank's batches hold ``batch_size / N`` questions,
  so the effective batch (all ranks together) is the one a single process uses;
* sums each epoch's training loss and accuracy over the ranks, and evaluates the validation (and
  fine-tuning focus) split in shares, summed over the ranks: every rank takes the same decisions
  (best epoch, early stopping);
* agrees after every step on rank 0's clock (time limits, the learning-rate schedule on time) and on
  a cancel request, so all ranks stop at the same step;
* merges the per-question losses of ``skip_easy`` after each epoch.

Only rank 0 calibrates, evaluates, writes the checkpoint, scores the pool and registers the version
(one runs row, one model); its progress reaches the launcher (the CLI's bar, the GUI's job) over a
queue. The other ranks leave after their last training. A cancel (Ctrl+C in the CLI: the workers
ignore SIGINT, the launcher handles it) sets an event every rank sees at its next step; rank 0 then
rolls back as a single-process run does.

Limits: ViLT (``--model vilt:...``, or fine-tuning an active ViLT model) trains in one process;
ensembles train their members one after the other, each member distributed; the cached features of
a frozen media encoder (``freeze_media_at``, pretrained encoders) are computed by every rank for its
own use.
"""
from __future__ import annotations

import dataclasses
import datetime
import math
import multiprocessing as mp
import os
import queue as queue_mod
import signal
import socket
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generator

import numpy as np
import torch
import torch.distributed as tdist

from ..driver import Cancelled, drive
from ..errors import VQAStudioError
from ..types import Progress

#: how long a rank waits in a collective for the others (rank 0 calibrating one modality while the
#: others wait to train the next one counts too)
TIMEOUT = datetime.timedelta(minutes=60)
#: after a cancel, how long the launcher waits for the ranks to stop at a step before ending them
GRACE_S = 60.0

_current: "Rank | None" = None


def current() -> "Rank | None":
    """This process's rank when it is one of several training processes, else None."""
    if _current is not None and tdist.is_available() and tdist.is_initialized():
        return _current
    return None


def is_main() -> bool:
    """True in a single process and in rank 0 (the one that writes)."""
    rank = current()
    return rank is None or rank.rank == 0


def timed(probe_of, *args):
    """The precision probe of one process; None in several (a timing differs between ranks: they must
    choose the same precision)."""
    return None if current() is not None else probe_of(*args)


@dataclass
class Rank:
    """One training process of several, and what the loop asks of the group."""

    rank: int
    world: int
    local_rank: int
    device: str  # cpu | cuda:N
    backend: str
    cancel_event: Any = None
    synced_cancel: bool = False
    training: bool = False
    elapsed: float = 0.0  # rank 0's seconds since its training started, at the last step
    _losses_before: np.ndarray | None = field(default=None, repr=False)

    # --- asked by the driver --------------------------------------------------------------------

    def cancelled(self) -> bool:
        """A cancel agreed by every rank while training; outside training (reading labels, loading
        media) each rank stops on its own (there is no collective to leave hanging there)."""
        if self.synced_cancel:
            return True
        return bool(self.cancel_event is not None and self.cancel_event.is_set() and not self.training)

    # --- asked by the training loop -------------------------------------------------------------

    def batch_size(self, batch_size: int) -> int:
        """Each rank's batch: the single-process batch shared out, so the effective batch is the same."""
        return max(1, math.ceil(batch_size / self.world))

    def begin(self, st) -> torch.nn.Module:
        """Start of one training: check the ranks read the same data, agree on rank 0's time budget,
        and wrap the network in DistributedDataParallel."""
        self.training, self.elapsed, self._losses_before = True, 0.0, None
        net, train = st.net, st.train
        mine = (int(train.n_questions), len(st.val) if st.val is not None else 0,
                sum(int(p.numel()) for p in net.parameters()), st.epochs, st.label)
        everyone: list[Any] = [None] * self.world
        tdist.all_gather_object(everyone, mine)
        if any(other != mine for other in everyone):
            raise VQAStudioError("the training processes read different data (the labels changed while they "
                                 f"started?): questions, validation, weights, epochs per rank: {everyone}")
        budget = torch.tensor([st.budget if st.budget is not None else math.nan], dtype=torch.float64)
        tdist.broadcast(budget, 0)  # (a budget already spent when training starts is negative: stop at once)
        st.budget = None if math.isnan(float(budget.item())) else float(budget.item())
        from torch.nn.parallel import DistributedDataParallel

        ids = [torch.device(self.device).index] if self.device.startswith("cuda") else None
        return DistributedDataParallel(net, device_ids=ids, find_unused_parameters=True)

    def end(self) -> None:
        self.training = False

    def shard(self, plan: list, epoch: int, seed: int) -> list:
        """This rank's batches of the epoch's plan (padded by repetition so every rank takes as many
        steps: each step is an all-reduce of every rank)."""
        from torch.utils.data import DistributedSampler

        sampler = DistributedSampler(range(len(plan)), num_replicas=self.world, rank=self.rank, shuffle=True,
                                     seed=seed, drop_last=False)
        sampler.set_epoch(epoch)
        return [plan[i] for i in sampler] if plan else plan

    def after_step(self, st) -> None:
        """Agree on rank 0's clock, on a cancel request and on running out of time (one all-reduce)."""
        mine = time.perf_counter() - st.t_start if self.rank == 0 else 0.0
        asked = float(self.cancel_event is not None and self.cancel_event.is_set())
        t = torch.tensor([mine, asked, float(st.out_of_time)], dtype=torch.float64)
        tdist.all_reduce(t, op=tdist.ReduceOp.MAX)
        self.elapsed = float(t[0])
        self.synced_cancel = self.synced_cancel or bool(t[1])
        st.out_of_time = bool(t[2])

    def progress(self, done: float, budget: float | None) -> float:
        """The loop's ``_progress`` on rank 0's clock."""
        p = done
        if budget is not None and budget > 0:
            p = max(p, self.elapsed / budget)
        return min(1.0, p)

    def past_deadline(self, budget: float | None) -> bool:
        return budget is not None and self.elapsed >= budget

    def sum(self, *values: float) -> tuple[float, ...]:
        t = torch.tensor(values, dtype=torch.float64)
        tdist.all_reduce(t, op=tdist.ReduceOp.SUM)
        return tuple(float(v) for v in t)

    def evaluate(self, net, dataset, device, precision) -> float:
        """Mean soft accuracy of ``net`` on ``dataset``: each rank evaluates its share of the items,
        the sums are all-reduced."""
        from .loop import evaluate_soft

        sizes = dataset._size
        keep = np.repeat(np.arange(len(sizes)) % self.world == self.rank, sizes)
        part = dataset.select(keep) if keep.any() else None
        n = int(keep.sum())
        acc = evaluate_soft(net, part, device, precision) if part is not None else 0.0
        total, count = self.sum(acc * n, float(n))
        return total / max(1.0, count)

    def merge_losses(self, row_loss: np.ndarray) -> None:
        """skip_easy: every rank trained its share of the questions; take the losses each rank
        changed since the last merge (averaged where several did), in place, the same on every rank."""
        before = self._losses_before if self._losses_before is not None else np.full_like(row_loss, np.inf)
        changed = row_loss != before
        values = np.where(changed, np.minimum(row_loss.astype(np.float64), 1e30), 0.0)  # inf (no label): huge
        both = torch.from_numpy(np.stack([values, changed.astype(np.float64)]))
        tdist.all_reduce(both, op=tdist.ReduceOp.SUM)
        total, count = both.numpy()
        merged = np.where(count > 0, total / np.maximum(count, 1.0), before)
        row_loss[:] = np.where(merged >= 1e29, np.inf, merged).astype(row_loss.dtype)
        self._losses_before = row_loss.copy()


# --- the launcher ---------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def plan_devices(args, nproc: int) -> tuple[str, list[str]]:
    """-> (backend, the device of each rank): NCCL with one GPU per rank where CUDA is asked for (or
    auto and there are enough GPUs), gloo on the CPU; Windows has no NCCL."""
    want = args.device
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if want == "cpu" or (want == "auto" and gpus < nproc):
        return "gloo", ["cpu"] * nproc
    if want.startswith("cuda:"):
        raise VQAStudioError(f"--nproc {nproc} gives each process its own GPU (cuda:0..cuda:{nproc - 1}); "
                             f"use --device cuda or auto, not {want}")
    if gpus < nproc:
        raise VQAStudioError(f"--nproc {nproc} on CUDA needs {nproc} GPUs (one per process); torch sees {gpus}. "
                             "Use --device cpu (gloo) or fewer processes")
    backend = "gloo" if sys.platform == "win32" or not tdist.is_nccl_available() else "nccl"
    return backend, [f"cuda:{r}" for r in range(nproc)]


def check_supported(project, args) -> None:
    """What cannot train in several processes is refused before any process starts."""
    if args.model:
        raise VQAStudioError("--nproc: a ViLT model (--model vilt:...) trains in one process; drop --nproc")
    if args.mode == "finetune":
        from .pipeline import _active_model_kind

        if _active_model_kind(project):
            raise VQAStudioError("--nproc: the active model is a ViLT model, which fine-tunes in one process")
    if not tdist.is_available():
        raise VQAStudioError("--nproc: this torch build has no torch.distributed")


def _project_url(project) -> str | None:
    """The database URL the workers open (None: the project's own SQLite file or project.json)."""
    engine = project.engine
    if engine.dialect.name == "sqlite":
        return None
    return engine.url.render_as_string(hide_password=False)


def launch(project, args, *, cache_media: bool = True) -> Generator[Progress, None, Any]:
    """Run ``run_training`` in ``args.nproc`` processes; yield rank 0's progress, return its outcome."""
    nproc = int(args.nproc)
    check_supported(project, args)
    backend, devices = plan_devices(args, nproc)
    threads = args.threads or max(1, (os.cpu_count() or 1) // nproc)
    ctx = mp.get_context("spawn")
    events, cancel = ctx.Queue(), ctx.Event()
    tmp = tempfile.mkdtemp(prefix="vqa-studio-dist-")
    env = {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(free_port()), "WORLD_SIZE": str(nproc),
           "LOCAL_WORLD_SIZE": str(nproc), "VQA_STUDIO_DIST_BACKEND": backend,
           "VQA_STUDIO_DIST_FILE": str(Path(tmp) / "rendezvous")}
    params = dataclasses.replace(args, nproc=1, threads=threads).to_dict()
    procs = []
    for rank in range(nproc):
        renv = {**env, "RANK": str(rank), "LOCAL_RANK": str(rank)}
        procs.append(ctx.Process(target=_worker, name=f"vqa-studio-train-rank{rank}", daemon=True,
                                 args=(str(project.folder), _project_url(project), {**params, "device": devices[rank]},
                                       renv, events, cancel, cache_media)))
    yield Progress("preparing", 0, None, f"starting {nproc} training processes ({backend}, "
                                          f"{devices[0] if devices[0] == 'cpu' else 'GPUs'}, {threads} threads each)")
    try:
        for p in procs:
            p.start()
        return (yield from _follow(procs, events))
    except (GeneratorExit, KeyboardInterrupt):
        cancel.set()  # cancelled (generator closed, Ctrl+C): every rank stops at its next step, rank 0 rolls back
        _stop(procs, events, GRACE_S)
        raise
    except BaseException:
        cancel.set()
        _stop(procs, events, 10.0)
        raise
    finally:
        _stop(procs, events, 10.0)
        events.close()
        events.join_thread()
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


def _follow(procs, events) -> Generator[Progress, None, Any]:
    """Rank 0's progress until its outcome; an error or a silent death of any rank ends the run."""
    last = time.monotonic()
    while True:
        try:
            kind, rank, payload = events.get(timeout=0.25)
        except queue_mod.Empty:
            dead = [(r, p.exitcode) for r, p in enumerate(procs) if not p.is_alive() and p.exitcode not in (0, None)]
            if dead or not procs[0].is_alive():
                rank, code = dead[0] if dead else (0, procs[0].exitcode)
                raise VQAStudioError(f"training process rank {rank} ended unexpectedly (exit code {code})")
            if time.monotonic() - last > 1.0:  # a cancel point while the processes start or wait
                last = time.monotonic()
                yield Progress("preparing", 0, None, "waiting for the training processes")
            continue
        if kind == "progress":
            last = time.monotonic()
            yield payload
        elif kind == "done":
            for p in procs:
                p.join(30.0)
            return payload
        elif kind == "error":
            message, is_user_error = payload
            if is_user_error:
                raise VQAStudioError(message)
            raise RuntimeError(f"training process rank {rank} failed:\n{message}")
        elif kind == "cancelled":
            raise Cancelled("cancelled")


def _stop(procs, events, grace: float) -> None:
    """Wait up to ``grace`` seconds for the processes to end (reading what they still send, so none
    blocks on a full queue at exit), then end them (terminate, then kill)."""
    deadline = time.monotonic() + grace
    while any(p.pid is not None and p.is_alive() for p in procs) and time.monotonic() < deadline:
        try:
            events.get(timeout=0.1)
        except (queue_mod.Empty, EOFError, OSError):
            pass
    for p in procs:
        if p.pid is not None and p.is_alive():
            p.terminate()
            p.join(5.0)
        if p.pid is not None and p.is_alive():
            p.kill()
            p.join(5.0)
        elif p.pid is not None:
            p.join(0.1)


# --- a worker ----------------------------------------------------------------------------------------------

def _worker(folder: str, url: str | None, params: dict[str, Any], env: dict[str, str], events, cancel,
            cache_media: bool) -> None:
    """One rank (module level, so ``spawn`` can import it)."""
    global _current
    if hasattr(signal, "SIGINT"):
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the launcher's: it stops every rank at one step
    os.environ.update(env)
    rank = int(env["RANK"])
    try:
        torch.set_num_threads(int(params.get("threads") or 1))
        _current = _join_group(env, params["device"], cancel)
        from ...plugins import load_plugins

        load_plugins()
        _run_rank(folder, url, params, events, rank, cache_media)
    except Cancelled:
        events.put(("cancelled", rank, None))
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the launcher
        user = isinstance(exc, VQAStudioError)
        events.put(("error", rank, (str(exc) if user else traceback.format_exc(), user)))
    finally:
        if tdist.is_available() and tdist.is_initialized():
            tdist.destroy_process_group()
        _current = None


def _join_group(env: dict[str, str], device: str, cancel) -> Rank:
    backend = env["VQA_STUDIO_DIST_BACKEND"]
    rank, world = int(env["RANK"]), int(env["WORLD_SIZE"])
    if device.startswith("cuda"):
        torch.cuda.set_device(torch.device(device))
    if sys.platform == "win32" or os.environ.get("VQA_STUDIO_DIST_INIT") == "file":
        init = Path(env["VQA_STUDIO_DIST_FILE"]).resolve().as_uri()
    else:
        init = "env://"
    tdist.init_process_group(backend, init_method=init, rank=rank, world_size=world, timeout=TIMEOUT)
    return Rank(rank, world, int(env["LOCAL_RANK"]), device, backend, cancel)


def _run_rank(folder: str, url: str | None, params: dict[str, Any], events, rank: int, cache_media: bool) -> None:
    from ..project import Project
    from .config import TrainingArgs
    from .pipeline import run_training

    args = TrainingArgs.from_dict(params)
    project = Project.open(folder, url=url)
    try:
        me = current()
        if rank == 0:
            outcome = drive(run_training(project, args, cache_media=cache_media), cancelled=me.cancelled,
                            on_progress=lambda p: events.put(("progress", 0, p)), min_interval=0.1)
            events.put(("done", 0, outcome))
        else:
            drive(follow_training(project, args, cache_media=cache_media), cancelled=me.cancelled)
    finally:
        project.close()


def follow_training(project, args, *, cache_media: bool = True) -> Generator[Progress, None, None]:
    """A rank other than 0: the same labels, media and trainings as rank 0 (the same collectives),
    nothing written: no runs row, no checkpoint, no scores (``_run`` returns after training here)."""
    from .pipeline import _run

    yield from _run(project, args, -1, f"rank{current().rank}", None, [], time.perf_counter(), cache_media)
