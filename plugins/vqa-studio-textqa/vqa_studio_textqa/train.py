"""Training the story medium's model: the run ``Model > Train`` and ``vqa-studio train`` start when the
project's labelled training questions are stories (``core.media_kinds.training_medium``).

Same ``TrainingArgs`` as the core's models: ``epochs`` (or ``kind_epochs["story"]``), ``ensemble``
members from different seeds, ``lr``, ``seed``, ``mode`` (``finetune``: the active text-QA model's
networks and word list go on learning), ``mc_samples`` for the re-scoring. Every batch is a cancel
point; the run record, cancel and failure handling are the core's (``train.pipeline.run_training``).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Generator

import numpy as np
import torch

from vqa_studio.core.data.dataset import Snapshot, hold_out_validation
from vqa_studio.core.errors import VQAStudioError
from vqa_studio.core.types import ItemKind, Progress

from .data import build_words, encode, max_sentence_words, read_stories
from .infer import encode_all, fit_temperature, mean_probs
from .model import DMN, TextQAModel

BATCH = 32
MEDIUM = "story"


def run(project, args, run_id: int, version: str, path: Path, curves: list, t0: float
        ) -> Generator[Progress, None, Any]:
    from vqa_studio.core.store.db import utcnow
    from vqa_studio.core.train.pipeline import TrainOutcome
    from vqa_studio.core.train.publish import publish

    yield Progress("preparing", 0, None, "reading the stories")
    snapshot = Snapshot.load(project, include_auto_accepted=args.include_auto_accepted)
    messages: list[str] = []
    parent = _parent(project, args, messages)
    train, val, test = _splits(snapshot, args, messages)
    stories, bad = read_stories(snapshot, snapshot.select(None, ItemKind(MEDIUM)))
    if bad:
        messages.append(f"{len(bad)} stories could not be read and were left out, e.g. {bad[0]}")
    words, answers, max_words = _vocab(parent, stories, snapshot, train, args)
    model = TextQAModel(version, words, answers, [], parent=parent.version if parent else project.active_model)
    enc = {name: encode(qs, stories, model.word_id, max_words, model.answer_index)
           for name, qs in (("train", train), ("val", val), ("test", test))}
    if not (enc["train"].labels >= 0).any():
        raise VQAStudioError("no story question of the train split has a learnable answer: label some first")
    epochs = int(args.kind_epochs.get(MEDIUM, args.epochs))
    swaps = AnswerSwaps.of(model, stories)
    for m in range(max(1, args.ensemble)):
        net = _new_net(parent, m, len(words), len(answers), max_words, args.seed + m)
        yield from _train_member(net, enc["train"], enc["val"], epochs, args, m, curves, t0, swaps)
        model.members.append(net.eval())
    yield Progress("evaluating", 0, 1, "accuracy on the validation and test splits")
    model.temperature = _calibrate(model, enc["val"])
    model.metrics = metrics_of(model, {"val": (val, enc["val"]), "test": (test, enc["test"])})
    model.training = {**args.to_dict(), "medium": MEDIUM}
    model.snapshot = {"max_correction_id": snapshot.max_correction_id, "n_labels": len(train)}
    model.created_at = utcnow().isoformat()
    yield from publish(project, model, path, run_id, version, args.scoring_args(version), snapshot=snapshot)
    return TrainOutcome(version, path, model.metrics, curves, messages, time.perf_counter() - t0)


def _parent(project, args, messages: list[str]) -> TextQAModel | None:
    if args.mode != "finetune":
        return None
    from vqa_studio.core.model.registry import load_version

    parent = load_version(project) if project.active_model else None
    if not isinstance(parent, TextQAModel):
        raise VQAStudioError("fine-tuning needs an active text-QA model: train a full model first")
    messages.append(f"fine-tuned {parent.version} further (its words and answers kept)")
    return parent


def _splits(snapshot: Snapshot, args, messages: list[str]):
    kind = ItemKind(MEDIUM)
    train = snapshot.labelled(["train"], kind)
    if not train:
        raise VQAStudioError("no labelled story questions in the train split: answer some first")
    others = [qa for qa in snapshot.labelled(["train"]) if qa.kind is not kind]
    if others:
        messages.append(f"{len(others)} labelled {others[0].kind.value} questions are not trained by the text-QA "
                        "model (a project trains one medium's model)")
    val = snapshot.labelled(["val"], kind)
    if not val:
        train, val = hold_out_validation(train, args.val_fraction, args.seed)
        messages.append(f"no validation split: held out {len(val)} training questions (seeded, by story)")
    return train, val, snapshot.labelled(["test"], kind)


def _vocab(parent, stories, snapshot, train, args):
    if parent is not None:
        return parent.words, parent.answers, parent.max_words
    words = build_words(stories, [qa.text for qa in snapshot.select(None, ItemKind(MEDIUM))])
    counts: dict[str, int] = {}
    for qa in train:
        counts[qa.answer] = counts.get(qa.answer, 0) + 1
    answers = sorted(counts, key=lambda a: (-counts[a], a))[:max(1, args.max_answers)]
    return words, sorted(answers), max(1, min(24, max_sentence_words(stories)))


def _new_net(parent, m: int, n_words: int, n_answers: int, max_words: int, seed: int) -> DMN:
    torch.manual_seed(seed)
    net = DMN(n_words, n_answers, max_words=max_words)
    if parent is not None:
        net.load_state_dict(parent.members[m % len(parent.members)].state_dict())
    return net


def _train_member(net: DMN, train, val, epochs: int, args, m: int, curves: list, t0: float, swaps: "AnswerSwaps"
                  ) -> Generator[Progress, None, None]:
    """Adam on cross-entropy, each batch's answer words shuffled (``AnswerSwaps``); the weights of
    the epoch with the best validation accuracy are kept."""
    from .data import batches

    opt = torch.optim.Adam(net.parameters(), lr=min(float(args.lr), 1e-2))
    rng = np.random.default_rng(args.seed + m)
    keep = np.flatnonzero(train.labels.numpy() >= 0)
    best, best_state = -1.0, None
    for epoch in range(1, epochs + 1):
        net.train()
        losses = []
        for k, idx in enumerate(batches(len(keep), BATCH, rng)):
            b = swaps.apply(train.take(keep[idx]), rng)
            loss = torch.nn.functional.cross_entropy(net(*b.inputs())[0], b.labels)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            opt.step()
            losses.append(float(loss.detach()))
            if k % 10 == 0:
                yield Progress("training", epoch - 1, epochs, f"story member {m + 1}: epoch {epoch}, batch {k + 1}")
        acc = _accuracy([net], val)
        if acc >= best:
            best, best_state = acc, {k: v.detach().clone() for k, v in net.state_dict().items()}
        curves.append({"epoch": epoch, "loss": float(np.mean(losses)) if losses else 0.0, "val_accuracy": acc,
                       "seconds": time.perf_counter() - t0, "questions": len(keep), "kind": MEDIUM,
                       "member_index": m})
        yield Progress("training", epoch, epochs, f"story member {m + 1}: epoch {epoch}/{epochs}, "
                       f"loss {curves[-1]['loss']:.3f}, val accuracy {acc * 100:.1f}%",
                       {"loss": curves[-1]["loss"], "val_accuracy": acc})
    if best_state is not None:
        net.load_state_dict(best_state)


class AnswerSwaps:
    """Data augmentation: the answers that are words of the stories (places, objects) are swapped
    among themselves at random in each batch, consistently in the sentences, the question and the
    label ("Mary went to the garden. Where is Mary? garden" may become "... kitchen ... kitchen").
    The network cannot memorise which place goes with which story and has to learn where to look
    (see the README for what it changed on the generated tasks)."""

    def __init__(self, n_words: int, word_ids: list[int], answer_ids: list[int]):
        self.n_words, self.word_ids, self.answer_ids = n_words, np.asarray(word_ids), np.asarray(answer_ids)

    @classmethod
    def of(cls, model: TextQAModel, stories: dict[int, list[str]]) -> "AnswerSwaps":
        from .story import tokens

        in_stories = {w for sents in stories.values() for s in sents for w in tokens(s)}
        pairs = [(model.word_id(a), i) for i, a in enumerate(model.answers) if a in in_stories and " " not in a]
        return cls(len(model.words), [w for w, _ in pairs], [i for _, i in pairs])

    def apply(self, b, rng: np.random.Generator):
        if len(self.word_ids) < 2:
            return b
        perm = rng.permutation(len(self.word_ids))
        words = torch.arange(self.n_words)
        words[torch.as_tensor(self.word_ids)] = torch.as_tensor(self.word_ids[perm])
        answer_map = {int(a): int(self.answer_ids[p]) for a, p in zip(self.answer_ids, perm)}
        new_labels = torch.tensor([answer_map.get(int(y), int(y)) for y in b.labels.tolist()], dtype=torch.long)
        return type(b)(b.question_ids, words[b.facts], b.n_facts, words[b.question], b.n_words, new_labels)


def _accuracy(members, enc) -> float:
    if not len(enc):
        return float("nan")
    feats = encode_all(members, enc).features
    pred = mean_probs(members, feats).argmax(-1)
    return float((pred == enc.labels.numpy()).mean())


def _calibrate(model: TextQAModel, val) -> float:
    if not len(val):
        return 1.0
    p = mean_probs(model.members, encode_all(model.members, val).features)
    return fit_temperature(np.log(np.clip(p, 1e-12, 1.0)), val.labels.numpy())


def predict(model: TextQAModel, enc) -> dict[int, tuple[str, float]]:
    """question id -> (the calibrated top answer, its probability)."""
    if not len(enc):
        return {}
    p = mean_probs(model.members, encode_all(model.members, enc).features, model.temperature)
    top = p.argmax(-1)
    return {int(q): (model.answers[i], float(p[r, i])) for r, (q, i) in enumerate(zip(enc.question_ids, top))}


def metrics_of(model: TextQAModel, splits: dict[str, tuple[list, Any]]) -> dict[str, Any]:
    """Accuracy per split, answer type and task (question type), as the core's models report it."""
    from vqa_studio.core.train.pipeline import accuracy_report

    out: dict[str, Any] = {"by_kind": {MEDIUM: {}}}
    for split, (qs, enc) in splits.items():
        if not qs:
            continue
        report = accuracy_report(predict(model, enc), qs)
        out[f"{split}_accuracy"] = report["overall"]
        out[f"{split}_by_answer_type"] = report["by_answer_type"]
        out["by_kind"][MEDIUM][split] = report
    return out
