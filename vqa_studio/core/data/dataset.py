"""Project questions as tensors, for training and scoring.

* ``Snapshot``: the project's questions and what counts as their label, read once.
* ``MediaTensors``: every item decoded once into one tensor per modality (images [N, 3, S, S] uint8,
  clouds [N, P, 6] float16), optionally cached on disk, so epochs never decode again.
* ``VQADataset`` + ``collate``: a torch Dataset of *items* (one medium and its questions), so a
  batch holds each medium once: ``batch = {media [U, ...], media_index [B], tokens [B, L],
  lengths [B], labels [B], soft_labels [B, C], tag_mask [B], question_ids [B]}``; questions about the same image
  share one pass of the image encoder.
* ``batches``: shuffled (or ordered) batches of about ``batch_size`` questions, grouped by item.
"""
from __future__ import annotations

import copy
import hashlib
import os
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np
import torch

from ..errors import BadInputError
from ..types import LABEL_STATUSES, ItemKind, Status
from .vocab import NUMBER, OTHER, AnswerVocab, Vocab, normalize_answer

MAX_QUESTION_LEN = 24


@dataclass(frozen=True)
class QA:
    """One question as training and scoring see it."""

    question_id: int
    item_id: int
    kind: ItemKind
    split: str
    text: str
    question_type: str
    answer_type: str
    status: Status
    answer: str | None  # current answer
    imported: tuple[str, ...] = ()  # the imported answers (VQA v2: ten)

    @property
    def human_labelled(self) -> bool:
        return self.status in (Status.ACCEPTED, Status.CORRECTED)

    def label_answers(self) -> tuple[str, ...]:
        """The answers the question is trained on and scored against.

        A person's answer (accepted or corrected) is the one answer; an imported label keeps all its
        answers (VQA soft scores and the official accuracy use them).
        """
        if self.answer is None:
            return ()
        if self.status is Status.LABELLED and self.imported:
            return self.imported
        return (self.answer,)


@dataclass
class Snapshot:
    """The project's questions, items and labels at one moment (a training run's data)."""

    folder: Path
    questions: list[QA]
    uris: dict[int, str]  # item id -> uri
    kinds: dict[int, ItemKind]
    shas: dict[int, str | None]
    max_correction_id: int = 0
    label_statuses: tuple[Status, ...] = LABEL_STATUSES

    @classmethod
    def load(cls, project, include_auto_accepted: bool = False) -> "Snapshot":
        from ..store import training_rows

        with project.engine.connect() as conn:
            rows, imported, max_cid = training_rows.snapshot_rows(conn)
        questions, uris, kinds, shas = [], {}, {}, {}
        kind_of = {k.value: k for k in ItemKind}  # enum lookups by value cost ~5 us each, 2 per question
        status_of = {st.value: st for st in Status}
        no_answers: tuple[str, ...] = ()
        for qid, item_id, kind_v, split, text, qtype, atype, status_v, answer, uri, sha in rows:
            kind = kind_of.get(kind_v) or ItemKind(kind_v)  # an unknown value still raises ValueError
            uris[item_id], kinds[item_id], shas[item_id] = uri, kind, sha
            status = status_of.get(status_v) or Status(status_v)
            questions.append(QA(qid, item_id, kind, split, text, qtype, atype, status, answer,
                                imported.get(qid, no_answers)))
        statuses = LABEL_STATUSES + ((Status.AUTO_ACCEPTED,) if include_auto_accepted else ())
        return cls(project.folder, questions, uris, kinds, shas, int(max_cid), statuses)

    def media_path(self, item_id: int) -> Path:
        p = Path(self.uris[item_id])
        return p if p.is_absolute() else self.folder / p

    def is_labelled(self, qa: QA) -> bool:
        return qa.status in self.label_statuses and qa.answer is not None

    def labelled(self, splits: Iterable[str] | None = None, kind: ItemKind | None = None) -> list[QA]:
        want = set(splits) if splits is not None else None
        return [qa for qa in self.questions if self.is_labelled(qa) and (want is None or qa.split in want)
                and (kind is None or qa.kind is kind)]

    def select(self, splits: Iterable[str] | None = None, kind: ItemKind | None = None) -> list[QA]:
        want = set(splits) if splits is not None else None
        return [qa for qa in self.questions if (want is None or qa.split in want) and (kind is None or qa.kind is kind)]

    def kinds_present(self) -> list[ItemKind]:
        return sorted({qa.kind for qa in self.questions}, key=lambda k: k.value)

    def label_digest(self, qas: Sequence[QA]) -> str:
        h = hashlib.sha256()
        for qa in sorted(qas, key=lambda x: x.question_id):
            h.update(f"{qa.question_id}:{normalize_answer(qa.answer or '')}\n".encode())
        return h.hexdigest()[:16]


def hold_out_validation(questions: Sequence[QA], fraction: float = 0.1, seed: int = 0) -> tuple[list[QA], list[QA]]:
    """Split training questions into train / validation, by item (no image in both), stratified by
    answer as far as items allow: each answer's items are shuffled and every ~1/fraction-th one is held
    out. Seeded, so the same data gives the same split."""
    by_item: dict[int, list[QA]] = defaultdict(list)
    for qa in questions:
        by_item[qa.item_id].append(qa)
    # stratify items by the answer of their first question (the usual case: one family per item)
    strata: dict[str, list[int]] = defaultdict(list)
    for item_id, qas in sorted(by_item.items()):
        strata[normalize_answer(qas[0].answer or "")].append(item_id)
    rng = np.random.default_rng(seed)
    held: set[int] = set()
    carry = 0.0
    for key in sorted(strata):
        items = strata[key]
        rng.shuffle(items)
        want = len(items) * fraction + carry
        k = int(want)
        carry = want - k
        held.update(items[:k])
    if not held and len(by_item) > 1:
        held.add(sorted(by_item)[int(rng.integers(len(by_item)))])
    train = [qa for qa in questions if qa.item_id not in held]
    val = [qa for qa in questions if qa.item_id in held]
    return train, val


def build_vocabs(snapshot: Snapshot, train: Sequence[QA], max_answers: int = 3000) -> tuple[Vocab, AnswerVocab]:
    """Question words from every question of the project (no labels involved), answers from the
    training labels (most frequent first)."""
    vocab = Vocab.build(qa.text for qa in snapshot.questions)
    answers = AnswerVocab.build((a for qa in train for a in qa.label_answers()), max_size=max_answers)
    return vocab, answers


def soft_scores(answers: Sequence[str], answer_vocab: AnswerVocab) -> dict[int, float]:
    """VQA soft scores: min(1, count / 3) per answer class (a single answer scores 1)."""
    if len(answers) == 1:
        idx = answer_vocab.index(answers[0])
        return {idx: 1.0} if idx >= 0 else {}
    counts = Counter(answer_vocab.index(a) for a in answers)
    return {i: min(1.0, c / 3.0) for i, c in counts.items() if i >= 0}


# --- media as tensors -----------------------------------------------------------------------------------

def _image_array(path: Path, size: int) -> np.ndarray:
    from .media import load_image

    return np.ascontiguousarray(load_image(path, size=size).transpose(2, 0, 1))  # [3, S, S] uint8


def cloud_frame(xyz: np.ndarray) -> np.ndarray:
    """The model's frame of a cloud, from all its points: [cx, cy, cz, scale] float64, the centre of
    its bounding box and the largest distance of a point from it. ``(xyz - c) / scale`` is what the
    model sees; ``p * scale + c`` takes the model's region centres back to the file's coordinates."""
    xyz = np.asarray(xyz, dtype=np.float64).reshape(-1, 3)
    if not len(xyz):
        return np.array([0.0, 0.0, 0.0, 1.0])
    centre = (xyz.max(0) + xyz.min(0)) / 2
    scale = float(np.sqrt(((xyz - centre) ** 2).sum(1).max())) or 1.0
    return np.array([*centre, scale])


def cloud_array(path: Path, n_points: int, seed: int = 0, with_frame: bool = False):
    """[P, 6] float32: xyz centred and scaled into the unit sphere (:func:`cloud_frame`), rgb in 0..1
    (grey when absent); with ``with_frame`` also the frame (to map region centres back)."""
    from .clouds import load_cloud

    cloud = load_cloud(path)
    frame = cloud_frame(cloud.xyz)
    rng = np.random.default_rng(seed)
    n = len(cloud.xyz)
    idx = rng.choice(n, n_points, replace=n < n_points) if n != n_points else np.arange(n)
    pts = ((cloud.xyz[idx].astype(np.float64) - frame[:3]) / frame[3]).astype(np.float32)
    rgb = cloud.rgb[idx].astype(np.float32) if cloud.rgb is not None else np.full((n_points, 3), 0.5, np.float32)
    arr = np.concatenate([pts, rgb], axis=1)
    return (arr, frame) if with_frame else arr


def _save_atomic(path: Path, arr: np.ndarray, tag: int) -> None:
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{tag}.part")
    with open(tmp, "wb") as fh:
        np.save(fh, arr)
    os.replace(tmp, path)


class MediaTensors:
    """Every item's medium decoded once: images [3, S, S] uint8, clouds [P, 6] float16.

    With ``cache_dir`` the decoded arrays are saved as ``.npy`` files keyed by content (sha256) and
    size, so the next training run or scoring pass starts without decoding anything.
    """

    def __init__(self, snapshot: Snapshot, image_size: int = 64, cloud_points: int = 1024,
                 cache_dir: Path | None = None):
        self.snapshot = snapshot
        self.image_size = image_size
        self.cloud_points = cloud_points
        self.cache_dir = cache_dir
        self._rows: dict[int, int] = {}
        self._data: dict[ItemKind, list[np.ndarray]] = {ItemKind.IMAGE: [], ItemKind.CLOUD: []}
        self._stacked: dict[ItemKind, torch.Tensor] = {}
        self.errors: dict[int, BadInputError] = {}
        #: clouds: item id -> :func:`cloud_frame` (to take the model's region centres back to the file)
        self.frames: dict[int, np.ndarray] = {}

    def _key(self, item_id: int) -> str:
        kind = self.snapshot.kinds[item_id]
        sha = self.snapshot.shas.get(item_id) or hashlib.sha256(self.snapshot.uris[item_id].encode()).hexdigest()
        size = self.image_size if kind is ItemKind.IMAGE else self.cloud_points
        return f"{kind.value}{size}{'f' if kind is ItemKind.CLOUD else ''}-{sha[:32]}"

    def _decode(self, item_id: int) -> np.ndarray:
        kind = self.snapshot.kinds[item_id]
        cached = self.cache_dir / (self._key(item_id) + ".npy") if self.cache_dir else None
        frame_file = cached.with_name(cached.stem + ".frame.npy") if cached is not None else None
        if cached is not None and cached.exists():
            try:
                if kind is ItemKind.CLOUD:
                    self.frames[item_id] = np.load(frame_file)
                return np.load(cached)
            except (OSError, ValueError):
                pass  # a damaged cache file is decoded again
        path = self.snapshot.media_path(item_id)
        if kind is ItemKind.IMAGE:
            arr = _image_array(path, self.image_size)
        else:
            arr, frame = cloud_array(path, self.cloud_points, seed=item_id, with_frame=True)
            arr = arr.astype(np.float16)
            self.frames[item_id] = frame
            if frame_file is not None:
                _save_atomic(frame_file, frame, item_id)
        if cached is not None:
            _save_atomic(cached, arr, item_id)  # last: its presence means both files are there
        return arr

    def to_file_coordinates(self, item_ids: Sequence[int], centres: np.ndarray) -> np.ndarray:
        """Region centres [N, K, 3] in the model's frame of the clouds ``item_ids`` [N] -> float32 in the
        files' coordinates (what the 3D view draws on)."""
        frames = np.stack([self.frames.get(i, np.array([0.0, 0.0, 0.0, 1.0])) for i in item_ids]) \
            if len(item_ids) else np.zeros((0, 4))
        out = np.asarray(centres, dtype=np.float64) * frames[:, None, 3:4] + frames[:, None, :3]
        return out.astype(np.float32)

    def load(self, item_ids: Iterable[int], workers: int = 4) -> Iterator[tuple[int, int]]:
        """Decode the items not loaded yet (threads; decoding releases the GIL). Yields (done, total).

        An item whose file cannot be read is recorded in ``errors`` (its questions are left out), so
        one bad file never stops a training run.
        """
        todo = [i for i in dict.fromkeys(item_ids) if i not in self._rows and i not in self.errors]
        if self.cache_dir:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
        total = len(todo)

        def one(item_id):
            try:
                return item_id, self._decode(item_id)
            except BadInputError as exc:
                return item_id, exc

        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="vqa-media") as pool:
            for n, (item_id, arr) in enumerate(pool.map(one, todo, chunksize=16), 1):
                if isinstance(arr, BadInputError):
                    self.errors[item_id] = arr
                else:
                    kind = self.snapshot.kinds[item_id]
                    self._rows[item_id] = len(self._data[kind])
                    self._data[kind].append(arr)
                    self._stacked.pop(kind, None)
                if n % 256 == 0 or n == total:
                    yield n, total

    def ensure(self, item_ids: Iterable[int]) -> None:
        for _ in self.load(item_ids):
            pass

    def has(self, item_id: int) -> bool:
        return item_id in self._rows

    def tensor(self, kind: ItemKind) -> torch.Tensor:
        if kind not in self._stacked:
            data = self._data[kind]
            if not data:
                raise ValueError(f"no {kind.value} media loaded")
            self._stacked[kind] = torch.from_numpy(np.stack(data))
        return self._stacked[kind]

    def batch(self, item_ids: Sequence[int]) -> torch.Tensor:
        """Float media for these items (one modality): images [U, 3, S, S] in 0..1, clouds [U, P, 6]."""
        kind = self.snapshot.kinds[item_ids[0]]
        rows = torch.as_tensor([self._rows[i] for i in item_ids], dtype=torch.long)
        data = self.tensor(kind).index_select(0, rows)
        if kind is ItemKind.IMAGE:
            return data.float().div_(255.0)
        return data.float()


# --- Dataset, collate, batches ------------------------------------------------------------------------------

@dataclass
class Encoders:
    """What turns text into ids: kept with every checkpoint."""

    vocab: Vocab
    answers: AnswerVocab
    max_len: int = MAX_QUESTION_LEN
    _cache: dict[str, list[int]] = field(default_factory=dict, repr=False)

    def tokens(self, text: str) -> list[int]:
        ids = self._cache.get(text)
        if ids is None:
            ids = self.vocab.encode(text, self.max_len) or [1]
            self._cache[text] = ids
        return ids


class VQADataset(torch.utils.data.Dataset):
    """One entry per item: its medium and its questions (those given).

    Everything a batch needs per question (token ids, label, soft scores) is worked out once, here,
    into flat arrays in entry order, so :meth:`collate` is a few vectorised gathers (no per-question
    Python work, no answer normalisation per epoch).
    """

    def __init__(self, questions: Sequence[QA], media: MediaTensors, encoders: Encoders, with_labels: bool = True):
        self.media = media
        self.encoders = encoders
        self.with_labels = with_labels
        self._weights: torch.Tensor | None = None  # per-question loss weights (see :meth:`select`)
        groups: dict[int, list[QA]] = defaultdict(list)
        for qa in questions:
            if qa.item_id not in media.errors:
                groups[qa.item_id].append(qa)
        self.item_ids = list(groups)
        self.groups = [groups[i] for i in self.item_ids]
        self._prepare()

    def _prepare(self) -> None:
        qas = [qa for group in self.groups for qa in group]
        sizes = np.fromiter((len(g) for g in self.groups), dtype=np.int64, count=len(self.groups))
        self._start = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64) if len(sizes) else sizes
        self._size = sizes
        self._entry = {item_id: k for k, item_id in enumerate(self.item_ids)}
        toks = [self.encoders.tokens(qa.text) for qa in qas]
        width = max((len(t) for t in toks), default=1)
        tokens = np.zeros((len(qas), width), dtype=np.int64)
        for r, t in enumerate(toks):
            tokens[r, : len(t)] = t
        self._tokens = torch.from_numpy(tokens)
        self._lengths = torch.as_tensor([len(t) for t in toks], dtype=torch.long)
        self._qids = torch.as_tensor([qa.question_id for qa in qas], dtype=torch.long)
        if self.with_labels:
            answers = self.encoders.answers
            labels = np.full(len(qas), -1, dtype=np.int64)
            soft = [soft_scores(qa.label_answers(), answers) for qa in qas]
            k = max((len(x) for x in soft), default=0) or 1
            soft_idx = np.zeros((len(qas), k), dtype=np.int64)
            soft_val = np.zeros((len(qas), k), dtype=np.float32)
            for r, (qa, scores) in enumerate(zip(qas, soft)):
                if qa.answer is not None:
                    labels[r] = answers.index(qa.answer)
                for j, (c, v) in enumerate(scores.items()):
                    soft_idx[r, j], soft_val[r, j] = c, v
            self._labels = torch.from_numpy(labels)
            self._tag = torch.as_tensor([qa.answer_type == OTHER for qa in qas], dtype=torch.bool)
            self._count = torch.as_tensor([count_target(qa) for qa in qas], dtype=torch.float32)
            self._soft_idx, self._soft_val = torch.from_numpy(soft_idx), torch.from_numpy(soft_val)

    def select(self, keep: np.ndarray, weights: np.ndarray | None = None) -> "VQADataset":
        """A view of this dataset with only the questions where ``keep`` (bool, one per question in
        row order: :attr:`question_ids`) is true, items left without questions dropped; ``weights``
        (one per question) come with each kept question into its batches as ``loss_weights``.
        Nothing is re-tokenised: the per-question arrays are sliced."""
        keep = np.asarray(keep, dtype=bool)
        if keep.shape != (self.n_questions,):
            raise ValueError(f"keep has {keep.shape} entries, the dataset {self.n_questions} questions")
        view = copy.copy(self)
        rows = torch.from_numpy(np.flatnonzero(keep))
        groups, item_ids = [], []
        for item_id, group, start, size in zip(self.item_ids, self.groups, self._start, self._size):
            kept = [qa for qa, k in zip(group, keep[start: start + size]) if k]
            if kept:
                groups.append(kept)
                item_ids.append(item_id)
        view.groups, view.item_ids = groups, item_ids
        sizes = np.fromiter((len(g) for g in groups), dtype=np.int64, count=len(groups))
        view._size = sizes
        view._start = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64) if len(sizes) else sizes
        view._entry = {item_id: k for k, item_id in enumerate(item_ids)}
        for name in ("_tokens", "_lengths", "_qids", "_labels", "_tag", "_count", "_soft_idx", "_soft_val", "_weights"):
            if getattr(self, name, None) is not None:
                setattr(view, name, getattr(self, name).index_select(0, rows))
        if weights is not None:
            view._weights = torch.as_tensor(np.asarray(weights, dtype=np.float32)[keep])
        return view

    @property
    def question_ids(self) -> torch.Tensor:
        """Question ids [n_questions], in row order (items in order, their questions in order)."""
        return self._qids

    def __len__(self) -> int:
        return len(self.item_ids)

    def __getitem__(self, index: int) -> tuple[int, list[QA]]:
        return self.item_ids[index], self.groups[index]

    @property
    def n_questions(self) -> int:
        return int(self._size.sum())

    def collate(self, entries: Sequence[tuple[int, list[QA]]]) -> dict[str, torch.Tensor]:
        item_ids = [e[0] for e in entries]
        pos = np.fromiter((self._entry[i] for i in item_ids), dtype=np.int64, count=len(item_ids))
        sizes = self._size[pos]
        # question rows of these entries, in entry order: start of each entry + 0..size-1
        rows = np.repeat(self._start[pos] - np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes) + np.arange(sizes.sum())
        rows_t = torch.from_numpy(rows)
        lengths = self._lengths.index_select(0, rows_t)
        batch = {
            "media": self.media.batch(item_ids),
            "media_index": torch.from_numpy(np.repeat(np.arange(len(item_ids)), sizes)),
            "tokens": self._tokens.index_select(0, rows_t)[:, : int(lengths.max()) if len(rows) else 1],
            "lengths": lengths,
            "question_ids": self._qids.index_select(0, rows_t),
            "media_ids": torch.as_tensor(item_ids, dtype=torch.long),  # the item of each medium
        }
        if self.with_labels:
            n_cls = len(self.encoders.answers)
            soft = torch.zeros(len(rows), n_cls)
            if n_cls:
                soft.scatter_add_(1, self._soft_idx.index_select(0, rows_t), self._soft_val.index_select(0, rows_t))
            batch["soft_labels"] = soft
            batch["labels"] = self._labels.index_select(0, rows_t)
            batch["tag_mask"] = self._tag.index_select(0, rows_t)  # answer type "other": a visual tag
            batch["count_targets"] = self._count.index_select(0, rows_t)  # "how many": the number, else -1
            if self._weights is not None:
                batch["loss_weights"] = self._weights.index_select(0, rows_t)
        return batch


#: count questions whose answer is above this are not count targets (a "how many" over 20 is rarely
#: a count of visible objects: years, ages, prices...)
MAX_COUNT_TARGET = 20


def count_target(qa: QA) -> float:
    """The number a count question's answer gives (the most common of its label answers, "3" or
    "three"), for :func:`~vqa_studio.core.model.net.count_loss`; -1 when it is not a count question or
    its answer is not a small whole number."""
    if qa.answer_type != NUMBER:
        return -1.0
    answers = [normalize_answer(a) for a in qa.label_answers()]
    if not answers:
        return -1.0
    best = Counter(answers).most_common(1)[0][0]
    return float(best) if best.isdigit() and int(best) <= MAX_COUNT_TARGET else -1.0


def batch_plan(dataset: VQADataset, batch_size: int, shuffle: bool, seed: int = 0) -> list[np.ndarray]:
    """The entries of each batch :func:`batches` makes with these arguments (how many there will be)."""
    order = np.arange(len(dataset))
    if shuffle:
        np.random.default_rng(seed).shuffle(order)
    plan: list[np.ndarray] = []
    start = count = 0
    for i, size in enumerate(dataset._size[order].tolist()):
        count += size
        if count >= batch_size:
            plan.append(order[start: i + 1])
            start, count = i + 1, 0
    if start < len(order):
        plan.append(order[start:])
    return plan


def batches(dataset: VQADataset, batch_size: int, shuffle: bool, seed: int = 0,
            plan: list[np.ndarray] | None = None) -> Iterator[dict[str, torch.Tensor]]:
    """Batches of at least ``batch_size`` questions (the last may have fewer) made of whole items
    (each medium once per batch); ``plan``: :func:`batch_plan` of the same arguments, when the
    caller has it already."""
    for entries in plan if plan is not None else batch_plan(dataset, batch_size, shuffle, seed):
        yield dataset.collate([dataset[int(i)] for i in entries])
