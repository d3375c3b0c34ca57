"""The effort replay (`vqa-studio simulate --effort`): exact action counts on constructed cases, and a
real replay on a tiny demo with injected outliers."""
from dataclasses import dataclass

import numpy as np
import pytest

from vqa_studio.core.demo import build_demo
from vqa_studio.core.effort import STRATEGIES, EffortConfig, Proposals, replay, simulate_effort
from vqa_studio.core.effort_ledger import AUDITED, AUTO, PoolLedger
from vqa_studio.core.effort_report import compare, data_marks, plot, result_lines, write_csv
from vqa_studio.core.errors import VQAStudioError
from vqa_studio.core.project import Project
from vqa_studio.core.train.config import TrainingArgs


@dataclass
class FixedModel:
    """A model whose proposals are given: right on ``right`` (confidence ``conf_right``), wrong elsewhere
    (confidence ``conf_wrong``); its held-out questions are all right (``held_right``) or all wrong."""

    truth: list[str]
    right: np.ndarray
    conf_right: float
    conf_wrong: float
    held_right: bool
    has_model: bool = True
    fits: int = 0

    def fit(self, indices, round_):
        self.fits += 1
        return
        yield

    def propose(self, round_):
        answers = [t if ok else t + "-wrong" for t, ok in zip(self.truth, self.right)]
        conf = np.where(self.right, self.conf_right, self.conf_wrong)
        held = np.full(1000, self.conf_right if self.held_right else self.conf_wrong)
        return Proposals(answers, conf, 1.0 - conf, np.where(self.right, 0.9, 0.1), None, held,
                         np.full(1000, self.held_right))
        yield


def _run(gen):
    try:
        while True:
            next(gen)
    except StopIteration as stop:
        return stop.value


def test_a_model_right_but_for_four_needs_its_audits_and_four_corrections():
    truth = [f"a{i}" for i in range(100)]
    right = np.ones(100, bool)
    right[[3, 40, 41, 77]] = False
    model = FixedModel(truth, right, 0.995, 0.2, held_right=True)
    ledger = PoolLedger([(t,) for t in truth], target=1.0, strategy="full loop")
    cfg = EffortConfig(strategy="full", target=1.0, retrain_every=10, audit_share=0.0625)  # 96 * 0.0625 = 6 audits
    res = _run(replay(ledger, model, cfg))
    assert (res.audits, res.audit_mistakes, res.corrections, res.accepts) == (6, 0, 4, 0)
    assert res.actions == 10 and res.reached and res.accuracy == 1.0
    assert res.auto_accepted == 96 and model.fits == 0  # reached before any retraining
    assert (ledger.state == AUDITED).sum() == 6 and (ledger.state == AUTO).sum() == 90
    assert res.line() == "human actions: 10 (10.0% of reviewing every item)"


def test_a_perfect_model_needs_nothing_and_no_auto_accept_means_no_audits():
    truth = [f"a{i}" for i in range(50)]
    model = FixedModel(truth, np.ones(50, bool), 0.999, 0.0, held_right=True)
    res = _run(replay(PoolLedger([(t,) for t in truth], 0.98), model, EffortConfig(target=0.98)))
    assert res.actions == 0 and res.reached  # its proposals are the pool's answers


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_useless_model_needs_every_item_reviewed(strategy):
    truth = [f"a{i}" for i in range(53)]
    model = FixedModel(truth, np.zeros(53, bool), 0.9, 0.9, held_right=False, has_model=False)
    ledger = PoolLedger([(t,) for t in truth], 1.0, strategy)
    res = _run(replay(ledger, model, EffortConfig(strategy=strategy, target=1.0, retrain_every=10)))
    assert (res.actions, res.corrections, res.accepts, res.audits, res.auto_accepted) == (53, 53, 0, 0, 0)
    assert res.retrainings == 5 and model.fits == 5  # after each full batch of 10 but the last
    assert res.reached and res.share == 1.0
    if strategy == "file":  # reviewed in the file's order: the pool's accuracy climbs one item at a time
        assert [n for n, _ in res.curve[:4]] == [0, 1, 2, 3]


def test_the_target_stops_the_replay_at_the_exact_action():
    truth = [f"a{i}" for i in range(100)]
    model = FixedModel(truth, np.zeros(100, bool), 0.5, 0.5, held_right=False, has_model=False)
    res = _run(replay(PoolLedger([(t,) for t in truth], 0.9), model, EffortConfig(strategy="file", target=0.9,
                                                                                 retrain_every=1000)))
    assert res.actions == 90 and res.accuracy == pytest.approx(0.9)


def test_the_ledger_counts_accepts_corrections_and_audits():
    ledger = PoolLedger([("yes",), ("2",), ("red",), ("no",)], 1.0)
    ledger.propose([0, 1, 2, 3], ["yes", "3", "red", None])
    assert ledger.accuracy() == 0.5
    assert ledger.review(0) is True and ledger.review(1) is False
    ledger.auto_accept([2, 3])
    assert ledger.audit(3) is True  # no answer was a mistake
    r = ledger.result
    assert (r.actions, r.accepts, r.corrections, r.audits, r.audit_mistakes, r.auto_accepted) == (3, 1, 1, 1, 1, 2)
    assert ledger.reached()
    with pytest.raises(ValueError, match="already reviewed"):
        ledger.review(0)
    with pytest.raises(ValueError, match="auto-accepted"):
        ledger.audit(0)
    with pytest.raises(ValueError, match="target"):
        PoolLedger([("a",)], 0.0)


def test_the_config_checks_its_values():
    with pytest.raises(ValueError, match="strategy"):
        EffortConfig(strategy="greedy")
    with pytest.raises(ValueError, match="retrain_every"):
        EffortConfig(retrain_every=0)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("effort") / "demo"
    Project.run(build_demo(folder, n_scenes=40, seed=3, questions_per_scene=5, outliers=0.2))
    p = Project.open(folder)
    yield p
    p.close()


def _cfg(**kw):
    return EffortConfig(retrain_every=40, epochs=1, min_steps=3, mc_samples=3,
                        train=TrainingArgs(batch_size=32, epochs=1, patience=100), **kw)


def test_a_real_replay_on_a_tiny_demo_with_outliers(tiny, tmp_path, one_torch_thread):
    marks, truths = data_marks(tiny)
    assert marks and truths and set(truths) <= set(marks)  # the demo marked its injected outliers
    results = Project.run(compare(tiny, _cfg(target=0.9), ["file", "full"], outliers=marks, truths=truths))
    assert [r.strategy for r in results] == ["file order", "full loop"]
    for r in results:
        assert r.accepts + r.corrections + r.audits == r.actions <= r.n_pool
        assert r.reached == (r.accuracy >= 0.9)
        actions = [n for n, _ in r.curve]
        assert actions == sorted(actions) and r.curve[-1][1] == pytest.approx(r.accuracy)
        assert r.retrainings >= 1
    assert result_lines(results)[-1].startswith("human actions: ")
    csv_path = write_csv(tmp_path / "effort.csv", results)
    assert csv_path.read_text().splitlines()[0] == "strategy,actions,accuracy"
    png = plot(results, tmp_path / "effort.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_project_without_labelled_questions_is_a_clear_error(tmp_path):
    with Project.create(tmp_path / "empty") as p:
        with pytest.raises(VQAStudioError, match="needs labelled train and val"):
            Project.run(simulate_effort(p, _cfg()))


def test_auto_accepted_answers_stay_in_the_queue_least_confident_first():
    truth = [f"a{i}" for i in range(100)]
    right = np.ones(100, bool)
    right[[3, 40, 41, 77]] = False
    model = FixedModel(truth, right, 0.995, 0.995, held_right=True)  # confidently wrong on four
    ledger = PoolLedger([(t,) for t in truth], target=1.0, strategy="plain BALD")
    res = _run(replay(ledger, model, EffortConfig(strategy="bald", target=1.0, retrain_every=1000, audit_share=0.05)))
    assert res.auto_accepted == 100 and res.audits == 5 and res.reached
    assert res.corrections == 4 - res.audit_mistakes
    audited = set(np.flatnonzero(ledger.state == AUDITED).tolist())
    last_wrong = max(i for i in (3, 40, 41, 77) if i not in audited)
    reviews = [i for i in range(last_wrong + 1) if i not in audited]  # equal confidences: in index order
    assert res.accepts + res.corrections == len(reviews) and res.actions == 5 + len(reviews)
