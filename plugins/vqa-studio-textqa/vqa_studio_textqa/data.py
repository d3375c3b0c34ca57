"""Stories and questions as tensors: word ids of every sentence ``[N, S, W]`` and of the question."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
import torch

from vqa_studio.core.errors import BadInputError

from .story import read_story, tokens

MAX_QUESTION_WORDS = 16


def read_stories(snapshot, qas: Iterable) -> tuple[dict[int, list[str]], list[str]]:
    """item id -> the story's sentences, for the items of ``qas``; and what could not be read (the
    file and the problem: those questions are left out, named)."""
    stories: dict[int, list[str]] = {}
    bad: list[str] = []
    for qa in qas:
        if qa.item_id in stories or any(b.startswith(f"#{qa.item_id} ") for b in bad):
            continue
        try:
            stories[qa.item_id] = list(read_story(snapshot.media_path(qa.item_id))["sentences"])
        except BadInputError as exc:
            bad.append(f"#{qa.item_id} {exc}")
    return stories, [b.split(" ", 1)[1] for b in bad]


def build_words(stories: dict[int, list[str]], questions: Iterable[str]) -> list[str]:
    """The word list: padding, unknown, then every word of the stories and questions (sorted)."""
    seen = {w for sents in stories.values() for s in sents for w in tokens(s)}
    seen |= {w for q in questions for w in tokens(q)}
    return ["<pad>", "<unk>"] + sorted(seen)


def max_sentence_words(stories: dict[int, list[str]]) -> int:
    return max((len(tokens(s)) for sents in stories.values() for s in sents), default=1)


@dataclass
class Encoded:
    question_ids: np.ndarray  # [N] int64
    facts: torch.Tensor  # [N, S, W] word ids
    n_facts: torch.Tensor  # [N]
    question: torch.Tensor  # [N, L]
    n_words: torch.Tensor  # [N]
    labels: torch.Tensor  # [N] answer index, -1 when unknown / outside the answer list

    def __len__(self) -> int:
        return len(self.question_ids)

    def take(self, idx) -> "Encoded":
        idx_t = torch.as_tensor(idx, dtype=torch.long)
        n = int(self.n_facts[idx_t].max()) if len(idx_t) else 1
        return Encoded(self.question_ids[np.asarray(idx)], self.facts[idx_t, :n], self.n_facts[idx_t],
                       self.question[idx_t], self.n_words[idx_t], self.labels[idx_t])

    def inputs(self, device="cpu") -> tuple[torch.Tensor, ...]:
        return (self.facts.to(device), self.n_facts.to(device), self.question.to(device), self.n_words.to(device))


def encode(qas: Sequence, stories: dict[int, list[str]], word_id: Callable[[str], int], max_words: int,
           answer_index: Callable[[str | None], int] | None = None) -> Encoded:
    """The questions of ``qas`` whose story is in ``stories`` as tensors (sentences cut at
    ``max_words`` words, questions at ``MAX_QUESTION_WORDS``)."""
    qas = [qa for qa in qas if qa.item_id in stories]
    s = max((len(stories[qa.item_id]) for qa in qas), default=1)
    facts = torch.zeros(len(qas), s, max_words, dtype=torch.long)
    question = torch.zeros(len(qas), MAX_QUESTION_WORDS, dtype=torch.long)
    n_facts = torch.zeros(len(qas), dtype=torch.long)
    n_words = torch.zeros(len(qas), dtype=torch.long)
    labels = torch.full((len(qas),), -1, dtype=torch.long)
    for r, qa in enumerate(qas):
        sents = stories[qa.item_id]
        n_facts[r] = len(sents)
        for k, sent in enumerate(sents):
            ids = [word_id(w) for w in tokens(sent)[:max_words]]
            facts[r, k, :len(ids)] = torch.tensor(ids, dtype=torch.long)
        q = [word_id(w) for w in tokens(qa.text)[:MAX_QUESTION_WORDS]]
        question[r, :len(q)] = torch.tensor(q or [1], dtype=torch.long)
        n_words[r] = max(1, len(q))
        if answer_index is not None:
            labels[r] = answer_index(qa.answer)
    return Encoded(np.asarray([qa.question_id for qa in qas], np.int64), facts, n_facts, question, n_words, labels)


def batches(n: int, batch_size: int, rng: np.random.Generator | None = None) -> Iterator[np.ndarray]:
    order = rng.permutation(n) if rng is not None else np.arange(n)
    for k in range(0, n, batch_size):
        yield order[k:k + batch_size]
