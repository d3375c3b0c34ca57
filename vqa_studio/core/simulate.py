"""Active learning simulated on labelled data: hide the labels of the training pool, reveal them
batch by batch in the order a strategy asks for, retrain, and record test accuracy against the
number of labels. Nothing is written to the project's database.

Strategies: ``random``; any acquisition function by name (``entropy``, ``bald``, ``margin``,
``variation_ratio``, ...) on MC-dropout samples of the current model (``scope`` head or full); and
``ensemble`` (vote entropy of a deep ensemble of ``ensemble`` members trained from different seeds).

This module sits above ``core.train`` (it retrains every round) and ``core.active`` (it scores the
pool as the app does); ``active`` never imports ``train`` (pyproject.toml's import-linter contract).
"""
from __future__ import annotations

import csv
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generator, Sequence

import numpy as np
import torch

from .active import diverse
from .active.args import DEFAULT_MC_SAMPLES, DEFAULT_SCOPE, ScoringArgs
from .active.scoring import sample_probs
from .data.dataset import QA, Encoders, MediaTensors, Snapshot, VQADataset, batches, build_vocabs, hold_out_validation
from .data.vocab import vqa_accuracy
from .errors import VQAStudioError
from .model.net import ModelConfig, VQANet
from .model.registry import ModelBundle, NetSet
from .train.config import FP32, TrainingArgs
from .train.loop import train_net
from .train.pipeline import model_config
from .types import ItemKind, Progress
from .uncertainty import acquisition, sampling

ENSEMBLE = "ensemble"
SELECTIONS = ("top", "power", "cluster")


@dataclass
class SimConfig:
    strategy: str = "entropy"
    initial: int = 200
    batch: int = 200
    rounds: int = 8
    seed: int = 0
    epochs: int = 6
    min_steps: int = 150  # at least this many optimizer steps per round (small label sets need them)
    mc_samples: int = DEFAULT_MC_SAMPLES
    scope: str = DEFAULT_SCOPE
    ensemble: int = 3
    warm_start: bool = True  # each round continues from the previous round's model
    kind: ItemKind = ItemKind.IMAGE
    # small label sets: small batches (min_steps of 64 questions), so a round is not hundreds of passes
    train: TrainingArgs = field(default_factory=lambda: TrainingArgs(epochs=6, patience=100, batch_size=64))
    val_questions: int = 1000  # rounds pick their best epoch on this many validation questions
    # how a batch is taken from the scores: "top" (the k highest) or "power" (k drawn without
    # replacement with probability proportional to score ** power_beta: Kirsch et al. 2023, "Stochastic
    # batch acquisition"; a top-k batch is k near-copies of one kind of question) or "cluster"
    # (score-weighted k-means++ in the model's embedding space: :func:`.active.diverse.select_batch`)
    selection: str = "top"
    power_beta: float = 1.0
    # the full-data reference (:func:`full_data_accuracy`) trains at least this many epochs from
    # scratch, and at least as many optimizer steps as a warm-started run through every round gets in
    # all (:func:`rounds_steps`), the schedule annealed over them and the best validation epoch kept;
    # ``full_seeds`` such trainings, the one with the best validation accuracy counts: the pool's
    # labels learned to convergence (a shorter reference is below what the rounds reach, and the 90%
    # line would be a low bar)
    full_epochs: int = 24
    full_seeds: int = 1
    # stop once the test accuracy reaches this (the rounds after it cannot change labels-to-target)
    stop_at: float | None = None
    # a model file every run's first model starts from (every tensor that fits; words and answers
    # matched by text: :func:`.model.transfer.init_from_file`), the full-data reference too: the
    # product's pretrained start (the demo's checkpoint on a new set); None: from scratch
    init_from: str | None = None

    def __post_init__(self) -> None:
        if self.selection not in SELECTIONS:
            raise ValueError(f"selection must be one of {', '.join(SELECTIONS)}, not {self.selection!r}")
        if not self.power_beta > 0:
            raise ValueError(f"power_beta must be > 0, not {self.power_beta!r}")
        if self.selection == "cluster" and self.strategy == ENSEMBLE:
            raise ValueError("cluster selection needs the MC-dropout scoring's embeddings; the ensemble has none")
        if self.full_seeds < 1:
            raise ValueError(f"full_seeds must be at least 1, not {self.full_seeds!r}")

    def scoring_args(self, seed: int) -> ScoringArgs:
        """How a round scores the rest of the pool: ``mc_samples`` of ``scope`` (batches of the default
        size, on the CPU)."""
        return ScoringArgs(mc_samples=self.mc_samples, scope=self.scope, seed=seed)

    def label(self) -> str:
        if self.strategy == "random":
            return self.strategy
        name = self.strategy if self.strategy == ENSEMBLE or self.scope == "head" else f"{self.strategy} ({self.scope})"
        return f"{self.selection} {name}" if self.selection != "top" else name


@dataclass
class SimResult:
    strategy: str
    points: list[tuple[int, float]]  # (labels, test accuracy)
    full_accuracy: float | None = None
    seconds: float = 0.0

    def labels_to_reach(self, target: float) -> float | None:
        """Labels needed to reach ``target`` accuracy (linear between rounds), None if never reached."""
        prev = None
        for n, acc in self.points:
            if acc >= target:
                if prev is None or prev[1] >= target:
                    return float(n)
                (n0, a0) = prev
                return n0 + (target - a0) / (acc - a0) * (n - n0)
            prev = (n, acc)
        return None


def _test_accuracy(nets: Sequence[VQANet], ds: VQADataset, encoders: Encoders, questions: dict[int, QA]) -> float:
    answers = encoders.answers.answers
    scores = []
    with torch.inference_mode():
        for batch in batches(ds, 256, shuffle=False):
            probs = torch.stack([torch.softmax(n.eval()(batch)["logits"], -1) for n in nets]).mean(0)
            for qid, idx in zip(batch["question_ids"].tolist(), probs.argmax(-1).tolist()):
                scores.append(vqa_accuracy(answers[idx], questions[qid].label_answers()))
    return float(np.mean(scores)) if scores else float("nan")


def _round_epochs(n_questions: int, cfg: SimConfig) -> tuple[int, int]:
    """(epochs, steps per epoch) of a round on ``n_questions`` labels: ``epochs``, at least ``min_steps``."""
    steps_per_epoch = max(1, math.ceil(n_questions / cfg.train.batch_size))
    return max(cfg.epochs, math.ceil(cfg.min_steps / steps_per_epoch)), steps_per_epoch


def rounds_steps(n_pool: int, cfg: SimConfig) -> int:
    """Optimizer steps a warm-started run gets in all, from ``initial`` labels through its last round
    (``rounds``, or until the pool of ``n_pool`` is used up): the floor of the full-data reference."""
    total, n = 0, cfg.initial
    for _ in range(cfg.rounds + 1):
        epochs, per_epoch = _round_epochs(n, cfg)
        total += epochs * per_epoch
        if n >= n_pool:
            break
        n = min(n_pool, n + cfg.batch)
    return total


_SOURCES: dict[tuple, dict] = {}  # model files read by start_net, by (path, mtime, size): one read per file


def start_net(config: ModelConfig, cfg: SimConfig, encoders: Encoders, seed: int) -> VQANet:
    """A new network for a run's first round (or a cold round): random from ``seed``, then, with
    ``cfg.init_from``, every tensor of that model file that fits."""
    torch.manual_seed(seed)
    net = VQANet(config)
    if cfg.init_from:
        from .model.transfer import init_from_file, load_source

        path = str(cfg.init_from)
        try:
            st = os.stat(path)
            key: tuple = (path, st.st_mtime_ns, st.st_size)
        except OSError:
            key = (path,)  # load_source says what is wrong with it
        if key not in _SOURCES:
            _SOURCES[key] = load_source(path)
        init_from_file(net, cfg.kind.value, _SOURCES[key], words=encoders.vocab.to_list(),
                       answers=encoders.answers.answers, source_name=path)
    return net


def _train(nets: list[VQANet] | None, config: ModelConfig, cfg: SimConfig, train_q: list[QA], val_ds: VQADataset | None,
           media: MediaTensors, encoders: Encoders, n_members: int, round_: int) -> Generator[Progress, None, list[VQANet]]:
    ds = VQADataset(train_q, media, encoders)
    epochs, _ = _round_epochs(ds.n_questions, cfg)
    out = []
    for m in range(n_members):
        if nets is not None and cfg.warm_start:
            net = nets[m]
        else:
            net = start_net(config, cfg, encoders, cfg.seed * 100 + m * 7919 + round_)
        res = yield from train_net(net, ds, val_ds, cfg.train, torch.device("cpu"), FP32,
                                   seed=cfg.seed * 100 + round_ * 10 + m, epochs=epochs,
                                   label=f"round {round_} member {m + 1}: " if n_members > 1 else f"round {round_}: ")
        out.append(res.net)
    return out


def simulate(project, cfg: SimConfig, *, snapshot: Snapshot | None = None, media: MediaTensors | None = None,
             full_accuracy: float | None = None) -> Generator[Progress, None, SimResult]:
    t0 = time.perf_counter()
    snapshot = snapshot or Snapshot.load(project)
    pool = snapshot.labelled(["train"], cfg.kind)
    test = snapshot.labelled(["test"], cfg.kind)
    val = snapshot.labelled(["val"], cfg.kind)
    if not val:
        pool, val = hold_out_validation(pool, 0.1, cfg.seed)
    if len(pool) < cfg.initial + cfg.batch or not test:
        raise VQAStudioError(f"simulate needs labelled train (> {cfg.initial + cfg.batch}) and test questions; "
                             f"the project has {len(pool)} and {len(test)}")
    if cfg.strategy not in ("random", ENSEMBLE):
        acquisition.get_acquisition(cfg.strategy)
    encoders = Encoders(*build_vocabs(snapshot, pool, cfg.train.max_answers))
    media = media or MediaTensors(snapshot, cfg.train.image_size, cfg.train.cloud_points, project.folder / "cache" / "media")
    for done, total in media.load({qa.item_id for qa in pool + test + val}):
        yield Progress("loading media", done, total, "decoding media")
    config = model_config(cfg.train, cfg.kind, encoders)  # the network the app's training would build
    test_ds = VQADataset(test, media, encoders)
    val_ds = VQADataset(_first_items(val, cfg.val_questions), media, encoders)
    by_id = {qa.question_id: qa for qa in pool + test}
    rng = np.random.default_rng(cfg.seed)
    order = rng.permutation(len(pool))
    labelled = set(int(i) for i in order[: cfg.initial])
    n_members = cfg.ensemble if cfg.strategy == ENSEMBLE else 1
    points: list[tuple[int, float]] = []
    nets = None
    for r in range(cfg.rounds + 1):
        train_q = [pool[i] for i in sorted(labelled)]
        nets = yield from _train(nets, config, cfg, train_q, val_ds, media, encoders, n_members, r)
        acc = _test_accuracy(nets, test_ds, encoders, by_id)
        points.append((len(labelled), acc))
        yield Progress("simulate", r + 1, cfg.rounds + 1, f"{cfg.label()}: {len(labelled)} labels -> {acc * 100:.1f}%",
                       {"labels": len(labelled), "accuracy": acc})
        if r == cfg.rounds or (cfg.stop_at is not None and acc >= cfg.stop_at):
            break
        rest = [i for i in range(len(pool)) if i not in labelled]
        if not rest:  # the pool is used up: more rounds would retrain on the same labels
            break
        k = min(cfg.batch, len(rest))
        if cfg.strategy == "random":
            pick = rng.choice(rest, k, replace=False)
        else:
            ds = VQADataset([pool[i] for i in rest], media, encoders, with_labels=False)
            if cfg.strategy == ENSEMBLE:  # disagreement of the members' hard votes
                probs = sampling.ensemble_probs(nets, _batches(ds))
                qids = np.asarray([qa.question_id for group in ds.groups for qa in group], dtype=np.int64)
                method = "vote_entropy"
            else:
                bundle = ModelBundle("sim", encoders, {cfg.kind: NetSet(cfg.kind, config.to_dict(), nets)})
                sampled = yield from sample_probs(bundle, cfg.kind, ds, cfg.scoring_args(cfg.seed + r))
                probs, qids = sampled.probs, sampled.question_ids
                method = cfg.strategy
            scores = acquisition.get_acquisition(method)(probs)
            index_of = {pool[i].question_id: i for i in rest}
            if cfg.selection == "cluster":  # k-means++ in the embedding space, weighted by the scores
                top = diverse.select_batch(scores, sampled.fused, k, method="cluster", rng=rng)
            else:
                top = select_batch(scores, k, cfg.selection, rng, cfg.power_beta)
            pick = [index_of[int(q)] for q in qids[top]]
        labelled.update(int(i) for i in pick)
    return SimResult(cfg.label(), points, full_accuracy, time.perf_counter() - t0)


def select_batch(scores: np.ndarray, k: int, selection: str, rng: np.random.Generator, beta: float = 1.0) -> np.ndarray:
    """Indices of the k questions to label next. ``top``: the k highest scores (ties broken at
    random, not by position). ``power``: k draws without replacement, P(i) proportional to
    ``scores[i] ** beta`` (the Gumbel top-k of ``beta * log score``); scores must be >= 0.
    (``cluster`` needs embeddings: :func:`.active.diverse.select_batch`.)"""
    scores = np.asarray(scores, dtype=np.float64)
    k = min(k, len(scores))
    if selection == "top":
        keys = scores + rng.random(len(scores)) * 1e-9
    elif selection == "power":
        if (scores < 0).any():
            raise ValueError("power selection needs scores >= 0")
        keys = beta * np.log(np.maximum(scores, 1e-300)) + rng.gumbel(size=len(scores))
    else:
        raise ValueError(f"selection must be top or power here (cluster needs embeddings), not {selection!r}")
    return np.argsort(-keys, kind="stable")[:k]


def _first_items(questions: Sequence[QA], n: int) -> list[QA]:
    """Whole items, in order, until at least ``n`` questions (a round with few labels runs many short
    epochs: validating each on thousands of questions would cost more than the training)."""
    out: list[QA] = []
    items: set[int] = set()
    for qa in questions:
        if len(out) >= n and qa.item_id not in items:
            break
        items.add(qa.item_id)
        out.append(qa)
    return out


def _batches(ds: VQADataset):
    return list(batches(ds, 256, shuffle=False))


def full_data_accuracy(project, cfg: SimConfig, *, snapshot: Snapshot | None = None, media: MediaTensors | None = None
                       ) -> Generator[Progress, None, float]:
    """Test accuracy of the same model trained on every label of the pool, from scratch (or from
    ``cfg.init_from``, as the runs start), for at least
    ``cfg.full_epochs`` epochs and at least :func:`rounds_steps` optimizer steps (the best validation
    epoch kept); of ``cfg.full_seeds`` seeds, the one with the best validation accuracy."""
    snapshot = snapshot or Snapshot.load(project)
    pool = snapshot.labelled(["train"], cfg.kind)
    val = snapshot.labelled(["val"], cfg.kind)
    if not val:
        pool, val = hold_out_validation(pool, 0.1, cfg.seed)
    test = snapshot.labelled(["test"], cfg.kind)
    encoders = Encoders(*build_vocabs(snapshot, pool, cfg.train.max_answers))
    media = media or MediaTensors(snapshot, cfg.train.image_size, cfg.train.cloud_points, project.folder / "cache" / "media")
    for done, total in media.load({qa.item_id for qa in pool + test + val}):
        yield Progress("loading media", done, total, "decoding media")
    config = model_config(cfg.train, cfg.kind, encoders)
    per_epoch = max(1, math.ceil(len(pool) / cfg.train.batch_size))
    epochs = max(cfg.full_epochs, math.ceil(rounds_steps(len(pool), cfg) / per_epoch))
    val_ds, by_id = VQADataset(val, media, encoders), {qa.question_id: qa for qa in pool + test + val}
    best: tuple[float, list[VQANet]] | None = None
    for s in range(cfg.full_seeds):
        full_cfg = SimConfig(**{**cfg.__dict__, "warm_start": False, "epochs": epochs, "min_steps": 0,
                                "seed": cfg.seed + 1000 * s})
        nets = yield from _train(None, config, full_cfg, pool, val_ds, media, encoders, 1, 0)
        val_acc = _test_accuracy(nets, val_ds, encoders, by_id)
        if best is None or val_acc > best[0]:
            best = (val_acc, nets)
    return _test_accuracy(best[1], VQADataset(test, media, encoders), encoders, by_id)


def write_csv(path: Path, results: Sequence[SimResult]) -> Path:
    """Rows ``strategy,labels,accuracy``; rows of other strategies already in the file are kept."""
    rows: list[tuple[str, int, float]] = []
    names = {r.strategy for r in results}
    if path.exists():
        with open(path, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                if row.get("strategy") not in names:
                    rows.append((row["strategy"], int(row["labels"]), float(row["accuracy"])))
    for r in results:
        rows += [(r.strategy, n, acc) for n, acc in r.points]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["strategy", "labels", "accuracy"])
        w.writerows(rows)
    return path


def plot_csv(csv_path: Path, png_path: Path, full_accuracy: float | None = None) -> Path:
    from .plotting import line_chart

    series: dict[str, tuple[list[float], list[float]]] = {}
    with open(csv_path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            xs, ys = series.setdefault(row["strategy"], ([], []))
            xs.append(int(row["labels"]))
            ys.append(float(row["accuracy"]) * 100)
    hline = (0.9 * full_accuracy * 100, "90% of full data") if full_accuracy else None
    return line_chart(png_path, series, title="Active learning: test accuracy vs labels", xlabel="labels",
                      ylabel="VQA accuracy (%)", hline=hline)
