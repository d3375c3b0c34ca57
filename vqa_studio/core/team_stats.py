"""Per-annotator statistics, and agreement where several annotators answered the same question.

Each annotator's answer to a question is the last of their answers still in effect (undone answers do
not count, see ``core.review.effective_answers``), normalised as VQA answers are
(``vocab.normalize_answer``). Agreement is measured on the questions that at least two annotators
answered:

* Krippendorff's alpha (nominal), computed by the ``krippendorff`` package: 1 is perfect agreement,
  0 what chance gives, below 0 systematic disagreement;
* the VQA soft score between annotators: each annotator's answer scores min(1, #other annotators who
  gave it / 3), as the VQA accuracy scores a model against the human answers; the mean over answers;
* plain pairwise agreement: the share of annotator pairs on a question who gave the same answer.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Sequence

from .data.vocab import normalize_answer
from .review import effective_answers
from .store import history as history_rows
from .types import Correction

if TYPE_CHECKING:  # pragma: no cover
    from .project import Project


@dataclass
class AnnotatorStats:
    annotator: str
    corrections: int = 0  # history rows written (undo and redo included)
    by_action: dict[str, int] = field(default_factory=dict)
    questions: int = 0  # questions with an answer of theirs in effect
    shared: int = 0  # of those, questions another annotator answered too
    soft_score: float | None = None  # mean VQA soft score of their answers against the others'
    agreement: float | None = None  # share of their pairings (shared questions) with the same answer
    first: datetime | None = None
    last: datetime | None = None

    @property
    def per_hour(self) -> float | None:
        """History rows per hour between their first and last one (None under a minute)."""
        if self.first is None or self.last is None:
            return None
        hours = (self.last - self.first).total_seconds() / 3600.0
        return self.corrections / hours if hours >= 1 / 60 else None


@dataclass
class TeamStats:
    annotators: list[AnnotatorStats]
    questions_answered: int  # by at least one annotator
    multi_answered: int  # by at least two
    alpha: float | None  # Krippendorff's alpha (nominal) over the multi-answered questions
    soft_score: float | None  # mean VQA soft score between annotators
    pairwise: float | None  # share of agreeing annotator pairs

    def lines(self) -> list[str]:
        """The statistics as the CLI prints them."""
        out = [f"annotators: {len(self.annotators)}",
               f"questions answered: {self.questions_answered} (by two or more annotators: {self.multi_answered})",
               f"krippendorff alpha (nominal): {_fmt(self.alpha)}",
               f"vqa soft score between annotators: {_fmt(self.soft_score)}",
               f"pairwise agreement: {_fmt(self.pairwise)}"]
        for a in self.annotators:
            acts = ", ".join(f"{k} {v}" for k, v in sorted(a.by_action.items()))
            rate = f", {a.per_hour:.0f}/h" if a.per_hour is not None else ""
            out.append(f"  {a.annotator}: {a.corrections} corrections ({acts}){rate}; {a.questions} questions answered, "
                       f"{a.shared} shared; soft score {_fmt(a.soft_score)}, agreement {_fmt(a.agreement)}")
        return out


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.4f}"


def answers_by_question(histories: dict[int, list[Correction]]) -> dict[int, dict[str, str]]:
    """question id -> {annotator: their last answer in effect, normalised}."""
    out: dict[int, dict[str, str]] = {}
    for qid, hist in histories.items():
        per: dict[str, str] = {}
        for annotator, answer in effective_answers(hist):
            if annotator != "auto":  # the auto-accept threshold is not an annotator
                per[annotator] = normalize_answer(answer)
        if per:
            out[qid] = per
    return out


def krippendorff_alpha(units: Sequence[dict[str, str]]) -> float | None:
    """Nominal alpha over units (one {annotator: answer} per question), by the ``krippendorff``
    package; None when there is nothing to compare (fewer than two values in any unit, or one value
    overall, where alpha is undefined)."""
    import numpy as np

    units = [u for u in units if len(u) >= 2]
    if not units:
        return None
    coders = sorted({a for u in units for a in u})
    codes = {v: k for k, v in enumerate(sorted({v for u in units for v in u.values()}))}
    if len(codes) < 2:
        return None
    data = np.full((len(coders), len(units)), np.nan)
    row = {a: k for k, a in enumerate(coders)}
    for j, u in enumerate(units):
        for a, v in u.items():
            data[row[a], j] = codes[v]
    import krippendorff

    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))


def soft_scores(unit: dict[str, str]) -> dict[str, float]:
    """Each annotator's VQA soft score on one question: min(1, #others with the same answer / 3)."""
    counts = Counter(unit.values())
    return {a: min(1.0, (counts[v] - 1) / 3.0) for a, v in unit.items()}


def team_stats(project: "Project") -> TeamStats:
    with project.engine.connect() as conn:
        histories = history_rows.all_histories(conn)
    return stats_from_histories(histories)


def stats_from_histories(histories: dict[int, list[Correction]]) -> TeamStats:
    per: dict[str, AnnotatorStats] = {}
    for hist in histories.values():
        for c in hist:
            a = per.setdefault(c.annotator, AnnotatorStats(c.annotator))
            a.corrections += 1
            a.by_action[c.action.value] = a.by_action.get(c.action.value, 0) + 1
            a.first = c.created_at if a.first is None or c.created_at < a.first else a.first
            a.last = c.created_at if a.last is None or c.created_at > a.last else a.last
    answers = answers_by_question(histories)
    soft: dict[str, list[float]] = defaultdict(list)
    agree: dict[str, list[float]] = defaultdict(list)
    pairs_same = pairs = 0
    for unit in answers.values():
        for a in unit:
            per.setdefault(a, AnnotatorStats(a)).questions += 1
        if len(unit) < 2:
            continue
        for a, score in soft_scores(unit).items():
            per[a].shared += 1
            soft[a].append(score)
            same = sum(1 for b, v in unit.items() if b != a and v == unit[a])
            agree[a].append(same / (len(unit) - 1))
        vals = list(unit.values())
        for i in range(len(vals)):
            for j in range(i + 1, len(vals)):
                pairs += 1
                pairs_same += vals[i] == vals[j]
    for a, st in per.items():
        st.soft_score = sum(soft[a]) / len(soft[a]) if soft[a] else None
        st.agreement = sum(agree[a]) / len(agree[a]) if agree[a] else None
    multi = [u for u in answers.values() if len(u) >= 2]
    all_soft = [x for xs in soft.values() for x in xs]
    people = sorted((a for a in per.values() if a.annotator != "auto" or a.corrections), key=lambda a: a.annotator)
    return TeamStats(
        annotators=people, questions_answered=len(answers), multi_answered=len(multi),
        alpha=krippendorff_alpha(multi), soft_score=sum(all_soft) / len(all_soft) if all_soft else None,
        pairwise=pairs_same / pairs if pairs else None)


__all__ = ["AnnotatorStats", "TeamStats", "team_stats", "stats_from_histories", "krippendorff_alpha", "soft_scores",
           "answers_by_question"]
