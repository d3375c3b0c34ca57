"""How fast a few real training steps run in a given precision: what ``choose_precision`` asks where
``--amp auto`` must confirm that bf16 on a CPU with native bf16 is really faster."""
from __future__ import annotations

import time

import numpy as np
import torch

from ..data.dataset import VQADataset, batches
from ..model.net import ModelConfig, VQANet
from .config import Precision, TrainingArgs
from .loop import autocast


def precision_probe(config: ModelConfig, dataset: VQADataset, device: torch.device, args: TrainingArgs):
    """Times three training steps of the real model in a given precision (used only where auto needs
    to confirm that bf16 on a CPU with native bf16 is really faster)."""
    def probe(precision: Precision) -> float:
        net = VQANet(config).to(device).train()
        opt = torch.optim.AdamW(net.parameters(), lr=1e-3)
        it = batches(dataset, args.batch_size, shuffle=True, seed=123)
        times = []
        for _, batch in zip(range(4), it):
            b = {k: v.to(device) for k, v in batch.items()}
            t = time.perf_counter()
            with autocast(device, precision):
                loss = net(b)["logits"].float().logsumexp(-1).mean()
            loss.backward()
            opt.step()
            opt.zero_grad()
            times.append(time.perf_counter() - t)
        return float(np.median(times[1:])) if len(times) > 1 else float("inf")

    return probe
