"""The store's queries behind scoring, training runs and the registry (store/predictions, runs,
model_rows, training_rows)."""
from __future__ import annotations

from sqlalchemy import func, select

from tests.conftest import write_png
from vqa_studio.core.store import model_rows, runs, schema, training_rows
from vqa_studio.core.store import predictions as prediction_rows
from vqa_studio.core.types import Action, Status


def _pred(qid, version, answer, conf):
    return {"question_id": qid, "model_version": version, "answer": answer, "confidence": conf, "answers": [answer],
            "probs": [conf], "scores": {"entropy": 1 - conf}, "in_vocab": True, "attention": None, "votes": None,
            "centres": None}


def _count(conn, table, version):
    return conn.execute(select(func.count()).select_from(table).where(table.c.model_version == version)).scalar_one()


def test_predictions_are_replaced_forgotten_and_proposed(project, tmp_path):
    item = project.add_item(write_png(tmp_path / "a.png"), split="train")
    q1, q2 = project.add_question(item, "What colour?"), project.add_question(item, "What shape?", answers=["cube"])
    with project.writer.begin() as conn:
        n = prediction_rows.replace_predictions(conn, "m1", [_pred(q1, "m1", "red", 0.9), _pred(q2, "m1", "ball", 0.4)],
                                                [{"model_version": "m1", "method": "entropy", "question_id": q1,
                                                  "value": 0.1}])
        assert n == 2
        prediction_rows.replace_predictions(conn, "m2", [_pred(q1, "m2", "blue", 0.6)], [])
        prediction_rows.replace_predictions(conn, "m1", [_pred(q1, "m1", "green", 0.8)], [])  # replaces m1 only
        assert (_count(conn, schema.predictions, "m1"), _count(conn, schema.prediction_scores, "m1")) == (1, 0)
        assert _count(conn, schema.predictions, "m2") == 1
        got = prediction_rows.confidences(conn, "m1")
        assert [(c.question_id, c.status, c.split, c.top, c.confidence) for c in got] == [
            (q1, Status.NEW.value, "train", "green", 0.8)]
        prediction_rows.mark_proposed(conn, "m1")
        prediction_rows.delete_predictions(conn, "m2")
        assert _count(conn, schema.predictions, "m2") == 0
    assert project.question(q1).status is Status.PROPOSED  # unanswered, predicted: proposed
    assert project.question(q2).status is not Status.PROPOSED  # answered: left alone


def test_runs_models_and_training_rows(project, tmp_path):
    item = project.add_item(write_png(tmp_path / "a.png"), split="train")
    qid, other = project.add_question(item, "What colour?"), project.add_question(item, "What size?")
    cid = project.record(qid, Action.CORRECT, "red").id
    with project.writer.begin() as conn:
        run_id = runs.start_run(conn, "train", {"epochs": 1})
        model_rows.insert_model(conn, version="v1", parent=None, path="models/v1.pt", arch="image", metrics={},
                                config={}, snapshot={}, run_id=run_id)
        runs.set_run_model(conn, run_id, "v1")
        runs.finish_run(conn, run_id, "done", [{"epoch": 1}])
        imported = runs.record_import(conn, {"file": "x.pt"})
        rows = conn.execute(select(schema.runs).order_by(schema.runs.c.id)).all()
        snap = training_rows.snapshot_rows(conn)
        assert training_rows.corrected_since(conn, cid - 1) == {qid} and not training_rows.corrected_since(conn, cid)
    assert [(r.kind, r.status, r.model_version, r.curves) for r in rows] == [
        ("train", "done", "v1", [{"epoch": 1}]), ("import", "done", None, None)]
    assert rows[1].id == imported and rows[1].finished_at is not None
    assert [m.version for m in project.models()] == ["v1"]
    assert [tuple(r)[:2] + tuple(r)[7:9] for r in snap.questions] == [(qid, item, Status.CORRECTED.value, "red"),
                                                                    (other, item, Status.NEW.value, None)]
    assert snap.max_correction_id == cid
