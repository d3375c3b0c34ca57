"""The product's own metric: human actions until the whole pool is right (``vqa-studio simulate --effort``).

A labelled project is replayed with the answers of its training pool hidden. The annotator of the
replay answers as the dataset does (the stored label). Each round:

1. people review the next ``retrain_every`` open questions in the queue order (one action each: an
   accept if the proposal was right, else a correction). The replay's annotator gives the stored
   label, except for a question the data marks as mislabelled (``demo --outliers``): a careful
   annotator gives its right answer, and the pool is judged by that;
2. the model is retrained (warm-started) on every answer people gave so far; with outlier handling
   (``full``) the reviewed questions that dataset cartography calls hard to learn over the rounds
   (:mod:`.active.cartography`: low mean probability of their answer, little variability) are kept out
   of the retraining -- their answers stay in the pool, they just do not teach the model noise;
3. the model proposes an answer for every open question (MC-dropout of the head: mean probabilities,
   the top answer and its probability as confidence, BALD);
4. auto-accept: the threshold whose precision on held-out labelled questions (the project's ``val``
   and ``test`` questions: the model never trains on them) is at least ``precision`` by a one-sided
   Clopper-Pearson bound (:mod:`.active.guarantee`); open questions at or above it are accepted as
   proposed (no action), a random ``audit_share`` of them is audited (one action each; the audited
   answers join the held-out set for the next threshold: audit mistakes recalibrate it, and the
   training labels);
5. the queue is ordered for the next round. Auto-accepted questions stay in the queue (as in the
   app): once no open question is left, people review them, the least confident first (file and
   random order: in their order).

In the full loop, auto-accept leaves out the open questions that look like outliers: the outlier
scores of people's answers (cartography over the rounds) carried to each open question from its
nearest neighbours in the model's embedding space and its question type
(:func:`.active.cartography.transfer_outlier_scores`), at least ``outlier_threshold``; until it can
score them (two retrainings) it auto-accepts nothing. A guarantee measured on clean held-out
questions says nothing about outliers in the pool: accepted unscreened, they stay wrong until
someone finds them.

The model sees no pool answer before a person gives it; its answer vocabulary is built from the
pool's and val's answers, as ``core.simulate`` does (the set of answers, not who has which).

The replay stops as soon as the pool's accuracy (:mod:`.effort_ledger`: people's answers,
auto-accepted proposals, the current proposals for the rest) reaches ``target``, checked after every
action and every new set of proposals; or when no open question is left.

Queue orders (``strategy``): ``full`` -- the product's loop: the chance that the proposal is wrong
(1 - confidence) as the score, a diverse batch drawn from it (:func:`.active.diverse.select_batch`,
power sampling), outliers kept out of retraining; a likely outlier is *not* pushed back in this
queue, because its proposal is likely wrong and only a person can answer it; ``bald`` -- plain BALD,
the top scores, no outlier handling; ``random``; ``file`` -- the order of the file. Before the first
model, ``file`` reviews in file order and the others at random. All four share everything else.

This module sits above ``core.train`` and ``core.active`` (pyproject.toml's layers contract).
"""
from __future__ import annotations

import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from .active import cartography as carto
from .active import diverse, guarantee
from .active.args import ScoringArgs
from .active.scoring import sample_probs
from .data.dataset import QA, Encoders, MediaTensors, Snapshot, VQADataset, build_vocabs
from .data.vocab import vqa_accuracy
from .effort_ledger import AUTO, OPEN, EffortResult, PoolLedger
from .errors import VQAStudioError
from .model.net import VQANet
from .model.registry import ModelBundle, NetSet
from .simulate import SimConfig, _first_items, _train, start_net
from .train.config import TrainingArgs
from .train.pipeline import model_config
from .types import ItemKind, Progress
from .uncertainty import acquisition

STRATEGIES = ("full", "bald", "random", "file")
LABELS = {"full": "full loop", "bald": "plain BALD", "random": "random order", "file": "file order"}


@dataclass
class EffortConfig:
    strategy: str = "full"
    target: float = 0.98  # the pool's accuracy to reach
    retrain_every: int = 200  # reviews between retrainings
    precision: float = guarantee.DEFAULT_TARGET  # auto-accept: precision to guarantee on held-out data
    delta: float = guarantee.DEFAULT_DELTA
    audit_share: float = guarantee.DEFAULT_AUDIT_SHARE
    auto_accept: bool = True
    seed: int = 0
    epochs: int = 6
    min_steps: int = 150
    mc_samples: int = 10
    selection: str = "power"  # the full loop's batch (diverse.select_batch method)
    outlier_share: float = 0.15  # at most this share of the reviewed questions is kept out of retraining
    outlier_threshold: float = 0.25  # full loop: open questions scoring this as outliers are not auto-accepted
    val_questions: int = 600  # rounds pick their best epoch on this many validation questions
    init_from: str | None = None  # a model file the first model starts from (e.g. the demo's checkpoint)
    kind: ItemKind = ItemKind.IMAGE
    train: TrainingArgs = field(default_factory=lambda: TrainingArgs(epochs=6, patience=100, batch_size=64))

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"effort strategy must be one of {', '.join(STRATEGIES)}, not {self.strategy!r}")
        if not 0.0 < self.target <= 1.0:
            raise ValueError(f"the target accuracy must be in (0, 1], not {self.target!r}")
        if int(self.retrain_every) < 1:
            raise ValueError(f"retrain_every must be at least 1, not {self.retrain_every!r}")
        if self.selection not in diverse.METHODS:
            raise ValueError(f"selection must be one of {', '.join(diverse.METHODS)}, not {self.selection!r}")

    def sim_config(self) -> SimConfig:
        return SimConfig(strategy="random", seed=self.seed, epochs=self.epochs, min_steps=self.min_steps,
                         mc_samples=self.mc_samples, warm_start=True, kind=self.kind, train=self.train,
                         init_from=self.init_from)


@dataclass
class Proposals:
    """What one model says about the pool and the held-out questions."""

    answers: list[str | None]  # [P] top answer of every pool question
    confidence: np.ndarray  # [P] its mean probability
    bald: np.ndarray  # [P]
    p_label: np.ndarray  # [P] mean probability of the stored answer (the training dynamics)
    embeddings: np.ndarray | None  # [P, D]
    held_confidence: np.ndarray  # [H]
    held_correct: np.ndarray  # [H] bool


class Proposer(Protocol):
    """The model side of a replay: learn from the answers people gave, then propose."""

    def fit(self, indices: Sequence[int], round_: int) -> Generator[Progress, None, None]: ...

    def propose(self, round_: int) -> Generator[Progress, None, Proposals]: ...


class NetProposer:
    """The app's network (:class:`VQANet`), warm-started round after round, scored by MC-dropout."""

    def __init__(self, project, cfg: EffortConfig, snapshot: Snapshot, media: MediaTensors | None,
                 pool: list[QA], held: list[QA], val: list[QA]) -> None:
        self.cfg, self.sim = cfg, cfg.sim_config()
        self.pool, self.held = pool, held
        self.encoders = Encoders(*build_vocabs(snapshot, pool + val, cfg.train.max_answers))
        self.media = media or MediaTensors(snapshot, cfg.train.image_size, cfg.train.cloud_points,
                                           project.folder / "cache" / "media")
        self.config = model_config(cfg.train, cfg.kind, self.encoders)
        self.val = val
        self.nets: list[VQANet] | None = None
        self._val_ds: VQADataset | None = None

    def load(self) -> Generator[Progress, None, None]:
        for done, total in self.media.load({qa.item_id for qa in self.pool + self.held}):
            yield Progress("loading media", done, total, "decoding media")
        self._val_ds = VQADataset(_first_items(self.val, self.cfg.val_questions), self.media, self.encoders)
        if self.cfg.init_from:
            self.nets = [start_net(self.config, self.sim, self.encoders, self.cfg.seed)]

    def fit(self, indices: Sequence[int], round_: int) -> Generator[Progress, None, None]:
        train_q = [self.pool[int(i)] for i in indices]
        if train_q:
            self.nets = yield from _train(self.nets, self.config, self.sim, train_q, self._val_ds, self.media,
                                          self.encoders, 1, round_)

    def propose(self, round_: int) -> Generator[Progress, None, Proposals]:
        if self.nets is None:
            raise RuntimeError("propose before the first training")
        qas = self.pool + self.held
        ds = VQADataset(qas, self.media, self.encoders, with_labels=False)
        bundle = ModelBundle("effort", self.encoders, {self.cfg.kind: NetSet(self.cfg.kind, self.config.to_dict(), self.nets)})
        args = ScoringArgs(mc_samples=self.cfg.mc_samples, seed=self.cfg.seed * 1000 + round_)
        sampled = yield from sample_probs(bundle, self.cfg.kind, ds, args)
        row = {int(q): k for k, q in enumerate(sampled.question_ids.tolist())}
        order = np.asarray([row[qa.question_id] for qa in qas])
        probs = sampled.probs[order]
        mean = probs.mean(-1)
        top = mean.argmax(-1)
        answers = [self.encoders.answers.answers[int(i)] for i in top]
        conf = mean.max(-1)
        bald = acquisition.get_acquisition("bald")(probs)
        cls = [self.encoders.answers.index(qa.answer) if qa.answer is not None else -1 for qa in qas]
        p_label = np.asarray([mean[k, c] if c >= 0 else 0.0 for k, c in enumerate(cls)])
        n = len(self.pool)
        emb = sampled.fused[order[:n]].astype(np.float32) if sampled.fused is not None else None
        held_ok = np.asarray([vqa_accuracy(a, qa.label_answers()) >= 1.0 for a, qa in zip(answers[n:], self.held)])
        return Proposals(answers[:n], conf[:n], bald[:n], p_label[:n], emb, conf[n:], held_ok)

    @property
    def has_model(self) -> bool:
        return self.nets is not None


class _Replay:
    """What a replay carries from round to round."""

    def __init__(self, ledger: PoolLedger, proposer: Proposer, cfg: EffortConfig,
                 question_types: Sequence[str] | None, outliers: Sequence[bool] | None) -> None:
        self.ledger, self.proposer, self.cfg = ledger, proposer, cfg
        self.types, self.outliers = question_types, outliers
        self.rng = np.random.default_rng(cfg.seed)
        n = ledger.n
        self.order = np.arange(n) if cfg.strategy == "file" else self.rng.permutation(n)
        self.queue = self.order
        self.history = np.full((n, 0), np.nan)
        self.auto_conf = np.zeros(n)  # the confidence of each auto-accepted answer when it was accepted
        self.held_extra: list[tuple[float, bool]] = []  # audited answers: more held-out evidence

    def review_batch(self) -> None:
        """People review the next ``retrain_every`` questions: open ones in the queue order, then, once
        none is open, auto-accepted ones (least confident first; file and random orders keep theirs)."""
        ledger, k = self.ledger, self.cfg.retrain_every
        batch = [int(i) for i in self.queue if ledger.state[i] == OPEN][:k]
        if len(batch) < k:
            auto = np.flatnonzero(ledger.state == AUTO)
            if self.cfg.strategy in ("file", "random"):
                auto = self.order[np.isin(self.order, auto)]
            else:
                auto = auto[np.argsort(self.auto_conf[auto], kind="stable")]
            batch += [int(i) for i in auto[: k - len(batch)]]
        for i in batch:
            ledger.review(i)
            if ledger.reached():
                return

    def retrain(self, round_: int) -> Generator[Progress, None, None]:
        train_idx = self.ledger.answered_by_people()
        if self.cfg.strategy == "full" and self.history.shape[1] >= 2:
            train_idx = _without_outliers(train_idx, self.history, self.cfg.outlier_share, self.ledger.result,
                                          self.outliers)
        yield from self.proposer.fit(train_idx, round_)
        self.ledger.result.retrainings += 1

    def refresh(self, round_: int) -> Generator[Progress, None, None]:
        """New proposals, auto-accept (with audits) and the next queue order."""
        props = yield from self.proposer.propose(round_)
        self.history = _propose(self.ledger, props, self.history)
        if self.ledger.reached():
            return
        if self.cfg.auto_accept:
            _auto_accept(self, props)
            if self.ledger.reached():
                return
        self.queue = _queue(self.cfg, self.ledger, props, self.order, self.rng, self.types)


def replay(ledger: PoolLedger, proposer: Proposer, cfg: EffortConfig, *, question_types: Sequence[str] | None = None,
           outliers: Sequence[bool] | None = None) -> Generator[Progress, None, EffortResult]:
    """Replay annotation over ``ledger``'s pool with ``proposer`` (see the module doc); ``outliers``
    (the data's own marks, when it has them) only count how many flagged questions really are."""
    t0 = time.perf_counter()
    st = _Replay(ledger, proposer, cfg, question_types, outliers)
    if getattr(proposer, "has_model", False):  # a first model (init_from): its proposals before any review
        yield from st.refresh(0)
    round_ = 0
    while not ledger.reached():
        st.review_batch()
        yield Progress("effort", ledger.result.actions, ledger.n, _status(cfg, ledger))
        if ledger.reached() or not np.any((ledger.state == OPEN) | (ledger.state == AUTO)):
            break
        round_ += 1
        yield from st.retrain(round_)
        yield from st.refresh(round_)
    ledger.result.seconds = time.perf_counter() - t0
    yield Progress("effort", ledger.result.actions, ledger.n, _status(cfg, ledger))
    return ledger.result


def _propose(ledger: PoolLedger, props: Proposals, history: np.ndarray) -> np.ndarray:
    """New proposals for the open questions; -> the training history with this round's column (the
    probability of each answer people gave; NaN for the rest)."""
    col = np.full((ledger.n, 1), np.nan)
    people = ledger.answered_by_people()
    col[people, 0] = props.p_label[people]
    open_idx = ledger.open_indices()
    ledger.propose(open_idx, [props.answers[i] for i in open_idx])
    return np.hstack([history, col])


def _status(cfg: EffortConfig, ledger: PoolLedger) -> str:
    r = ledger.result
    return f"{LABELS[cfg.strategy]}: {r.actions:,} actions, pool {ledger.accuracy() * 100:.1f}%"


def _without_outliers(train_idx: np.ndarray, history: np.ndarray, share: float, result: EffortResult,
                      outliers: Sequence[bool] | None) -> np.ndarray:
    """The training labels less the likely outliers: hard to learn over the rounds seen (at least 2),
    at most ``share`` of them (the highest outlier scores)."""
    h = history[train_idx]
    cart = carto.cartography(h)
    seen = cart.epochs >= 2
    hard = (cart.category == "hard") & seen
    cap = int(share * len(train_idx))
    if hard.sum() > cap:
        keep_top = np.argsort(-np.where(hard, cart.outlier_score, -1.0), kind="stable")[:cap]
        hard = np.zeros_like(hard)
        hard[keep_top] = True
    result.flagged_outliers = int(hard.sum())
    if outliers is not None:
        marks = np.asarray(outliers, dtype=bool)
        result.flagged_true = int(marks[train_idx[hard]].sum())
    return train_idx[~hard]


def _auto_accept(st: _Replay, props: Proposals) -> None:
    """Accept the open questions at or above the guaranteed threshold, audit a share of them. The full
    loop leaves out likely outliers (:func:`_likely_outliers`) and, until it can score them (two
    retrainings on people's answers, with embeddings), auto-accepts nothing."""
    ledger, cfg = st.ledger, st.cfg
    conf = np.concatenate([props.held_confidence, [c for c, _ in st.held_extra]])
    ok = np.concatenate([props.held_correct, [k for _, k in st.held_extra]]).astype(bool)
    th = guarantee.precision_threshold(conf, ok, cfg.precision, cfg.delta)
    if not np.isfinite(th.threshold):
        return
    open_idx = ledger.open_indices()
    take = open_idx[props.confidence[open_idx] >= th.threshold]
    if cfg.strategy == "full" and props.embeddings is not None:
        if ledger.result.retrainings < 2:
            return
        take = take[~_likely_outliers(st, props, take)]
    if not take.size:
        return
    ledger.auto_accept(take)
    st.auto_conf[take] = props.confidence[take]
    for pos in guarantee.audit_sample(len(take), cfg.audit_share, st.rng):
        i = int(take[pos])
        wrong = ledger.audit(i)
        st.held_extra.append((float(props.confidence[i]), not wrong))
        if ledger.reached():
            return


def _likely_outliers(st: _Replay, props: Proposals, idx: np.ndarray) -> np.ndarray:
    """Bool [len(idx)]: open questions whose outlier score, carried over from the cartography of people's
    answers to their nearest neighbours in the model's embedding space and their question type
    (:func:`.active.cartography.transfer_outlier_scores`), is at least ``cfg.outlier_threshold``."""
    people = st.ledger.answered_by_people()
    if not idx.size or not people.size:
        return np.zeros(idx.size, bool)
    cart = carto.cartography(st.history[people])
    types = st.types
    scores = carto.transfer_outlier_scores(
        props.embeddings[people], cart.outlier_score, props.embeddings[idx],
        labelled_types=[types[i] for i in people] if types is not None else None,
        pool_types=[types[i] for i in idx] if types is not None else None)
    return scores >= st.cfg.outlier_threshold


def _queue(cfg: EffortConfig, ledger: PoolLedger, props: Proposals, order: np.ndarray, rng: np.random.Generator,
           question_types: Sequence[str] | None) -> np.ndarray:
    """Pool indices in the order the next round reviews them (only the open ones are taken)."""
    if cfg.strategy in ("file", "random"):
        return order
    open_idx = ledger.open_indices()
    k = min(cfg.retrain_every, open_idx.size)
    if cfg.strategy == "bald":
        picked = diverse.select_batch(props.bald[open_idx], None, k, method="top", rng=rng)
    else:
        emb = props.embeddings[open_idx] if props.embeddings is not None and cfg.selection == "cluster" else None
        types = [question_types[i] for i in open_idx] if question_types is not None else None
        picked = diverse.select_batch(1.0 - props.confidence[open_idx], emb, k, method=cfg.selection, rng=rng,
                                      question_types=types, balance=False)
    return open_idx[np.asarray(picked, dtype=np.int64)]


def pool_of(snapshot: Snapshot, kind: ItemKind, seed: int) -> tuple[list[QA], list[QA], list[QA]]:
    """(pool, held-out, validation): the labelled training questions (their answers hidden from the
    model until reviewed), the labelled val and test questions (auto-accept's evidence) and the val
    ones (each retraining's best epoch)."""
    pool = snapshot.labelled(["train"], kind)
    val = snapshot.labelled(["val"], kind)
    held = val + snapshot.labelled(["test"], kind)
    if not pool or not val:
        raise VQAStudioError(f"simulate --effort needs labelled train and val questions ({kind.value}); "
                             f"the project has {len(pool)} and {len(val)}")
    return pool, held, val


def simulate_effort(project, cfg: EffortConfig, *, snapshot: Snapshot | None = None, media: MediaTensors | None = None,
                    outliers: dict[int, bool] | None = None, truths: dict[int, str] | None = None
                    ) -> Generator[Progress, None, EffortResult]:
    """Replay ``cfg.strategy`` on ``project`` (see the module doc). ``outliers``: question id -> marked
    as an outlier by the data (reporting only); ``truths``: question id -> the answer the replay's
    annotator gives instead of the stored label (a mislabelled question: a careful annotator gives
    the right answer, and the pool is judged by it)."""
    snapshot = snapshot or Snapshot.load(project)
    pool, held, val = pool_of(snapshot, cfg.kind, cfg.seed)
    truths = truths or {}
    pool = [replace(qa, answer=truths[qa.question_id], imported=(truths[qa.question_id],))
            if qa.question_id in truths else qa for qa in pool]
    ledger = PoolLedger([qa.label_answers() for qa in pool], cfg.target, LABELS[cfg.strategy])
    marks = [bool(outliers.get(qa.question_id)) for qa in pool] if outliers else None
    proposer = NetProposer(project, cfg, snapshot, media, pool, held, val)
    yield from proposer.load()
    return (yield from replay(ledger, proposer, cfg, question_types=[qa.question_type for qa in pool],
                              outliers=marks))
