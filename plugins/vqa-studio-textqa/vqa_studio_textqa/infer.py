"""Running a text-QA model: calibrated answers, MC-dropout samples ``[N, C, T]``, attention."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .data import Encoded, batches


@dataclass
class Encodings:
    features: list[torch.Tensor]  # per member: [N, 2D]
    attention: list[np.ndarray]  # first member: one [E, S_i] float16 array per question (its own story length)


def encode_all(members, enc: Encoded, batch_size: int = 256, device="cpu") -> Encodings:
    """Every member's features and the first member's attention (eval mode: no dropout)."""
    feats: list[list[torch.Tensor]] = [[] for _ in members]
    attention: list[np.ndarray] = []
    with torch.inference_mode():
        for idx in batches(len(enc), batch_size):
            part = enc.take(idx)
            for m, net in enumerate(members):
                f, att = net.to(device).eval().encode(*part.inputs(device))
                feats[m].append(f.float().cpu())
                if m == 0:
                    att = att.float().cpu().numpy()
                    attention += [att[r, :, :int(n)].astype(np.float16) for r, n in enumerate(part.n_facts.tolist())]
    return Encodings([torch.cat(f) if f else torch.zeros(0, 1) for f in feats], attention)


def mean_probs(members, features: list[torch.Tensor], temperature: float = 1.0) -> np.ndarray:
    """The members' mean answer probabilities [N, C] (no dropout), calibrated: ``softmax(log p / T)``."""
    with torch.inference_mode():
        p = torch.stack([torch.softmax(net.head(f), -1) for net, f in zip(members, features)]).mean(0)
        if temperature != 1.0:
            p = torch.softmax(torch.log(p.clamp_min(1e-12)) / temperature, -1)
    return p.numpy()


def sample_probs(members, features: list[torch.Tensor], samples: int, seed: int = 0, temperature: float = 1.0
                 ) -> np.ndarray:
    """MC-dropout on the answer module of every member: calibrated probabilities [N, C, M * T]."""
    out = []
    with torch.inference_mode():
        for m, (net, f) in enumerate(zip(members, features)):
            gen = torch.Generator().manual_seed(seed + 1000 * m)
            for _ in range(samples):
                mask = (torch.rand(f.shape, generator=gen) >= net.config["dropout"]).float() / (1 - net.config["dropout"])
                out.append(torch.softmax(net.answer(f * mask) / temperature, -1))
    return torch.stack(out, -1).numpy().astype(np.float32)


def fit_temperature(probs_logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood of ``labels`` (a grid search over
    0.5..4; 1.0 without labelled rows) given the members' mean log-probabilities [N, C]."""
    keep = labels >= 0
    if not keep.any():
        return 1.0
    logp, y = torch.as_tensor(probs_logits[keep]), torch.as_tensor(labels[keep])
    grid = np.round(np.arange(0.5, 4.01, 0.05), 3)
    nll = [float(torch.nn.functional.cross_entropy(logp / t, y)) for t in grid]
    return float(grid[int(np.argmin(nll))])
