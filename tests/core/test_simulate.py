"""The active-learning simulation (`vqa-studio simulate`, benchmarks/bench_active.py) on a tiny demo."""
import csv
import math

import pytest

import numpy as np

from vqa_studio.core.simulate import (SimConfig, SimResult, full_data_accuracy, plot_csv, select_batch, simulate,
                                      write_csv)
from vqa_studio.core.data.dataset import Snapshot
from vqa_studio.core.demo import build_demo
from vqa_studio.core.errors import VQAStudioError
from vqa_studio.core.project import Project
from vqa_studio.core.train.config import TrainingArgs


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sim") / "demo"
    Project.run(build_demo(folder, n_scenes=40, seed=5, questions_per_scene=5))
    p = Project.open(folder)
    yield p
    p.close()


def _cfg(**kw):
    train = TrainingArgs(batch_size=32, epochs=1, patience=100)
    kw.setdefault("full_epochs", 2)
    return SimConfig(initial=20, batch=15, rounds=2, epochs=1, min_steps=3, mc_samples=4, train=train, **kw)


@pytest.mark.parametrize("strategy, selection", [("random", "top"), ("bald", "top"), ("ensemble", "top"),
                                                 ("bald", "power")])
def test_each_round_adds_the_batch_and_measures_test_accuracy(tiny, strategy, selection, one_torch_thread):
    res = Project.run(simulate(tiny, _cfg(strategy=strategy, ensemble=2, selection=selection)))
    assert [n for n, _ in res.points] == [20, 35, 50]
    assert all(0.0 <= acc <= 1.0 for _, acc in res.points)
    assert res.strategy == (f"power {strategy}" if selection == "power" else strategy) and res.seconds > 0


def test_top_selection_takes_the_highest_scores():
    scores = np.array([0.1, 0.9, 0.5, 0.0, 0.7])
    assert sorted(select_batch(scores, 3, "top", np.random.default_rng(0)).tolist()) == [1, 2, 4]
    assert len(select_batch(scores, 10, "top", np.random.default_rng(0))) == 5


def test_power_selection_draws_in_proportion_to_the_scores():
    scores = np.array([1.0, 2.0, 0.0, 4.0])
    rng = np.random.default_rng(0)
    firsts = np.bincount([select_batch(scores, 1, "power", rng)[0] for _ in range(7000)], minlength=4) / 7000
    assert np.allclose(firsts, [1 / 7, 2 / 7, 0.0, 4 / 7], atol=0.02)  # P(i) = score / sum; a 0 is never drawn first
    batch = select_batch(scores, 3, "power", rng)
    assert len(set(batch.tolist())) == 3  # without replacement
    # a larger beta is closer to top-k
    sharp = [select_batch(scores, 1, "power", rng, beta=8.0)[0] for _ in range(500)]
    assert np.mean(np.array(sharp) == 3) > 0.98
    with pytest.raises(ValueError, match=">= 0"):
        select_batch(np.array([-1.0, 1.0]), 1, "power", rng)


def test_sim_config_checks_the_selection():
    with pytest.raises(ValueError, match="selection"):
        SimConfig(selection="greedy")
    with pytest.raises(ValueError, match="power_beta"):
        SimConfig(power_beta=0.0)


def test_full_data_accuracy_and_the_learning_curves_are_written(tiny, tmp_path, one_torch_thread):
    snapshot = Snapshot.load(tiny)
    full = Project.run(full_data_accuracy(tiny, _cfg(), snapshot=snapshot))
    assert 0.0 <= full <= 1.0
    results = [Project.run(simulate(tiny, _cfg(strategy=s), snapshot=snapshot, full_accuracy=full))
               for s in ("random", "entropy")]
    path = write_csv(tmp_path / "active.csv", results)
    rows = list(csv.DictReader(path.open()))
    assert {r["strategy"] for r in rows} == {"random", "entropy"} and len(rows) == 6
    png = plot_csv(path, tmp_path / "active.png", full)
    assert png.stat().st_size > 1000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _epochs_trained(gen):
    epochs = []
    try:
        while True:
            p = next(gen)
            if p.stage == "epoch":
                epochs.append(p)
    except StopIteration as stop:
        return stop.value, epochs


def test_the_full_data_reference_trains_its_own_longer_schedule(tiny, one_torch_thread):
    snapshot = Snapshot.load(tiny)
    full, epochs = _epochs_trained(full_data_accuracy(tiny, _cfg(full_epochs=3), snapshot=snapshot))
    assert 0.0 <= full <= 1.0
    assert len(epochs) == 3  # full_epochs, not a round's `epochs` (1)


def test_a_strategy_stops_at_its_target(tiny, one_torch_thread):
    snapshot = Snapshot.load(tiny)
    res, _ = _epochs_trained(simulate(tiny, _cfg(strategy="random", stop_at=0.0), snapshot=snapshot))
    assert [n for n, _ in res.points] == [20]  # any accuracy reaches 0: no round after the first
    res, _ = _epochs_trained(simulate(tiny, _cfg(strategy="random", stop_at=1.01), snapshot=snapshot))
    assert [n for n, _ in res.points] == [20, 35, 50]


def test_labels_to_reach_interpolates_between_rounds():
    r = SimResult("x", [(100, 0.40), (200, 0.60), (300, 0.70)])
    assert r.labels_to_reach(0.50) == pytest.approx(150.0)
    assert r.labels_to_reach(0.30) == 100.0
    assert r.labels_to_reach(0.80) is None


def test_too_few_labels_is_a_clear_error(tiny):
    with pytest.raises(VQAStudioError, match="simulate needs labelled train"):
        Project.run(simulate(tiny, SimConfig(initial=100_000, batch=10)))


def test_the_reference_gets_at_least_the_steps_of_all_the_rounds():
    from vqa_studio.core.simulate import rounds_steps

    cfg = SimConfig(initial=200, batch=200, rounds=100, epochs=6, min_steps=150, train=TrainingArgs(batch_size=64))
    # 200, 400, ... 2000 labels, then the last 100 of the pool of 2100: each round 6 epochs, at least 150 steps
    expected = 0
    for n in list(range(200, 2001, 200)) + [2100]:
        per_epoch = math.ceil(n / 64)
        expected += max(6, math.ceil(150 / per_epoch)) * per_epoch
    assert rounds_steps(2100, cfg) == expected
    assert rounds_steps(2100, SimConfig(**{**cfg.__dict__, "rounds": 2})) < rounds_steps(2100, cfg)
    assert rounds_steps(2100, cfg) > 1500  # far above 12 epochs of the whole pool (396 steps)


def test_cluster_selection_in_the_simulation(tiny, one_torch_thread):
    res = Project.run(simulate(tiny, _cfg(strategy="bald", selection="cluster")))
    assert [n for n, _ in res.points] == [20, 35, 50] and res.strategy == "cluster bald"
    with pytest.raises(ValueError, match="embeddings"):
        SimConfig(strategy="ensemble", selection="cluster")


def test_the_full_reference_keeps_the_best_validation_seed(tiny, one_torch_thread):
    snapshot = Snapshot.load(tiny)
    full, epochs = _epochs_trained(full_data_accuracy(tiny, _cfg(full_epochs=3, full_seeds=2), snapshot=snapshot))
    assert 0.0 <= full <= 1.0 and len(epochs) == 6  # two trainings of 3 epochs


def test_a_run_can_start_from_a_model_file(tiny, tmp_path, one_torch_thread):
    """init_from (bench_active's shifted set): the first model is the file's, every tensor, not a random one;
    the runs and the full-data reference read it, and a bad file is an error naming it."""
    from dataclasses import replace

    import torch

    from vqa_studio.core.data.dataset import Encoders, build_vocabs
    from vqa_studio.core.errors import CheckpointError
    from vqa_studio.core.model.registry import ModelBundle, NetSet
    from vqa_studio.core.simulate import start_net
    from vqa_studio.core.train.pipeline import model_config
    from vqa_studio.core.types import ItemKind

    snapshot = Snapshot.load(tiny)
    cfg = _cfg()
    encoders = Encoders(*build_vocabs(snapshot, snapshot.labelled(["train"], ItemKind.IMAGE), cfg.train.max_answers))
    config = model_config(cfg.train, ItemKind.IMAGE, encoders)
    src = start_net(config, cfg, encoders, seed=1)
    path = ModelBundle("v1", encoders, {ItemKind.IMAGE: NetSet(ItemKind.IMAGE, config.to_dict(), [src.eval()])}
                       ).save(tmp_path / "source.pt")
    fresh = start_net(config, _cfg(), encoders, seed=2)
    started = start_net(config, _cfg(init_from=str(path)), encoders, seed=2)
    for name, value in src.state_dict().items():
        assert torch.equal(started.state_dict()[name], value), name
    assert not all(torch.equal(fresh.state_dict()[k], v) for k, v in src.state_dict().items())
    res = Project.run(simulate(tiny, replace(_cfg(strategy="random", init_from=str(path)), rounds=0)))
    assert [n for n, _ in res.points] == [20]
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a model")
    with pytest.raises(CheckpointError, match="bad.pt"):
        Project.run(simulate(tiny, replace(_cfg(strategy="random", init_from=str(bad)), rounds=0)))
    with pytest.raises(CheckpointError, match="bad.pt"):
        Project.run(full_data_accuracy(tiny, _cfg(init_from=str(bad))))


def test_a_run_ends_when_the_pool_is_used_up(tiny, one_torch_thread):
    """Rounds beyond the pool would retrain on the same labels: the run stops at the last label."""
    from dataclasses import replace

    res = Project.run(simulate(tiny, replace(_cfg(strategy="random"), batch=70, rounds=6)))
    labels = [n for n, _ in res.points]
    assert labels == sorted(set(labels)) and len(labels) < 7  # 20, 90, then the rest of the pool
