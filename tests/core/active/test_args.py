"""ScoringArgs: the one typed value a scoring takes (CLI, GUI job, training's re-score, simulation), and
the one default of the MC-sample count."""
from __future__ import annotations

import pytest

from vqa_studio.core.active.args import DEFAULT_MC_SAMPLES, DEFAULT_SCOPE, ScoringArgs
from vqa_studio.core.simulate import SimConfig
from vqa_studio.core.train import jobs
from vqa_studio.core.train.config import TrainingArgs


def test_every_mc_sample_default_is_the_one_constant():
    assert ScoringArgs().mc_samples == DEFAULT_MC_SAMPLES
    assert TrainingArgs().mc_samples == DEFAULT_MC_SAMPLES
    assert SimConfig().mc_samples == DEFAULT_MC_SAMPLES
    assert ScoringArgs().scope == TrainingArgs().mc_scope == SimConfig().scope == DEFAULT_SCOPE


def test_round_trip_through_a_plain_dict():
    args = ScoringArgs(version="v3", mc_samples=7, scope="full", seed=2, batch_size=64, methods=["bald", "entropy"],
                       use_student=True)
    d = args.to_dict()
    assert d["methods"] == ["bald", "entropy"] and d["mc_samples"] == 7 and d["version"] == "v3"
    assert ScoringArgs.from_dict(d) == args
    assert ScoringArgs.from_dict({}) == ScoringArgs()
    assert ScoringArgs.from_dict({"version": "v1"}) == ScoringArgs(version="v1")


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="unknown scoring argument.*mc_sample"):
        ScoringArgs.from_dict({"mc_sample": 5})  # a misspelt setting is not silently ignored
    with pytest.raises(ValueError, match="mc_samples"):
        ScoringArgs(mc_samples=0)
    with pytest.raises(ValueError, match="scope"):
        ScoringArgs(scope="everything")
    with pytest.raises(ValueError, match="batch_size"):
        ScoringArgs(batch_size=0)
    with pytest.raises(ValueError, match="methods"):
        ScoringArgs(methods="bald")


def test_training_rescores_with_its_own_samples_scope_and_seed():
    s = TrainingArgs(mc_samples=3, mc_scope="full", seed=9).scoring_args("v4")
    assert s == ScoringArgs(version="v4", mc_samples=3, scope="full", seed=9, device="cpu")
    assert SimConfig(mc_samples=4, scope="full").scoring_args(5) == ScoringArgs(mc_samples=4, scope="full", seed=5)


def test_the_score_job_scores_with_the_arguments_it_was_given(monkeypatch):
    """What the GUI's re-score sends (``ScoringArgs(...).to_dict()``) reaches ``score_pool`` whole."""
    from vqa_studio.core.active import scoring
    from vqa_studio.core.model import registry

    seen = {}
    monkeypatch.setattr(registry, "load_version", lambda project, version: seen.setdefault("version", version) or "b")
    monkeypatch.setattr(scoring, "score_pool",
                        lambda project, bundle, args, **kw: seen.update(bundle=bundle, args=args, kw=kw) or "gen")
    params = ScoringArgs(version="v2", mc_samples=3, scope="full").to_dict()
    assert jobs.JOB_KINDS[jobs.SCORE]("project", params) == "gen"
    assert seen["version"] == "v2" and seen["bundle"] == "v2"
    assert seen["args"] == ScoringArgs(version="v2", mc_samples=3, scope="full")
    assert seen["kw"] == {"activate_proposals": True}
    with pytest.raises(ValueError, match="unknown scoring argument"):
        jobs.JOB_KINDS[jobs.SCORE]("project", {"T": 3})
