"""Training dynamics: each training question's probability of its true answer after each epoch
(what dataset cartography reads, ``core.active.cartography``).

The training loop calls ``observe`` after each step's forward pass with the step's logits: the
probability the model, as it is at that step, gives to the question's stored answer. For a question
with several human answers (imported VQA v2 labels) it is the expected VQA score, the sum over
answers of the model's probability times the answer's soft score (1 for a single answer). A question
not trained on in an epoch (skipped as easy, or another rank's share) is NaN there. The cost is one
softmax of logits already computed, per step.
"""
from __future__ import annotations

import numpy as np
import torch


class TrainingDynamics:
    """p(true answer) per training question (rows in the order of ``question_ids``) per epoch."""

    def __init__(self, question_ids):
        self.question_ids = np.asarray(question_ids, dtype=np.int64)
        self._order = np.argsort(self.question_ids, kind="stable")
        self._sorted = self.question_ids[self._order]
        self._epochs: dict[int, np.ndarray] = {}

    def observe(self, epoch: int, logits: torch.Tensor, batch: dict[str, torch.Tensor]) -> None:
        soft = batch.get("soft_labels")
        if soft is None or logits.dim() != 2:
            return
        with torch.no_grad():
            p = torch.softmax(logits.detach().float(), -1)
            s = soft.to(p.device, p.dtype).clamp(max=1.0)
            usable = s.sum(-1) > 0
            value = torch.where(usable, (p * s).sum(-1), torch.full_like(usable, float("nan"), dtype=p.dtype))
        qids = batch["question_ids"].cpu().numpy()
        pos = np.searchsorted(self._sorted, qids)
        ok = (pos < len(self._sorted)) & (self._sorted[np.minimum(pos, len(self._sorted) - 1)] == qids)
        col = self._epochs.get(epoch)
        if col is None:
            col = self._epochs[epoch] = np.full(len(self.question_ids), np.nan, dtype=np.float32)
        col[self._order[pos[ok]]] = value.cpu().numpy()[ok]

    @property
    def n_epochs(self) -> int:
        return len(self._epochs)

    def history(self) -> np.ndarray:
        """float32 [n_questions, n_epochs], epochs in order."""
        if not self._epochs:
            return np.zeros((len(self.question_ids), 0), dtype=np.float32)
        return np.stack([self._epochs[e] for e in sorted(self._epochs)], axis=1)
