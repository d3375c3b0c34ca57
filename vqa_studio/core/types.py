"""Plain dataclasses passed between the layers (store -> project -> CLI / GUI).

Nothing here knows about SQLAlchemy or Qt: the repository converts rows into these, and the GUI
only ever sees these.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Sequence


class ItemKind(str, enum.Enum):
    """The medium of an item. ``image`` and ``cloud`` are built in; a plugin adds another with
    ``registry.add_medium(name, ...)``, which calls :meth:`add`: ``ItemKind(name)`` then gives one
    member per name (so ``kind is ItemKind("story")`` holds) while ``list(ItemKind)`` stays the
    built-ins. An unregistered value still raises ``ValueError``."""

    IMAGE = "image"
    CLOUD = "cloud"

    @classmethod
    def add(cls, name: str) -> "ItemKind":
        """The member for a registered medium ``name`` (made once, then the same object)."""
        found = cls._value2member_map_.get(name)
        if found is not None:
            return found
        if not name.isidentifier() or name != name.lower():
            raise ValueError(f"a medium's name must be a lower-case identifier, not {name!r}")
        member = str.__new__(cls, name)
        member._name_, member._value_ = name.upper(), name
        member.__objclass__ = cls
        cls._value2member_map_[name] = member
        return member

    @property
    def builtin(self) -> bool:
        """``image`` or ``cloud`` (the core's own networks); False for a plugin's medium."""
        return self.value in ("image", "cloud")


class Status(str, enum.Enum):
    """Review status of a question, derived from its correction history."""

    NEW = "new"  # no answer, no proposal
    LABELLED = "labelled"  # an answer came with the import (ground truth)
    PROPOSED = "proposed"  # the model proposed an answer, nobody has looked yet
    ACCEPTED = "accepted"  # a person accepted (or picked) a model proposal
    CORRECTED = "corrected"  # a person typed a different answer
    AUTO_ACCEPTED = "auto_accepted"  # accepted by the confidence threshold, still reviewable
    FLAGGED = "flagged"  # bad question / outlier, with a note
    SKIPPED = "skipped"  # looked at, deferred


#: statuses whose current answer counts as a human-confirmed label for training
LABEL_STATUSES = (Status.LABELLED, Status.ACCEPTED, Status.CORRECTED)


class Action(str, enum.Enum):
    """What a review step did. Every action is one row of the corrections history."""

    ACCEPT = "accept"  # take the model's top proposal
    PICK = "pick"  # take proposal k (1..5)
    CORRECT = "correct"  # type an answer
    FLAG = "flag"
    SKIP = "skip"
    AUTO_ACCEPT = "auto_accept"
    UNDO = "undo"  # restores the 'before' state of the correction it undoes
    REDO = "redo"  # re-applies a correction that was undone


class Split(str, enum.Enum):
    TRAIN = "train"
    VAL = "val"
    TEST = "test"


@dataclass(frozen=True)
class Item:
    id: int
    kind: ItemKind
    uri: str
    sha256: str | None
    split: str
    width: int | None = None
    height: int | None = None
    n_points: int | None = None
    external_id: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Question:
    id: int
    item_id: int
    text: str
    question_type: str
    answer_type: str
    answer: str | None  # current answer (derived from the history)
    status: Status
    external_id: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Answer:
    """A stored answer to a question: one of the (up to 10) imported answers, or a human one."""

    question_id: int
    answer: str
    source: str  # "import" | "human"
    annotator: str | None = None
    confidence: str | None = None  # VQA v2 answer_confidence: yes | maybe | no
    created_at: datetime | None = None


@dataclass(frozen=True)
class Prediction:
    question_id: int
    model_version: str
    answers: Sequence[str]  # top-k, best first
    probs: Sequence[float]
    scores: dict[str, float]  # uncertainty score by acquisition method
    in_vocab: bool = True
    attention: Any = None  # numpy float16 [G, K] or None
    votes: Any = None  # numpy int16 [T] answer index voted by each MC sample / member, or None
    created_at: datetime | None = None
    centres: Any = None  # point clouds: numpy float16 [K, 3] region centres the attention is over

    @property
    def answer(self) -> str | None:
        return self.answers[0] if self.answers else None

    @property
    def confidence(self) -> float | None:
        return float(self.probs[0]) if len(self.probs) else None


@dataclass(frozen=True)
class Correction:
    id: int
    question_id: int
    action: Action
    before_answer: str | None
    after_answer: str | None
    before_status: Status
    after_status: Status
    annotator: str
    created_at: datetime
    model_version: str | None
    score: float | None
    acquisition: str | None
    note: str | None = None
    target_id: int | None = None  # for undo / redo: the correction it reverts / re-applies


@dataclass(frozen=True)
class QueueRow:
    """One row of the review queue (what the queue table shows)."""

    question_id: int
    item_id: int
    item_uri: str
    item_kind: ItemKind
    split: str
    text: str
    question_type: str
    answer_type: str
    status: Status
    answer: str | None
    proposed: str | None
    confidence: float | None
    score: float | None


@dataclass
class QueueFilter:
    statuses: Sequence[Status | str] | None = None
    splits: Sequence[str] | None = None
    question_types: Sequence[str] | None = None
    answer_types: Sequence[str] | None = None
    item_kinds: Sequence[ItemKind | str] | None = None
    model_version: str | None = None  # None: the active model
    search: str | None = None  # substring of the question text or the answer


@dataclass(frozen=True)
class ModelInfo:
    version: str
    parent: str | None
    path: str
    created_at: datetime
    metrics: dict[str, Any]
    config: dict[str, Any]
    snapshot: dict[str, Any]
    run_id: int | None
    active: bool = False


@dataclass(frozen=True)
class Progress:
    """A progress record yielded by long work (import, training, scoring).

    ``done`` of ``total`` units of ``stage``; ``info`` carries stage specific numbers
    (loss, accuracy, items/s ...). Each yield is a point where the consumer may cancel.
    """

    stage: str
    done: int
    total: int | None = None
    message: str = ""
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.done / self.total)


@dataclass
class Stats:
    name: str
    n_items: int
    n_items_by_kind: dict[str, int]
    n_questions: int
    by_status: dict[str, int]
    by_split: dict[str, int]
    by_answer_type: dict[str, int]
    by_question_type: dict[str, int]
    n_corrections: int
    by_action: dict[str, int]
    annotators: dict[str, int]
    active_model: str | None
    n_models: int
    n_predictions: int
    schema_version: str
