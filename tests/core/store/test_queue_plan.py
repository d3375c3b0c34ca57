"""The queue through the questions of few statuses gives the very order the walk down the score index gives."""
import numpy as np
import pytest
from sqlalchemy import insert, select, update

from tests.conftest import make_vqa_v2
from vqa_studio.core.formats import vqa_v2
from vqa_studio.core.project import Project
from vqa_studio.core.store import db, queue_plan, repository, schema
from vqa_studio.core.types import QueueFilter, Status


@pytest.fixture
def scored(project, tmp_path):
    """60 questions: statuses mixed, 45 scored by entropy (ties included), 15 not scored."""
    files = make_vqa_v2(tmp_path / "vqa", n_images=20, per_image=3)
    Project.run(project.import_records(vqa_v2.read(files["questions"], files["annotations"], files["images"])))
    rng = np.random.default_rng(4)
    with project.engine.begin() as conn:
        ids = list(conn.execute(select(schema.questions.c.id)).scalars())
        for qid in ids:
            status = [Status.NEW, Status.PROPOSED, Status.LABELLED, Status.ACCEPTED][int(rng.integers(4))]
            conn.execute(update(schema.questions).where(schema.questions.c.id == qid).values(status=status.value))
        conn.execute(insert(schema.models).values(version="m1", path="-", created_at=db.utcnow()))
        conn.execute(insert(schema.prediction_scores), [
            {"model_version": "m1", "method": "entropy", "question_id": q, "value": float(rng.integers(5))}
            for q in ids[:45]])
    return project


def _both(project, monkeypatch, **kw):
    with project.engine.connect() as conn:
        monkeypatch.setattr(queue_plan, "SELECTIVE", 10_000)
        few = repository.queue_ids(conn, version="m1", **kw)
        assert queue_plan.selective_queue_ids(conn, kw["order_by"], kw["filt"], "m1", kw["descending"], kw["limit"],
                                              kw["offset"], repository._apply_filters) is not None
        monkeypatch.setattr(queue_plan, "selective_queue_ids", lambda *a: None)  # the walk down the score index
        walk = repository.queue_ids(conn, version="m1", **kw)
    return few, walk


@pytest.mark.parametrize("statuses", [[Status.NEW, Status.PROPOSED], [Status.ACCEPTED], [Status.CORRECTED], None])
@pytest.mark.parametrize("descending", [True, False])
@pytest.mark.parametrize("limit, offset", [(None, 0), (7, 0), (7, 14), (100, 3), (5, 40)])
def test_same_order_as_the_walk(scored, monkeypatch, statuses, descending, limit, offset):
    filt = QueueFilter(statuses=statuses)
    if statuses is None and limit is not None:
        return  # a page of the unfiltered queue: the walk (covered below)
    few, walk = _both(scored, monkeypatch, order_by="entropy", filt=filt, descending=descending, limit=limit,
                      offset=offset)
    assert few == walk
    if statuses == [Status.CORRECTED]:
        assert few == []


def test_other_filters_apply_too(scored, monkeypatch):
    filt = QueueFilter(statuses=[Status.NEW, Status.LABELLED], question_types=["what color is the"], splits=["val"])
    few, walk = _both(scored, monkeypatch, order_by="entropy", filt=filt, descending=True, limit=None, offset=0)
    assert few == walk and few


def test_many_matching_questions_keep_the_walk(scored, monkeypatch):
    monkeypatch.setattr(queue_plan, "SELECTIVE", 3)
    with scored.engine.connect() as conn:
        assert queue_plan.selective_queue_ids(conn, "entropy", QueueFilter(statuses=[Status.NEW]), "m1", True, 10, 0,
                                              repository._apply_filters) is None
        assert queue_plan.selective_queue_ids(conn, "entropy", QueueFilter(), "m1", True, 10, 0,
                                              repository._apply_filters) is None
        assert queue_plan.selective_queue_ids(conn, "entropy", QueueFilter(statuses=[Status.NEW]), "m1", True, None, 0,
                                              repository._apply_filters) is not None  # the whole queue: always
