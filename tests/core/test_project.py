"""The Project facade: items, questions, review actions with history, undo/redo, queue, stats."""
from __future__ import annotations

import pytest
from sqlalchemy import insert

from tests.conftest import db_snapshot, write_png
from vqa_studio.core.errors import ConflictError, ProjectError
from vqa_studio.core.project import Project
from vqa_studio.core.store import db, schema
from vqa_studio.core.types import Action, QueueFilter, Status


@pytest.fixture
def filled(project, tmp_path):
    """3 images, 6 questions (2 labelled), one model version 'm1' with predictions and scores."""
    ids = []
    for i in range(3):
        item = project.add_item(write_png(tmp_path / "img" / f"{i}.png", (40 * i, 80, 120)), split="train" if i < 2 else "test")
        ids.append(project.add_question(item, "What color is the ball?"))
        ids.append(project.add_question(item, "Is there a ball?", answers=["yes"] * 9 + ["no"]))
    now = db.utcnow()
    with project.engine.begin() as conn:
        conn.execute(insert(schema.models).values(version="m1", path="models/m1.pt", created_at=now))
        for rank, qid in enumerate(ids):
            conn.execute(insert(schema.predictions).values(
                question_id=qid, model_version="m1", answers=["red", "blue", "green"], probs=[0.5, 0.3, 0.2],
                scores={"entropy": float(rank)}, in_vocab=True, created_at=now))
            conn.execute(insert(schema.prediction_scores).values(model_version="m1", method="entropy", question_id=qid, value=float(rank)))
            conn.execute(insert(schema.prediction_scores).values(model_version="m1", method="margin", question_id=qid, value=float(-rank)))
    project.set_setting("active_model", "m1")
    return ids


def test_create_and_reopen(project, tmp_path):
    item = project.add_item(write_png(tmp_path / "a.png"))
    qid = project.add_question(item, "  How many   circles are there? ", answers=["1", "one", "2"])
    folder = project.folder
    project.close()
    with Project.open(folder) as p:
        q = p.question(qid)
        assert q.text == "How many circles are there?"
        assert q.question_type == "how many" and q.answer_type == "number"
        assert q.answer == "1" and q.status is Status.LABELLED
        assert [a["answer"] for a in p.imported_answers(qid)] == ["1", "one", "2"]
        assert p.item(item).width == 32 and p.item(item).sha256
        single = p.add_question(item, "What color is it?", answers=["red"])
        # what training reads: the same answers, as texts, for every question with imported ones
        from vqa_studio.core.data.dataset import Snapshot
        from vqa_studio.core.store import repository as repo

        with p.engine.connect() as conn:
            assert repo.imported_answer_texts(conn) == {qid: ("1", "one", "2"), single: ("red",)}
        snap = {qa.question_id: qa for qa in Snapshot.load(p).questions}
        assert snap[qid].imported == ("1", "one", "2") and snap[single].imported == ("red",)
        assert snap[qid].label_answers() == ("1", "one", "2") and snap[qid].kind.value == "image"
        assert (folder / "media").is_dir() and (folder / "models").is_dir()


def test_add_item_twice_is_one_item(project, tmp_path):
    path = write_png(tmp_path / "a.png")
    assert project.add_item(path) == project.add_item(path)
    assert project.stats().n_items == 1


def test_add_item_copy_into_media(project, tmp_path):
    item = project.item(project.add_item(write_png(tmp_path / "a.png"), copy=True))
    assert not item.uri.startswith("/") and item.uri.startswith("media/")
    assert project.media_path(item).exists()


def test_every_action_is_a_history_row(project, filled):
    q1, q2 = filled[0], filled[1]
    c1 = project.record(q1, Action.ACCEPT)
    assert (c1.before_status, c1.after_status, c1.after_answer) == (Status.NEW, Status.ACCEPTED, "red")
    assert c1.model_version == "m1" and c1.score == 0.0 and c1.acquisition == "entropy" and c1.annotator == "alice"
    c2 = project.record(q1, Action.PICK, pick=2)
    assert (c2.after_answer, c2.after_status) == ("blue", Status.CORRECTED)
    c3 = project.record(q1, Action.CORRECT, "  purple ")
    assert (c3.before_answer, c3.after_answer, c3.after_status) == ("blue", "purple", Status.CORRECTED)
    c4 = project.record(q1, Action.CORRECT, "Red")  # typing what the model said counts as accepting it
    assert c4.after_status is Status.ACCEPTED
    c5 = project.record(q2, Action.FLAG, note="ambiguous: two balls")
    assert c5.after_status is Status.FLAGGED and c5.after_answer == "yes" and c5.note == "ambiguous: two balls"
    assert project.question(q2).note == "ambiguous: two balls"
    c6 = project.record(q2, Action.SKIP)
    assert c6.before_status is Status.FLAGGED and c6.after_status is Status.SKIPPED
    c7 = project.record(filled[2], Action.AUTO_ACCEPT)
    assert c7.annotator == "auto" and c7.after_status is Status.AUTO_ACCEPTED
    assert [c.action for c in project.history(q1)] == [Action.ACCEPT, Action.PICK, Action.CORRECT, Action.CORRECT]
    assert project.verify_history() == []
    assert project.derived_state(q1) == ("Red", Status.ACCEPTED)


def test_undo_redo_chain(project, filled):
    q = filled[1]  # labelled 'yes'
    c = project.record(q, Action.CORRECT, "no")
    u = project.undo(c.id)
    assert u.action is Action.UNDO and u.target_id == c.id
    assert (project.question(q).answer, project.question(q).status) == ("yes", Status.LABELLED)
    r = project.redo(u.id)
    assert r.action is Action.REDO and project.question(q).answer == "no"
    u2 = project.undo(r.id)
    assert project.question(q).answer == "yes" and u2.target_id == r.id
    assert [h.action for h in project.history(q)] == [Action.CORRECT, Action.UNDO, Action.REDO, Action.UNDO]
    assert project.human_answers(q) == []  # the correction is undone
    project.redo(u2.id)
    assert project.human_answers(q) == [("alice", "no")]
    assert project.verify_history() == []


def test_undo_refuses_to_overwrite_newer_work(project, filled):
    q = filled[0]
    first = project.record(q, Action.CORRECT, "green")
    project.record(q, Action.CORRECT, "blue", annotator="bob")  # someone else, later
    before = db_snapshot(project)
    with pytest.raises(ConflictError, match="changed after"):
        project.undo(first.id)
    assert db_snapshot(project) == before


def test_failed_action_writes_nothing(project, filled):
    before = db_snapshot(project)
    with pytest.raises(ConflictError):
        project.record(filled[0], Action.PICK, pick=7)
    with pytest.raises(ValueError):
        project.record(filled[0], Action.CORRECT, "   ")
    with pytest.raises(ProjectError):
        project.record(12345, Action.ACCEPT)
    assert db_snapshot(project) == before


def test_accept_without_model_confirms_the_imported_answer(project, tmp_path):
    item = project.add_item(write_png(tmp_path / "a.png"))
    labelled = project.add_question(item, "Is it round?", answers=["yes"])
    empty = project.add_question(item, "What is it?")
    assert project.record(labelled, Action.ACCEPT).after_answer == "yes"
    with pytest.raises(ConflictError, match="no proposal"):
        project.record(empty, Action.ACCEPT)


def test_queue_orders_by_score_and_filters(project, filled):
    assert project.queue_ids() == list(reversed(filled))  # entropy, highest first
    assert project.queue_ids(order_by="margin") == filled
    assert project.queue_ids(limit=2, offset=1) == list(reversed(filled))[1:3]
    rows = project.queue(limit=2)
    assert rows[0].proposed == "red" and rows[0].confidence == pytest.approx(0.5) and rows[0].score == 5.0
    test_only = project.queue_ids(filters=QueueFilter(splits=["test"]))
    assert test_only == [filled[5], filled[4]]
    labelled = project.queue_ids(filters=QueueFilter(statuses=[Status.LABELLED]))
    assert set(labelled) == {filled[1], filled[3], filled[5]}
    yes_no = project.queue_ids(filters=QueueFilter(answer_types=["yes/no"], question_types=["is there a"]))
    assert set(yes_no) == {filled[1], filled[3], filled[5]}
    assert project.queue_ids(filters=QueueFilter(search="color")) == [filled[4], filled[2], filled[0]]
    assert project.queue_count(QueueFilter(splits=["train"])) == 4
    project.record(filled[5], Action.ACCEPT)
    assert project.queue_ids(filters=QueueFilter(statuses=[Status.ACCEPTED])) == [filled[5]]


def test_queue_puts_unscored_questions_after_scored_ones(project, filled, tmp_path):
    item = project.add_item(write_png(tmp_path / "new.png"))
    extra = project.add_question(item, "Is it new?")
    ids = project.queue_ids()
    assert ids[-1] == extra and len(ids) == 7
    assert project.queue_ids(limit=3, offset=5) == [filled[0], extra]
    assert project.queue_ids(limit=3, offset=6) == [extra]
    assert project.queue_ids(order_by="id") == sorted(ids)
    assert project.queue_ids(filters=QueueFilter(model_version="other")) == sorted(ids)  # no scores: by id


def test_stats(project, filled):
    project.record(filled[0], Action.ACCEPT)
    project.record(filled[1], Action.FLAG, note="x", annotator="bob")
    st = project.stats()
    assert st.n_items == 3 and st.n_questions == 6
    assert st.by_status == {"labelled": 2, "new": 2, "accepted": 1, "flagged": 1}
    assert st.by_split == {"train": 4, "test": 2}
    assert st.by_action == {"accept": 1, "flag": 1} and st.annotators == {"alice": 1, "bob": 1}
    assert st.active_model == "m1" and st.n_predictions == 6 and st.n_models == 1


def test_each_action_is_durable_at_once(project, filled):
    """A second connection (another process would be the same) sees a correction as soon as it returns."""
    project.record(filled[0], Action.CORRECT, "teal")
    other = Project.open(project.folder)
    try:
        assert other.question(filled[0]).answer == "teal"
    finally:
        other.close()


def test_review_record_reads_what_the_review_shows(project, filled):
    qid = filled[1]  # "Is there a ball?" with imported answers
    project.record(qid, Action.CORRECT, "no", annotator="alice")
    project.record(qid, Action.ACCEPT, annotator="bob")
    project.undo(project.history(qid)[-1].id, annotator="bob")
    rec = project.review_record(qid, "m1")
    assert rec.question == project.question(qid) and rec.item == project.item(rec.question.item_id)
    assert rec.prediction.answers == ["red", "blue", "green"] and rec.version == "m1"
    assert [c.action for c in rec.history] == [Action.CORRECT, Action.ACCEPT, Action.UNDO]
    assert rec.human_answers == [("alice", "no")]
    assert [a["answer"] for a in rec.imported] == ["yes"] * 9 + ["no"]
    assert project.review_record(qid).prediction is None
    assert project.review_record(999999, "m1") is None


def test_answer_types_question_types_and_splits(project, filled):
    assert project.answer_types() == sorted(project.stats().by_answer_type) == ["other", "yes/no"]
    assert project.question_types() == sorted(project.stats().by_question_type)
    assert project.splits() == ["test", "train"]
