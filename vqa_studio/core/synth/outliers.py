"""Outliers injected into generated question sets: questions no model can learn to answer.

Real VQA data holds questions that are unanswerable, ambiguous or mislabelled (Karamcheti et al.,
ACL 2021, "Mind Your Outliers!"); the generated demo has none, so the active-learning and effort
benchmarks would flatter uncertainty sampling. :func:`inject_outliers` turns a seeded share of a
scene's questions into one of two kinds, half each:

* ``unanswerable``: the question is replaced by one about something that is not in any image (an
  animal, a vehicle, a piece of furniture: :data:`ABSENT_THINGS`) in one of the answer types'
  templates (:data:`UNANSWERABLE_TEMPLATES`), with an arbitrary answer drawn uniformly from the
  answers of that type the generator's style can give (so the answer carries no signal);
* ``mislabelled``: the question is kept and its answer replaced by another answer of the same answer
  type, drawn uniformly (yes <-> no, another count, another colour, shape or size word).

Which question is an outlier, its kind and, for a mislabelled one, its original answer are kept in
the record's question metadata (``outlier``, ``outlier_true_answer``): the benchmarks' ground truth.
The stored answer of an outlier is the injected one (what the annotator of the replay gives: the
dataset's label); the model cannot learn it from the image.

The choice is seeded by ``(seed, scene index, question index)`` alone, so the same question of the
same scene is an outlier in every run, whatever else was generated.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from .shapes2d_style import DEMO, Style, style_named
from .shapes2d_vocab import MAX_OBJECTS, QA

__all__ = ["ABSENT_THINGS", "OUTLIER_KINDS", "UNANSWERABLE_TEMPLATES", "inject_outliers", "outlier_answers"]

OUTLIER_KINDS = ("unanswerable", "mislabelled")
#: things no generated image shows
ABSENT_THINGS = ("elephant", "bicycle", "sofa", "giraffe", "umbrella", "kettle", "rocket", "violin",
                 "pumpkin", "lighthouse", "penguin", "tractor")
#: question templates of the unanswerable kind, by answer type (``{x}``: an absent thing)
UNANSWERABLE_TEMPLATES = {
    "yes/no": ("Is the {x} happy?", "Is the {x} asleep?", "Was the {x} here yesterday?"),
    "number": ("How many legs does the {x} have?", "How old is the {x}?"),
    "other": ("What is the {x} thinking about?", "Who owns the {x}?", "What does the {x} smell like?"),
}
_TAG = 0x0071E5


def outlier_answers(style: Style) -> dict[str, tuple[str, ...]]:
    """The answers an outlier of each answer type may get in ``style``."""
    sizes, colors, shapes = style.values
    return {"yes/no": ("yes", "no"), "number": tuple(str(n) for n in range(MAX_OBJECTS + 1)),
            "other": (*sizes, *colors, *shapes)}


def _mislabel(qa: QA, style: Style, choices: dict[str, tuple[str, ...]], rng: np.random.Generator) -> QA:
    pool = choices.get(qa.answer_type, ())
    if qa.answer_type == "other":  # a colour question gets another colour, a size question the other size
        pool = next((vals for vals in style.values if qa.answer in vals), pool)
    others = [a for a in pool if a != qa.answer]
    if not others:
        return qa
    return replace(qa, answer=others[int(rng.integers(len(others)))])


def _unanswerable(qa: QA, choices: dict[str, tuple[str, ...]], rng: np.random.Generator) -> QA:
    atype = ("yes/no", "number", "other")[int(rng.integers(3))]
    templates = UNANSWERABLE_TEMPLATES[atype]
    text = templates[int(rng.integers(len(templates)))].format(x=ABSENT_THINGS[int(rng.integers(len(ABSENT_THINGS)))])
    pool = choices[atype]
    return QA(text, pool[int(rng.integers(len(pool)))], atype, "unanswerable")


def inject_outliers(questions: Sequence[QA], fraction: float, seed: int, scene_index: int,
                    style: Style | str = DEMO) -> list[tuple[QA, dict]]:
    """Each question with, for an outlier, its metadata ``{"outlier": kind, ...}`` (else ``{}``).

    A question becomes an outlier with probability ``fraction`` (half of them of each kind); an
    unanswerable question whose text repeats one already in the scene keeps its original question.
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"the outlier fraction must be between 0 and 1, not {fraction!r}")
    style = style_named(style)
    choices = outlier_answers(style)
    texts = {qa.question for qa in questions}
    out: list[tuple[QA, dict]] = []
    for k, qa in enumerate(questions):
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([_TAG, int(seed), int(scene_index), k])))
        if fraction <= 0 or rng.random() >= fraction:
            out.append((qa, {}))
            continue
        kind = OUTLIER_KINDS[int(rng.integers(2))]
        new = _unanswerable(qa, choices, rng) if kind == "unanswerable" else _mislabel(qa, style, choices, rng)
        if new is qa or (kind == "unanswerable" and new.question in texts):
            out.append((qa, {}))
            continue
        texts.add(new.question)
        meta = {"outlier": kind}
        if kind == "mislabelled":
            meta["outlier_true_answer"] = qa.answer
        out.append((new, meta))
    return out
