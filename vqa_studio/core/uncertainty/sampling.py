"""Stochastic predictions shaped ``[N, C, T]`` (float32): MC-dropout, ensembles, multi-head.

Every function here returns class probabilities with the samples on the last axis, the one shape
every acquisition function takes (``acquisition.py``):

* :func:`mc_dropout_probs` ``scope="head"``: the encoders and the fusion run ONCE per batch in eval
  mode; only the classifier's dropout is sampled, T masks at once (``VQANet.head_samples``). Cost:
  one forward pass plus T small matrix products.
* ``scope="full"``: dropout on everywhere (BatchNorm stays in eval mode, its running statistics are
  not touched), T full passes per batch.
* :func:`mc_dropout_from_fused`: re-score cached fused features (no encoder at all). The head scope
  is implemented as "encode everything, then this", so the two agree exactly for the same seed,
  whatever the batch size the features were computed with.
* :func:`ensemble_probs` ``[N, C, M]``, :func:`multihead_probs` ``[N, C, H]``, and :func:`combine`
  to concatenate along the sample axis (MC x ensemble: ``combine(*(mc_dropout_probs(m, ...) for m in
  members))`` -> ``[N, C, M*T]``).

With several classifier heads and ``head_index=None``, MC-dropout samples every head: ``S = H*T``
samples, head-major (head 0's T samples, then head 1's, ...). ``T`` has no default here: the one
default is ``core.active.args.DEFAULT_MC_SAMPLES``, which the callers' ``ScoringArgs`` carries.

``batches`` is any iterable of batch dicts (a DataLoader, a list, a generator); it is iterated
once; no batch at all gives an empty ``[0, C, S]`` array. The model's train/eval modes are restored afterwards. ``device``: where to run; the model is
moved there (``nn.Module.to`` works in place) and each batch's tensors are moved too; None = the
model's device. ``progress(n_done)`` is called after each batch; raising from it (e.g.
``Cancelled``) stops the work. Work runs under ``torch.inference_mode``.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional, Sequence

import numpy as np
import torch
from torch import nn

Batch = Mapping[str, Any]
Progress = Optional[Callable[[int], None]]


# --- helpers ------------------------------------------------------------------------------------------


def _device(model: nn.Module, device: torch.device | str | None) -> torch.device:
    if device is None:
        p = next(model.parameters(), None)
        return p.device if p is not None else torch.device("cpu")
    device = torch.device(device)
    model.to(device)
    return device


def _move(batch: Batch, device: torch.device) -> dict[str, Any]:
    return {k: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}


def _has_running_stats(m: nn.Module) -> bool:
    return bool(getattr(m, "track_running_stats", False)) and getattr(m, "running_mean", None) is not None


@contextmanager
def _modes(model: nn.Module, mc: bool = False):
    """eval mode (``mc=False``), or train mode for dropout with every module that keeps running
    statistics (BatchNorm...) in eval mode; every module's mode is restored on exit."""
    saved = [(m, m.training) for m in model.modules()]
    try:
        if mc:
            model.train()
            for m in model.modules():
                if _has_running_stats(m):
                    m.eval()
        else:
            model.eval()
        yield model
    finally:
        for m, training in saved:
            m.training = training


def _generator(device: torch.device, seed: int | None) -> torch.Generator:
    g = torch.Generator(device=device)
    if seed is None:
        g.seed()
    else:
        g.manual_seed(int(seed))
    return g


def _softmax(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    if temperature != 1.0:
        logits = logits / temperature
    return torch.softmax(logits.float(), dim=-1)


def _samples_to_numpy(probs_bsc: torch.Tensor) -> np.ndarray:
    """[B, S, C] tensor -> [B, C, S] float32 array (a view; numpy copies it where it is stored)."""
    return probs_bsc.transpose(1, 2).to("cpu", torch.float32).numpy()


# --- encoding -----------------------------------------------------------------------------------------


def iter_encode(
    model: nn.Module, batches: Iterable[Batch], device: torch.device | str | None = None
) -> Iterator[Any]:
    """Yield ``model.encode(batch)`` (eval mode, inference mode) for each batch: a generator, so a
    caller's own generator can yield progress (and take cancels) between batches. The modes are
    set and restored around each batch, never held across a ``yield``."""
    dev = _device(model, device)
    for batch in batches:
        with _modes(model), torch.inference_mode():
            enc = model.encode(_move(batch, dev))
        yield enc


def encode_all(
    model: nn.Module, batches: Iterable[Batch], device: torch.device | str | None = None, progress: Progress = None
):
    """All batches' ``Encoded`` concatenated (fused [N, D], attention [N, G, K], centres [N, K, c]),
    left on the device. Keep it to store attention maps and to re-score with
    :func:`mc_dropout_from_fused` without running the encoders again. ValueError when there is no
    batch (K is not known without one)."""
    parts = []
    done = 0
    for enc in iter_encode(model, batches, device):
        parts.append(enc)
        done += enc.fused.shape[0]
        if progress is not None:
            progress(done)
    if not parts:
        raise ValueError("no batches to encode")
    cls = type(parts[0])
    return cls(
        fused=torch.cat([p.fused for p in parts]),
        attention=torch.cat([p.attention for p in parts]),
        centres=torch.cat([p.centres for p in parts]),
    )


# --- MC-dropout ---------------------------------------------------------------------------------------


def mc_dropout_from_fused(
    model: nn.Module,
    fused: torch.Tensor,
    T: int,
    seed: int | None = None,
    *,
    head_index: int | None = None,
    temperature: float = 1.0,
    chunk_size: int | None = None,
    device: torch.device | str | None = None,
) -> np.ndarray:
    """MC-dropout of the classifier head alone on cached fused features [N, D] -> [N, C, S].

    Rows go through in chunks of ``chunk_size`` (default 256 on CPU, where the [chunk, T, hidden]
    masks then stay in cache, 8192 on an accelerator; rounded up to a multiple of 4). With the same
    seed the dropout masks of each row are the same whatever the chunk size (CPU generator), so the
    result does not depend on it (up to float round-off in the matrix product).
    """
    if T < 1:
        raise ValueError("T must be >= 1")
    dev = _device(model, device)
    if chunk_size is None:
        chunk_size = 256 if dev.type == "cpu" else 8192
    chunk_size = max(4, -(-int(chunk_size) // 4) * 4)
    n = fused.shape[0]
    gen = _generator(dev, seed)
    out: np.ndarray | None = None
    with torch.inference_mode():
        for i in range(0, n, chunk_size):
            f = fused[i : i + chunk_size].to(dev, non_blocking=True)
            probs = _softmax(model.head_samples(f, T, generator=gen, head_index=head_index), temperature)
            if out is None:
                out = np.empty((n, probs.shape[2], probs.shape[1]), dtype=np.float32)
            out[i : i + f.shape[0]] = _samples_to_numpy(probs)
    if out is None:  # no rows
        out = _empty(model, _n_samples(model, T, head_index))
    return out


def _n_samples(model: nn.Module, T: int, head_index: int | None) -> int:
    return T * (getattr(model, "n_heads", 1) if head_index is None else 1)


def _empty(model: nn.Module, s: int) -> np.ndarray:
    return np.empty((0, model.n_answers, s), dtype=np.float32)


def _mc_full(
    model: nn.Module, batches: Iterable[Batch], T: int, seed: int | None, dev: torch.device,
    head_index: int | None, temperature: float, progress: Progress,
) -> np.ndarray:
    parts = []
    done = 0
    # seed (and afterwards restore) only the generator of the device we run on
    fork_devices = [dev.index if dev.index is not None else torch.cuda.current_device()] if dev.type == "cuda" else []
    with torch.random.fork_rng(devices=fork_devices, enabled=seed is not None), _modes(model, mc=True), \
            torch.inference_mode():
        if seed is not None:
            if dev.type == "cuda":
                with torch.cuda.device(fork_devices[0]):
                    torch.cuda.manual_seed(int(seed))
            else:
                torch.random.default_generator.manual_seed(int(seed))
        for batch in batches:
            batch = _move(batch, dev)
            passes = []
            for _ in range(T):
                fused = model.encode(batch).fused
                if head_index is None:
                    passes.append(model.heads(fused).permute(2, 0, 1))  # [H, B, C], dropout on
                else:
                    passes.append(model.head(fused, head_index).unsqueeze(0))  # [1, B, C]
            logits = torch.stack(passes, dim=2)  # [H', B, T, C]
            logits = logits.transpose(0, 1).reshape(logits.shape[1], -1, logits.shape[3])  # [B, H'T, C]
            parts.append(_samples_to_numpy(_softmax(logits, temperature)))
            done += parts[-1].shape[0]
            if progress is not None:
                progress(done)
    if not parts:
        return _empty(model, _n_samples(model, T, head_index))
    return np.concatenate(parts)


def mc_dropout_probs(
    model: nn.Module,
    batches: Iterable[Batch],
    T: int,
    scope: str = "head",
    seed: int | None = None,
    *,
    device: torch.device | str | None = None,
    head_index: int | None = None,
    temperature: float = 1.0,
    progress: Progress = None,
) -> np.ndarray:
    """MC-dropout class probabilities [N, C, S] (S = T, or H*T for all of H heads), float32.

    ``scope="head"``: encoders + fusion once (eval), T dropout masks on the classifier in one op;
    identical to ``mc_dropout_from_fused(model, encode_all(model, batches).fused, T, seed)``.
    ``scope="full"``: dropout everywhere (BatchNorm in eval mode), T full passes per batch.
    ``temperature`` divides the logits (from :func:`calibration.fit_temperature`).
    """
    if T < 1:
        raise ValueError("T must be >= 1")
    dev = _device(model, device)
    if scope == "head":
        fused, done = [], 0
        for enc in iter_encode(model, batches, dev):
            fused.append(enc.fused)
            done += enc.fused.shape[0]
            if progress is not None:
                progress(done)
        if not fused:
            return _empty(model, _n_samples(model, T, head_index))
        return mc_dropout_from_fused(model, torch.cat(fused), T, seed, head_index=head_index, temperature=temperature)
    if scope == "full":
        return _mc_full(model, batches, T, seed, dev, head_index, temperature, progress)
    raise ValueError(f"scope is 'head' or 'full', not {scope!r}")


# --- ensembles and heads ------------------------------------------------------------------------------


def ensemble_probs(
    models: Sequence[nn.Module],
    batches: Iterable[Batch],
    *,
    device: torch.device | str | None = None,
    temperature: float = 1.0,
    progress: Progress = None,
) -> np.ndarray:
    """Each member's (eval-mode) prediction, [N, C, M]. A member with several heads contributes its
    heads' mean. The batches are iterated once; every member sees each batch in turn."""
    if not models:
        raise ValueError("an ensemble needs at least one model")
    devs = [_device(m, device) for m in models]
    n_answers = {getattr(m, "n_answers", None) for m in models}
    if len(n_answers) > 1:
        raise ValueError(f"ensemble members disagree on the number of answers: {sorted(map(str, n_answers))}")
    parts = []
    done = 0
    with torch.inference_mode():
        for batch in batches:
            member = []
            for model, dev in zip(models, devs):
                with _modes(model):
                    logits = model.head(model.encode(_move(batch, dev)).fused)
                member.append(_softmax(logits, temperature).to("cpu"))
            parts.append(torch.stack(member, dim=-1).numpy())
            done += parts[-1].shape[0]
            if progress is not None:
                progress(done)
    if not parts:
        return _empty(models[0], len(models))
    return np.concatenate(parts).astype(np.float32, copy=False)


def multihead_probs(
    model: nn.Module,
    batches: Iterable[Batch],
    *,
    device: torch.device | str | None = None,
    temperature: float = 1.0,
    progress: Progress = None,
) -> np.ndarray:
    """Every head's (eval-mode) prediction, [N, C, H]; the encoders run once per batch."""
    parts = []
    done = 0
    for enc in iter_encode(model, batches, device):
        with torch.inference_mode():
            logits = model.heads(enc.fused)  # [B, C, H]
            parts.append(_softmax(logits.permute(2, 0, 1), temperature).permute(1, 2, 0).to("cpu").numpy())
        done += parts[-1].shape[0]
        if progress is not None:
            progress(done)
    if not parts:
        return _empty(model, getattr(model, "n_heads", 1))
    return np.concatenate(parts).astype(np.float32, copy=False)


def combine(*arrays: np.ndarray) -> np.ndarray:
    """Concatenate [N, C, T_i] arrays along the sample axis -> [N, C, sum T_i] (float32)."""
    if not arrays:
        raise ValueError("combine needs at least one array")
    arrays = tuple(np.asarray(a) for a in arrays)
    for a in arrays:
        if a.ndim != 3:
            raise ValueError(f"combine takes [N, C, T] arrays, got shape {a.shape}")
    if len({a.shape[:2] for a in arrays}) > 1:
        raise ValueError(f"combine needs the same N and C everywhere, got {[a.shape for a in arrays]}")
    return np.concatenate(arrays, axis=2).astype(np.float32, copy=False)


__all__ = [
    "iter_encode",
    "encode_all",
    "mc_dropout_probs",
    "mc_dropout_from_fused",
    "ensemble_probs",
    "multihead_probs",
    "combine",
]
