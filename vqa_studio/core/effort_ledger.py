"""The books of an effort replay: what each pool question's answer is now, and what people spent.

A pool question is in one of four states: ``OPEN`` (its answer is the current model's proposal, or
none before the first model), ``REVIEWED`` (a person looked at it: accepted the proposal or
corrected it), ``AUTO`` (auto-accepted: the proposal of that moment is frozen as its answer) and
``AUDITED`` (auto-accepted, then drawn for an audit and looked at by a person).

The pool's answers are: the person's answer for reviewed and audited questions (the stored label:
the replay's annotator answers as the dataset does, so it is right by definition), the frozen
proposal for auto-accepted ones, and the current proposal for open ones (no answer scores 0). The
pool's accuracy is the mean VQA accuracy of those answers against the stored labels.

Human actions: a review is one (an *accept* when the proposal was already right, a *correction*
otherwise, including a question with no proposal yet; an auto-accepted question stays in the queue
and may be reviewed too), an audit is one (whether or not it finds a
mistake). Nothing else costs an action.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .data.vocab import vqa_accuracy

OPEN, REVIEWED, AUTO, AUDITED = 0, 1, 2, 3


@dataclass
class EffortResult:
    """One replay: actions spent and the pool accuracy curve (after each action and each retraining)."""

    strategy: str
    n_pool: int
    target: float
    actions: int = 0
    accepts: int = 0
    corrections: int = 0
    audits: int = 0
    audit_mistakes: int = 0
    auto_accepted: int = 0
    retrainings: int = 0
    reached: bool = False
    accuracy: float = 0.0
    curve: list[tuple[int, float]] = field(default_factory=list)  # (human actions, pool accuracy)
    seconds: float = 0.0
    flagged_outliers: int = 0  # reviewed questions kept out of retraining as likely outliers
    flagged_true: int = 0  # of which the data marks as outliers (when it says)

    @property
    def share(self) -> float:
        """Actions as a share of reviewing every item."""
        return self.actions / self.n_pool if self.n_pool else float("nan")

    def line(self) -> str:
        """``human actions: N (P% of reviewing every item)``, and what the actions were."""
        head = f"human actions: {self.actions:,} ({self.share * 100:.1f}% of reviewing every item)"
        if not self.reached:
            head += f" - the pool reached only {self.accuracy * 100:.1f}%, not {self.target * 100:g}%"
        return head

    def details(self) -> str:
        return (f"{self.accepts:,} accepts, {self.corrections:,} corrections, {self.audits:,} audits "
                f"({self.audit_mistakes} found a mistake); {self.auto_accepted:,} auto-accepted, "
                f"{self.retrainings} retrainings; pool accuracy {self.accuracy * 100:.2f}%")


class PoolLedger:
    """The pool's answers and the actions spent on them (see the module doc)."""

    def __init__(self, truth: Sequence[Sequence[str]], target: float, strategy: str = "") -> None:
        if not 0.0 < target <= 1.0:
            raise ValueError(f"the target accuracy must be in (0, 1], not {target!r}")
        self.truth = [tuple(t) for t in truth]
        n = len(self.truth)
        self.state = np.full(n, OPEN, dtype=np.int8)
        self.correct = np.zeros(n, dtype=np.float64)
        self.result = EffortResult(strategy, n, float(target))
        self._sum = 0.0
        self._note()

    @property
    def n(self) -> int:
        return len(self.truth)

    def accuracy(self) -> float:
        return self._sum / self.n if self.n else 1.0

    def reached(self) -> bool:
        # a small tolerance: the running sum of 0/1 scores must not miss the target by rounding
        return self.accuracy() >= self.result.target - 1e-12

    def open_indices(self) -> np.ndarray:
        return np.flatnonzero(self.state == OPEN)

    def _set(self, i: int, score: float) -> None:
        self._sum += score - self.correct[i]
        self.correct[i] = score

    def _note(self) -> None:
        r = self.result
        r.accuracy = self.accuracy()
        r.reached = self.reached()
        r.curve.append((r.actions, r.accuracy))

    def propose(self, indices: Sequence[int], answers: Sequence[str | None]) -> None:
        """The current model's proposals for open questions (others are left as they are)."""
        for i, a in zip(indices, answers):
            i = int(i)
            if self.state[i] == OPEN:
                self._set(i, vqa_accuracy(a, self.truth[i]) if a is not None else 0.0)
        self._note()

    def review(self, i: int) -> bool:
        """A person reviews question ``i`` (open, or auto-accepted: it stays in the queue); -> True if
        its answer was right (an accept)."""
        i = int(i)
        if self.state[i] not in (OPEN, AUTO):
            raise ValueError(f"question {i} was already reviewed (state {int(self.state[i])})")
        r = self.result
        right = self.correct[i] >= 1.0
        r.actions += 1
        if right:
            r.accepts += 1
        else:
            r.corrections += 1
        self.state[i] = REVIEWED
        self._set(i, 1.0)
        self._note()
        return bool(right)

    def auto_accept(self, indices: Sequence[int]) -> None:
        """Freeze the current proposals of these open questions (no action)."""
        idx = [int(i) for i in indices if self.state[int(i)] == OPEN]
        self.state[idx] = AUTO
        self.result.auto_accepted += len(idx)

    def audit(self, i: int) -> bool:
        """A person audits auto-accepted question ``i``; -> True if it was a mistake (corrected)."""
        i = int(i)
        if self.state[i] != AUTO:
            raise ValueError(f"question {i} was not auto-accepted")
        r = self.result
        wrong = self.correct[i] < 1.0
        r.actions += 1
        r.audits += 1
        r.audit_mistakes += int(wrong)
        self.state[i] = AUDITED
        self._set(i, 1.0)
        self._note()
        return bool(wrong)

    def answered_by_people(self) -> np.ndarray:
        """Indices whose answer a person gave (reviewed or audited): the training labels."""
        return np.flatnonzero((self.state == REVIEWED) | (self.state == AUDITED))
