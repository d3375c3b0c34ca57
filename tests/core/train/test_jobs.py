"""Jobs in a child process (spawn): progress over a queue, cancel, crash, silent death."""
from sqlalchemy import select

from vqa_studio.core.store import schema
from vqa_studio.core.train.jobs import SCORE, TRAIN, Job


def test_training_job_finishes_and_registers(demo):
    job = Job(TRAIN, demo.folder, {"epochs": 1, "batch_size": 32, "mc_samples": 2}, threads=1).start()
    job.wait(600)
    assert job.state == "done", job.traceback
    assert job.result["version"] == "v1" and job.last_progress is not None
    assert demo.active_model == "v1"


def test_cancel_in_the_child_leaves_the_registry_untouched(demo):
    job = Job(TRAIN, demo.folder, {"epochs": 50, "batch_size": 16, "mc_samples": 2}, threads=1).start()
    while job.last_progress is None or job.last_progress.stage != "train":
        job.poll(0.5)
        assert not job.finished, job.error
    job.cancel()
    job.wait(120)
    assert job.state == "cancelled"
    assert demo.models() == [] and demo.active_model is None
    with demo.engine.connect() as conn:
        assert conn.execute(select(schema.runs.c.status)).scalars().all() == ["cancelled"]
        assert conn.execute(select(schema.predictions.c.id)).first() is None


def test_crash_is_reported_with_its_traceback(demo):
    job = Job("tests.core.train.failing_jobs:crash", demo.folder).start().wait(120)
    assert job.state == "error" and "boom" in job.error and "Traceback" in job.traceback
    assert demo.models() == []


def test_silent_death_is_reported(demo):
    job = Job("tests.core.train.failing_jobs:crash", demo.folder, {"hard": True}).start().wait(120)
    assert job.state == "error" and "ended unexpectedly (exit code 3)" in job.error


def test_scoring_job(demo):
    Job(TRAIN, demo.folder, {"epochs": 1, "batch_size": 32, "mc_samples": 2}, threads=1).start().wait(600)
    job = Job(SCORE, demo.folder, {"mc_samples": 5}, threads=1).start().wait(600)
    assert job.state == "done", job.traceback
    assert demo.prediction(demo.queue_ids(limit=1)[0]).votes.shape == (5,)
