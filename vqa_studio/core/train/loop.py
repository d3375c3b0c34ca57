"""The training loop: a generator that yields ``Progress`` after every optimizer step.

Each yield is a cancel point: closing the generator stops training at once (nothing is saved by the
loop itself). The same generator runs in tests with no threads, in the CLI with a progress bar and
in the GUI's child process.
"""
from __future__ import annotations

import copy
import math
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, Generator, Iterable

import numpy as np
import torch
from torch.nn import functional as F

from ..data.dataset import VQADataset, batch_plan, batches
from ..model.net import VQANet, count_loss, tag_loss, vqa_loss, vqa_loss_rows
from ..types import Progress
from . import distributed
from .config import Precision, TrainingArgs
from .dynamics import TrainingDynamics


@dataclass
class NetResult:
    net: VQANet
    best_val: float
    epochs_run: int
    curves: list[dict[str, Any]] = field(default_factory=list)
    stopped: str = ""  # why it stopped before the last epoch, if it did
    dynamics: TrainingDynamics | None = None  # p(true answer) per training question per epoch


def autocast(device: torch.device, precision: Precision):
    if precision.autocast_dtype is None:
        return nullcontext()
    return torch.autocast(device_type=device.type, dtype=precision.autocast_dtype)


def soft_accuracy(logits: torch.Tensor, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Sum over rows of the VQA soft score (min(1, count/3)) of the predicted class."""
    pred = logits.argmax(-1)
    return batch["soft_labels"].gather(1, pred[:, None]).squeeze(1).clamp(max=1.0).sum()


@torch.no_grad()
def evaluate_soft(net: VQANet, dataset: VQADataset, device: torch.device, precision: Precision,
                  batch_size: int = 256, teacher_members: list[VQANet] | None = None) -> float:
    """Mean VQA soft accuracy of ``net`` (or of a list of members' mean prediction) on ``dataset``."""
    members = teacher_members or [net]
    modes = [m.training for m in members]
    for m in members:
        m.eval()
    total, n = 0.0, 0
    try:
        for batch in batches(dataset, batch_size, shuffle=False):
            batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
            with autocast(device, precision):
                probs = torch.stack([F.softmax(m(batch)["logits"].float(), -1) for m in members]).mean(0)
            total += float(soft_accuracy(probs, batch))
            n += int(batch["tokens"].shape[0])
    finally:
        for m, mode in zip(members, modes):
            m.train(mode)
    return total / max(1, n)


def train_net(net: VQANet, train: VQADataset, val: VQADataset | None, args: TrainingArgs, device: torch.device,
              precision: Precision, *, seed: int, label: str = "", lr: float | None = None,
              epochs: int | None = None, teacher: list[VQANet] | None = None,
              deadline: float | None = None, focus: VQADataset | None = None) -> Generator[Progress, None, NetResult]:
    """Train ``net`` in place; keep the weights of the best validation epoch.

    The learning rate warms up over ``args.warmup`` of training and then anneals (cosine) to nearly 0
    by the last step; with a ``deadline`` the schedule also runs on time (whichever is further on),
    and training stops at the deadline even mid-epoch, so a time-limited run still ends annealed.
    ``args.threads`` sets torch's CPU threads for the duration (restored afterwards).

    With ``focus`` (fine-tuning: the new corrections), an epoch is judged by the mean of its
    validation accuracy and its accuracy on those items: learn the corrections without forgetting.

    With ``args.skip_easy`` > 0, from the second epoch on each epoch skips, with that probability,
    every question whose loss was below ``args.easy_loss`` when it was last trained on (the model
    answers it confidently and rightly); the easy ones it keeps weigh 1 / (1 - skip_easy) in the loss,
    so the expected gradient is the same. Training time then goes to what the model cannot do yet
    (selective backprop, Jiang et al. 2019, with the losses of the previous pass instead of an extra
    forward pass). The learning-rate schedule runs on epochs done (an epoch's share of it is the
    same however short the epoch), and on time as well with a deadline.

    With ``args.freeze_media_at`` (a share of the schedule), the media encoder is frozen from the
    first epoch that starts that far in (evaluation mode: its BatchNorm statistics fixed; no
    gradients) and its features of the training items are computed once (:class:`MediaCache`) and
    fed to the steps instead of the media: late in training, once it has learned what the data
    shows, a step costs only its question side (on the demo with 2 CPU threads, skipping epochs run
    ~1.7x faster). Freezing too early caps what the model can see (on the demo, frozen at 50%
    of a 280 s schedule, one run stalled at 92%). Not with a teacher (it needs the media).

    With ``teacher`` (a list of trained members), the loss is knowledge distillation: ``alpha`` times
    the KL divergence to the teacher's softened mean prediction (temperature T, scaled by T^2), plus
    ``1 - alpha`` times the usual loss on the labels.
    """
    threads = torch.get_num_threads()
    if args.threads:
        torch.set_num_threads(int(args.threads))
    try:
        return (yield from _train_net(net, train, val, args, device, precision, seed=seed, label=label, lr=lr,
                                      epochs=epochs, teacher=teacher, deadline=deadline, focus=focus))
    finally:
        torch.set_num_threads(threads)


def _train_net(net: VQANet, train: VQADataset, val: VQADataset | None, args: TrainingArgs, device: torch.device,
               precision: Precision, *, seed: int, label: str, lr: float | None, epochs: int | None,
               teacher: list[VQANet] | None, deadline: float | None, focus: VQADataset | None
               ) -> Generator[Progress, None, NetResult]:
    torch.manual_seed(seed)
    net.to(device).train()
    trainable = [(p, p.requires_grad) for p in net.media_encoder.parameters()]
    try:
        return (yield from _train_epochs(net, train, val, args, device, precision, seed=seed, label=label, lr=lr,
                                         epochs=epochs, teacher=teacher, deadline=deadline, focus=focus))
    finally:
        for p, flag in trainable:  # a frozen media encoder is frozen for this training only
            p.requires_grad_(flag)


@dataclass
class _Training:
    """What one training carries from step to step and from epoch to epoch."""

    net: VQANet
    train: VQADataset
    val: VQADataset | None
    args: TrainingArgs
    device: torch.device
    precision: Precision
    seed: int
    label: str
    epochs: int
    lr: float
    teacher: list[VQANet] | None
    deadline: float | None
    focus: VQADataset | None
    opt: torch.optim.Optimizer
    scaler: Any
    steps_per_epoch: int
    t_start: float = 0.0
    budget: float | None = None  # seconds from t_start to the deadline
    step: int = 0
    done: float = 0.0  # share of the step schedule done (1 after the last epoch)
    seen: int = 0
    # skip_easy: the loss of each question when it was last trained on, by row of ``train``
    row_loss: np.ndarray | None = None
    qid_rows: np.ndarray | None = None
    qid_order: np.ndarray | None = None
    frozen: MediaCache | None = None
    dynamics: TrainingDynamics | None = None  # p(true answer) per row per epoch (dataset cartography)
    dist: Any = None  # distributed.Rank when this is one of several training processes
    model: Any = None  # what the steps call: the network, or its DistributedDataParallel wrapper
    since_check: int = 0  # questions trained on since the last validation
    out_of_time: bool = False
    best_val: float = -1.0
    best_state: dict[str, Any] | None = None
    bad_epochs: int = 0
    curves: list[dict[str, Any]] = field(default_factory=list)
    stopped: str = ""

    def progress(self) -> float:
        if self.dist is not None:  # on rank 0's clock
            return self.dist.progress(self.done, self.budget)
        return _progress(self.done, self.t_start, self.budget)

    def past_deadline(self) -> bool:
        if self.dist is not None:
            return self.dist.past_deadline(self.budget)
        return self.deadline is not None and time.perf_counter() > self.deadline


def _train_epochs(net: VQANet, train: VQADataset, val: VQADataset | None, args: TrainingArgs, device: torch.device,
                  precision: Precision, *, seed: int, label: str, lr: float | None, epochs: int | None,
                  teacher: list[VQANet] | None, deadline: float | None, focus: VQADataset | None
                  ) -> Generator[Progress, None, NetResult]:
    lr = lr or args.lr
    opt = _optimizer(net, lr, args.weight_decay, device)
    st = _Training(net, train, val, args, device, precision, seed, label, epochs or args.epochs, lr, teacher, deadline,
                   focus, opt, torch.amp.GradScaler(device.type, enabled=precision.use_scaler),
                   max(1, math.ceil(train.n_questions / args.batch_size)))
    if args.skip_easy > 0:
        st.qid_rows = train.question_ids.numpy()
        st.qid_order = np.argsort(st.qid_rows, kind="stable")
        st.row_loss = np.full(len(st.qid_rows), np.inf, dtype=np.float32)
    st.dynamics = TrainingDynamics(train.question_ids.numpy()) if teacher is None else None
    st.t_start = time.perf_counter()
    st.budget = deadline - st.t_start if deadline is not None else None
    st.dist, st.model = distributed.current(), net
    if st.dist is not None:
        st.model = st.dist.begin(st)  # DistributedDataParallel, after checking the ranks read the same data
    for m in teacher or []:
        m.to(device).eval()
    for epoch in range(1, st.epochs + 1):
        run_loss, run_acc, run_n = yield from _epoch(st, epoch)
        if (yield from _after_epoch(st, epoch, run_loss, run_acc, run_n)):
            break
    if st.dist is not None:
        st.dist.end()
    if st.best_state is not None:
        net.load_state_dict(st.best_state)
    net.eval()
    return NetResult(net, st.best_val, len(st.curves), st.curves, st.stopped, st.dynamics)


def _epoch(st: _Training, epoch: int) -> Generator[Progress, None, tuple[float, float, int]]:
    """One epoch's steps (a progress record after each); -> (loss sum, soft accuracy sum, questions)."""
    args, net = st.args, st.net
    run_loss, run_acc, run_n = 0.0, 0.0, 0
    micro = 0
    if (st.frozen is None and epoch > 1 and args.freeze_media_at is not None and not st.teacher
            and st.progress() >= args.freeze_media_at):
        st.frozen = MediaCache.freeze(net, st.train, st.device, st.precision)
    if st.frozen is not None:
        net.media_encoder.eval()  # evaluation put it back in training mode (BatchNorm statistics)
    epoch_ds = st.train
    if st.row_loss is not None and epoch > 1:
        if st.dist is not None:
            st.dist.merge_losses(st.row_loss)  # each rank trained its share of the questions
        epoch_ds = _skip_easy(st.train, st.row_loss, args, np.random.default_rng([st.seed, epoch]))
    plan = batch_plan(epoch_ds, st.dist.batch_size(args.batch_size) if st.dist else args.batch_size, shuffle=True,
                      seed=st.seed * 1000 + epoch)
    if st.dist is not None:
        plan = st.dist.shard(plan, epoch, st.seed)  # DistributedSampler over the epoch's batches
    epoch_steps = max(1, len(plan))
    step_share = 1.0 / (math.ceil(epoch_steps / args.accumulate) * st.epochs)
    total_steps = st.step + epoch_steps + st.steps_per_epoch * (st.epochs - epoch)
    st.opt.zero_grad(set_to_none=True)
    _set_lr(st.opt, st.lr, st.progress(), args)
    for batch in batches(epoch_ds, args.batch_size, shuffle=True, seed=st.seed * 1000 + epoch, plan=plan):
        batch, out, loss = _forward(st, batch)
        st.scaler.scale(loss / args.accumulate).backward()
        micro += 1
        if micro % args.accumulate == 0:
            _optimizer_step(st, clip=True)
            st.done += step_share
            _set_lr(st.opt, st.lr, st.progress(), args)
        if st.row_loss is not None:
            _remember_losses(st, out, batch)
        if st.dynamics is not None:
            st.dynamics.observe(epoch, out["logits"], batch)
        b = int(batch["tokens"].shape[0])
        st.step += 1
        st.seen += b
        run_loss += float(loss.detach()) * b
        run_acc += float(soft_accuracy(out["logits"].detach().float(), batch))
        run_n += b
        elapsed = time.perf_counter() - st.t_start
        rate = st.seen / elapsed if elapsed > 0 else 0.0
        yield Progress("train", st.step, total_steps, f"{st.label}epoch {epoch}/{st.epochs}", {
            "epoch": epoch, "loss": run_loss / run_n, "accuracy": run_acc / run_n, "items_per_s": rate,
            "eta_s": (total_steps - st.step) * elapsed / st.step if st.step else None, "member": st.label,
        })
        if st.dist is not None:
            st.dist.after_step(st)  # rank 0's clock, a cancel, out of time: the same on every rank
        if st.deadline is not None and st.past_deadline():
            st.out_of_time = True  # the schedule has annealed by now: stop mid-epoch
            break
    if micro % args.accumulate:  # the last, partial accumulation
        _optimizer_step(st, clip=False)
    if st.dist is not None:  # the epoch's figures over every rank
        run_loss, run_acc, n = st.dist.sum(run_loss, run_acc, run_n)
        run_n = int(n)
    return run_loss, run_acc, run_n


def _forward(st: _Training, batch: dict[str, torch.Tensor]):
    """-> (the batch on the device, the network's outputs, the loss): the labels' loss with the tag and
    count terms, or with a teacher the distillation loss mixed with it."""
    args = st.args
    if st.frozen is not None and st.frozen.regions is not None:
        batch.pop("media")
        batch["media_regions"], batch["media_centres"] = st.frozen.lookup(batch["media_ids"])
    batch = {k: v.to(st.device, non_blocking=True) for k, v in batch.items()}
    with autocast(st.device, st.precision):
        out = (st.model or st.net)(batch)
        logits = out.get("head_logits", out["logits"])
        loss = vqa_loss(logits, batch, label_smoothing=args.label_smoothing)
        if args.tag_loss and "tag_logits" in out:
            loss = loss + args.tag_loss * tag_loss(out["tag_logits"], batch)
        if args.count_loss and "counts" in out:
            loss = loss + args.count_loss * count_loss(out["counts"], batch)
        if st.teacher:
            with torch.no_grad():
                t_probs = torch.stack([F.softmax(m(batch)["logits"].float() / args.distill_temperature, -1)
                                       for m in st.teacher]).mean(0)
            s_logp = F.log_softmax(out["logits"].float() / args.distill_temperature, -1)
            kd = F.kl_div(s_logp, t_probs, reduction="batchmean") * args.distill_temperature ** 2
            loss = args.distill_alpha * kd + (1 - args.distill_alpha) * loss
    return batch, out, loss


def _optimizer_step(st: _Training, clip: bool) -> None:
    st.scaler.unscale_(st.opt)
    if clip:
        torch.nn.utils.clip_grad_norm_(st.net.parameters(), 5.0)
    st.scaler.step(st.opt)
    st.scaler.update()
    st.opt.zero_grad(set_to_none=True)


def _remember_losses(st: _Training, out: dict[str, torch.Tensor], batch: dict[str, torch.Tensor]) -> None:
    """skip_easy: each question's loss in this step (inf where it has no usable label)."""
    rows, usable = vqa_loss_rows(out["logits"].detach().float(), batch)
    qids = batch["question_ids"].cpu().numpy()
    at = st.qid_order[np.searchsorted(st.qid_rows, qids, sorter=st.qid_order)]
    st.row_loss[at] = np.where(usable.cpu().numpy(), rows.cpu().numpy(), np.inf)


def _after_epoch(st: _Training, epoch: int, run_loss: float, run_acc: float, run_n: int
                 ) -> Generator[Progress, None, bool]:
    """The epoch's record (validated when due) and its progress record; -> True when training stops."""
    st.since_check += run_n
    # validation after at least half an epoch's worth of questions since the last time (short,
    # skipping epochs are not checked one by one), and after the last epoch
    last = st.out_of_time or epoch == st.epochs or (st.deadline is not None and st.past_deadline())
    check = last or st.since_check >= 0.5 * st.train.n_questions
    has_val = st.val is not None and len(st.val) > 0
    val_acc = _evaluate(st, st.val) if has_val and check else float("nan")
    record = {"epoch": epoch, "member": st.label, "loss": run_loss / max(1, run_n),
              "train_accuracy": run_acc / max(1, run_n), "val_accuracy": val_acc,
              "seconds": time.perf_counter() - st.t_start, "questions": run_n, "media_frozen": st.frozen is not None}
    if check and st.focus is not None and len(st.focus):
        record["focus_accuracy"] = _evaluate(st, st.focus)
    st.curves.append(record)
    yield Progress("epoch", epoch, st.epochs, f"{st.label}epoch {epoch}: "
                   + (f"val accuracy {val_acc:.3f}" if check and has_val else "loss {:.3f}".format(record["loss"])),
                   dict(record))
    if not check:
        return False
    st.since_check = 0
    return _keep_best(st, record, val_acc)


def _evaluate(st: _Training, dataset: VQADataset) -> float:
    """Soft accuracy on ``dataset``; several training processes each evaluate a share and add up."""
    if st.dist is not None:
        return st.dist.evaluate(st.net, dataset, st.device, st.precision)
    return evaluate_soft(st.net, dataset, st.device, st.precision)


def _keep_best(st: _Training, record: dict[str, Any], val_acc: float) -> bool:
    """Keep the weights of the best validated epoch; -> True on early stopping or at the time limit."""
    score = val_acc if not np.isnan(val_acc) else -record["loss"]
    if "focus_accuracy" in record:
        score = record["focus_accuracy"] if np.isnan(val_acc) else (val_acc + record["focus_accuracy"]) / 2
    if score > st.best_val:
        st.best_val, st.bad_epochs = score, 0
        st.best_state = copy.deepcopy(st.net.state_dict())
    else:
        st.bad_epochs += 1
        if st.bad_epochs >= st.args.patience:
            st.stopped = f"no validation improvement for {st.args.patience} epochs"
            return True
    if st.out_of_time or (st.deadline is not None and st.past_deadline()):
        st.stopped = "time limit reached"
        return True
    return False


def _optimizer(net: VQANet, lr: float, weight_decay: float, device: torch.device) -> torch.optim.Optimizer:
    """AdamW; no weight decay on biases, norms and embeddings (1-d parameters); the multi-tensor
    (foreach) implementation, which is the fastest here for a few dozen small tensors."""
    decay = [p for p in net.parameters() if p.requires_grad and p.dim() > 1]
    rest = [p for p in net.parameters() if p.requires_grad and p.dim() <= 1]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=lr, foreach=True)


class MediaCache:
    """A frozen media encoder's features of the training items (computed once, in evaluation mode)."""

    #: above this the features are kept as float16, and above ``MAX_BYTES`` not kept at all (the
    #: encoder is still frozen: no gradients, BatchNorm statistics fixed; it runs every step)
    HALF_BYTES = 1 << 30
    MAX_BYTES = 4 << 30

    def __init__(self, row_of: dict[int, int], regions: torch.Tensor | None, centres: torch.Tensor | None):
        self.row_of, self.regions, self.centres = row_of, regions, centres

    @classmethod
    def freeze(cls, net: VQANet, train: VQADataset, device: torch.device, precision: Precision,
               chunk: int = 256) -> "MediaCache":
        encoder = net.media_encoder
        encoder.eval()
        encoder.requires_grad_(False)
        ids = list(train.item_ids)
        regions, centres = [], []
        dtype = torch.float32
        with torch.no_grad():
            for i in range(0, len(ids), chunk):
                with autocast(device, precision):
                    r, c = encoder(train.media.batch(ids[i: i + chunk]).to(device))
                if i == 0:  # the size of it all, from the first chunk
                    total = (r[0].numel() + c[0].numel()) * 4 * len(ids)
                    if total > cls.MAX_BYTES:
                        return cls({}, None, None)
                    dtype = torch.float16 if total > cls.HALF_BYTES else torch.float32
                regions.append(r.to(dtype))
                centres.append(c.to(dtype))
        if not ids:
            return cls({}, None, None)
        return cls({item: k for k, item in enumerate(ids)}, torch.cat(regions), torch.cat(centres))

    def lookup(self, media_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        rows = torch.as_tensor([self.row_of[i] for i in media_ids.tolist()], dtype=torch.long,
                               device=self.regions.device)
        return self.regions.index_select(0, rows).float(), self.centres.index_select(0, rows).float()


def _skip_easy(train: VQADataset, row_loss: np.ndarray, args: TrainingArgs, rng: np.random.Generator) -> VQADataset:
    """This epoch's questions: each easy one (loss below ``args.easy_loss`` when last trained on)
    dropped with probability ``args.skip_easy``, those kept weighted 1 / (1 - skip_easy)."""
    easy = row_loss < args.easy_loss
    keep = ~easy | (rng.random(len(row_loss)) >= args.skip_easy)
    if keep.all():
        return train
    weights = np.where(easy, 1.0 / (1.0 - args.skip_easy), 1.0).astype(np.float32)
    return train.select(keep, weights)


def _progress(done: float, t_start: float, budget: float | None) -> float:
    """How far through training we are, 0..1: by the share of the step schedule done, or by time
    when a time budget is set and time runs out first (so the schedule has annealed when the
    deadline stops training)."""
    p = done
    if budget is not None and budget > 0:
        p = max(p, (time.perf_counter() - t_start) / budget)
    return min(1.0, p)


def lr_at(progress: float, lr: float, warmup: float = 0.1, final_div: float = 1000.0) -> float:
    """The learning-rate schedule: linear warm-up from lr/25 over ``warmup`` of training, then
    cosine annealing to lr/final_div (OneCycle's shape, driven by ``progress`` in 0..1)."""
    if progress < warmup:
        return lr / 25 + (lr - lr / 25) * progress / warmup
    f = 0.5 * (1 + math.cos(math.pi * min(1.0, (progress - warmup) / max(1e-9, 1 - warmup))))
    return lr / final_div + (lr - lr / final_div) * f


def _set_lr(opt: torch.optim.Optimizer, lr: float, progress: float, args: TrainingArgs) -> None:
    value = lr_at(progress, lr, args.warmup)
    for group in opt.param_groups:
        group["lr"] = value


def collect_logits(members: Iterable[VQANet], dataset: VQADataset, device: torch.device,
                   batch_size: int = 256) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(log of the members' mean probability [N, C], hard labels [N] (-1: outside the vocabulary),
    question ids [N]) in dataset order: what temperature scaling and ECE need."""
    members = list(members)
    out, labels, qids = [], [], []
    with torch.inference_mode():
        for batch in batches(dataset, batch_size, shuffle=False):
            b = {k: v.to(device) for k, v in batch.items()}
            probs = torch.stack([F.softmax(m.eval()(b)["logits"].float(), -1) for m in members]).mean(0)
            out.append(torch.log(probs.clamp_min(1e-12)).cpu().numpy())
            labels.append(batch["labels"].numpy())
            qids.append(batch["question_ids"].numpy())
    if not out:
        return np.zeros((0, 0), np.float32), np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(out), np.concatenate(labels), np.concatenate(qids)
