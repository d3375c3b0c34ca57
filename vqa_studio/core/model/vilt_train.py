"""Fine-tuning a ViLT proposer (:mod:`.vilt`) on the project's labelled questions.

:func:`finetune` is a generator yielding :class:`~vqa_studio.core.types.Progress` records (drive it
with :func:`vqa_studio.core.driver.drive`; each yield is a cancel point, and closing it leaves the
model in eval mode with nothing trainable). Answers the model does not know get new rows of the
classifier first (:meth:`ViltProposer.add_answers`: the old rows are kept). Cross-entropy over the
normalised answers, with the head's MC-dropout on while training.

``unfreeze=0`` (the default) trains the answer head only: the transformer runs once per question
(stage ``"features"``) and each step is a few small matrix products. ``unfreeze=N`` also trains the
last N transformer layers (and the final norm and pooler): each step runs the transformer.
"""
from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

import torch
from torch.nn import functional as F

from ..data.vocab import normalize_answer
from ..errors import BadInputError
from ..types import Progress
from .vilt import ViltProposer, _take


def _targets(proposer: ViltProposer, answers: Sequence[str]) -> torch.Tensor:
    targets = []
    for i, a in enumerate(answers):
        k = proposer.index(str(a))
        if k is None:
            raise BadInputError(None, f"the answer {a!r} is empty once normalised ({normalize_answer(str(a))!r})",
                                record=f"answers[{i}]")
        targets.append(k)
    return torch.tensor(targets, dtype=torch.long)


def _features(proposer: ViltProposer, images: Any, questions: Sequence[str], batch_size: int
              ) -> Generator[Progress, None, torch.Tensor]:
    """The frozen transformer's pooled output for every question, once (no grad)."""
    n = len(questions)
    parts = []
    for start in range(0, n, batch_size):
        end = min(n, start + batch_size)
        proposer.model.eval()
        with torch.no_grad():
            parts.append(proposer.pooled(_take(images, slice(start, end)), list(questions[start:end])))
        yield Progress("features", end, n, f"{end}/{n} questions encoded")
    return torch.cat(parts)


def _order(n: int, gen: torch.Generator) -> Generator[int, None, None]:
    """Question indices, epoch after epoch, each epoch shuffled."""
    while True:
        yield from torch.randperm(n, generator=gen).tolist()


def finetune(proposer: ViltProposer, images: Any, questions: Sequence[str], answers: Sequence[str], *,
             steps: int, lr: float = 1e-3, batch_size: int = 16, unfreeze: int = 0, weight_decay: float = 0.0,
             seed: int = 0) -> Generator[Progress, None, dict[str, Any]]:
    """Train the head (and the last ``unfreeze`` transformer layers) for ``steps`` minibatch steps.

    Yields ``Progress("features", ...)`` while encoding (head only), then ``Progress("finetune",
    step, steps, info={"loss": ...})`` after each step. Returns ``{"loss": last minibatch loss,
    "losses": [...], "added": answers added}``. The answers are added before the first yield: a
    cancelled run keeps their (untrained) rows."""
    n = len(questions)
    if len(images) != n or len(answers) != n:
        raise ValueError(f"{len(images)} images, {n} questions and {len(answers)} answers: one of each per question")
    if n == 0 or steps < 1:
        raise ValueError("fine-tuning needs at least one question and one step")
    added = proposer.add_answers(list(answers))
    targets = _targets(proposer, answers).to(proposer.device)
    modules = proposer.trainable(unfreeze)
    batch_size = max(1, min(int(batch_size), n))
    gen = torch.Generator().manual_seed(int(seed))
    losses: list[float] = []
    try:
        pooled = (yield from _features(proposer, images, questions, batch_size)) if not unfreeze else None
        params = []
        for mod in modules:
            mod.requires_grad_(True)
            params += list(mod.parameters())
        opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
        proposer.trained_layers = max(proposer.trained_layers, int(unfreeze))
        order = _order(n, gen)
        p = proposer.dropout
        for step in range(int(steps)):
            idx = [next(order) for _ in range(batch_size)]
            proposer.model.eval()  # the transformer's own dropout stays off; the head's is applied below
            x = pooled[idx] if pooled is not None else proposer.pooled(
                _take(images, idx), [questions[i] for i in idx])
            logits = proposer.head(x, lambda t: F.dropout(t, p, training=True))
            loss = F.cross_entropy(logits.float(), targets[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
            yield Progress("finetune", step + 1, int(steps), f"loss {losses[-1]:.4f}",
                           {"loss": losses[-1], "answers_added": len(added)})
    finally:
        proposer.model.eval().requires_grad_(False)
    return {"loss": losses[-1], "losses": losses, "added": added}

