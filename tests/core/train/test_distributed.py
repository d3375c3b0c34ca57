"""Distributed training (torch.distributed, gloo on the CPU): two real worker processes train one model."""
import shutil

import numpy as np
import pytest
from sqlalchemy import func, select

from vqa_studio.core.driver import drive
from vqa_studio.core.errors import VQAStudioError
from vqa_studio.core.project import Project
from vqa_studio.core.store import schema
from vqa_studio.core.train import distributed
from vqa_studio.core.train.config import TrainingArgs
from vqa_studio.core.train.pipeline import run_training

# the same data, steps and effective batch in one process and in two (16 questions per rank and step)
SAME = dict(epochs=10, batch_size=32, mc_samples=4, amp="off", device="cpu", seed=0, threads=1, patience=100)


def _count(project, table):
    with project.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


@pytest.fixture
def labelled(tmp_path):
    """160 demo scenes, every training question labelled (800 questions: 160 in the test split)."""
    from vqa_studio.core.demo import build_demo

    Project.run(build_demo(tmp_path / "one", n_scenes=160, seed=3, labelled_fraction=1.0, questions_per_scene=5))
    shutil.copytree(tmp_path / "one", tmp_path / "two")
    return tmp_path / "one", tmp_path / "two"


def test_two_processes_train_like_one(labelled):
    with Project.open(labelled[0]) as single:
        one = single.run(run_training(single, TrainingArgs(**SAME)))
    seen = []
    with Project.open(labelled[1]) as project:
        two = drive(run_training(project, TrainingArgs(**SAME, nproc=2)), on_progress=seen.append)
        assert project.active_model == two.version == "v1" and two.path.exists()
        assert _count(project, schema.models) == 1 and _count(project, schema.runs) == 1  # rank 0 alone wrote
        assert sorted(p.name for p in project.models_dir.glob("*.pt")) == ["v1.pt"]
        st = project.stats()
        assert st.n_predictions == st.n_questions
    assert {"train", "epoch", "calibrating", "registering"} <= {p.stage for p in seen}  # rank 0's progress came back
    # every epoch saw all the training questions (the ranks' shares summed), as in one process
    assert [c["questions"] for c in two.curves] == [c["questions"] for c in one.curves]
    assert two.curves[-1]["loss"] < two.curves[0]["loss"] * 0.8  # it learned
    # the same accuracy within noise: 3 standard deviations of the difference of two binomial means
    acc1, acc2 = one.metrics["test_accuracy"], two.metrics["test_accuracy"]
    n = one.metrics["by_kind"]["image"]["test"]["n"]
    p = (acc1 + acc2) / 2
    assert abs(acc1 - acc2) <= 3 * np.sqrt(2 * p * (1 - p) / n), (acc1, acc2, n)


def test_what_cannot_be_distributed_is_refused(demo):
    with pytest.raises(VQAStudioError, match="ViLT"):
        demo.run(run_training(demo, TrainingArgs(nproc=2, model="vilt:/nowhere")))
    with pytest.raises(ValueError, match="nproc"):
        TrainingArgs(nproc=0)
    assert _count(demo, schema.runs) == 0


def test_devices_and_shards():
    class A:
        device = "cpu"

    assert distributed.plan_devices(A(), 2) == ("gloo", ["cpu", "cpu"])
    rank0 = distributed.Rank(0, 2, 0, "cpu", "gloo")
    rank1 = distributed.Rank(1, 2, 1, "cpu", "gloo")
    plan = [np.array([i]) for i in range(7)]
    a, b = rank0.shard(plan, 3, 0), rank1.shard(plan, 3, 0)
    assert len(a) == len(b) == 4  # padded: every rank takes as many steps
    assert {int(x[0]) for x in a + b} == set(range(7))
    assert [int(x[0]) for x in rank0.shard(plan, 4, 0)] != [int(x[0]) for x in a]  # set_epoch reshuffles
    assert rank0.batch_size(32) == 16 and rank1.batch_size(33) == 17


def test_cancel_stops_every_rank_and_registers_nothing(demo):
    import multiprocessing

    gen = run_training(demo, TrainingArgs(epochs=200, batch_size=16, mc_samples=4, amp="off", device="cpu",
                                          threads=1, nproc=2))
    for p in gen:
        if p.stage == "train" and p.done >= 3:
            break
    assert len(multiprocessing.active_children()) == 2
    gen.close()  # Cancel (the CLI's Ctrl+C closes the generator the same way)
    assert multiprocessing.active_children() == []  # both ranks stopped
    with demo.engine.connect() as conn:
        runs = conn.execute(select(schema.runs.c.status)).scalars().all()
    assert runs == ["cancelled"] and _count(demo, schema.models) == 0 and demo.active_model is None
    assert not list(demo.models_dir.glob("*.pt"))

