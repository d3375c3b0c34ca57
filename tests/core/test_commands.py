"""Review commands with inverses: do / undo / redo over the Project, without Qt."""
from __future__ import annotations

import pytest
from sqlalchemy import insert

from tests.conftest import write_png
from vqa_studio.core import commands
from vqa_studio.core.commands import CommandStateError, ReviewCommand
from vqa_studio.core.errors import ConflictError
from vqa_studio.core.store import db, schema
from vqa_studio.core.types import Action, Status


@pytest.fixture
def qids(project, tmp_path):
    item = project.add_item(write_png(tmp_path / "a.png"))
    ids = [project.add_question(item, f"What color is shape {k}?") for k in range(3)]
    now = db.utcnow()
    with project.engine.begin() as conn:
        conn.execute(insert(schema.models).values(version="m1", path="models/m1.pt", created_at=now))
        for qid in ids:
            conn.execute(insert(schema.predictions).values(
                question_id=qid, model_version="m1", answers=["red", "blue", "green"], probs=[0.6, 0.3, 0.1],
                scores={"entropy": 0.5}, in_vocab=True, created_at=now))
    project.set_setting("active_model", "m1")
    return ids


def test_do_undo_redo_undo_writes_history_rows(project, qids):
    q = qids[0]
    cmd = commands.correct(q, "purple")
    assert not cmd.done
    cmd.do(project)
    assert project.question(q).answer == "purple" and project.question(q).status is Status.CORRECTED
    cmd.undo(project)
    assert project.question(q).answer is None and project.question(q).status is Status.NEW
    cmd.redo(project)
    assert project.question(q).answer == "purple" and cmd.done
    cmd.undo(project)
    assert [c.action for c in project.history(q)] == [Action.CORRECT, Action.UNDO, Action.REDO, Action.UNDO]
    assert project.human_answers(q) == []
    assert project.verify_history() == []
    cmd.apply(project)  # redo again through the generic entry point
    assert project.human_answers(q) == [("alice", "purple")]


def test_accept_pick_flag_skip(project, qids):
    a, b, c = qids
    assert commands.accept(a).do(project).after_answer == "red"
    assert commands.pick(b, 2).do(project).after_status is Status.CORRECTED
    cmd = commands.flag(c, "ambiguous question")
    row = cmd.do(project)
    assert row.note == "ambiguous question" and project.question(c).status is Status.FLAGGED
    cmd.undo(project)
    assert project.question(c).status is Status.NEW
    s = commands.skip(c)
    s.do(project)
    assert project.question(c).status is Status.SKIPPED
    assert "Skip" in s.text() and "Correct 'x'" in commands.correct(c, "x").text()


def test_state_errors_and_conflicts(project, qids):
    cmd = ReviewCommand(qids[0], "accept")
    with pytest.raises(CommandStateError):
        cmd.undo(project)
    cmd.do(project)
    with pytest.raises(CommandStateError):
        cmd.do(project)
    with pytest.raises(CommandStateError):
        cmd.redo(project)
    # someone else changes the question: undo refuses to overwrite it
    project.record(qids[0], Action.CORRECT, "orange", annotator="bob")
    with pytest.raises(ConflictError):
        cmd.undo(project)
    assert project.question(qids[0]).answer == "orange"
    with pytest.raises(ValueError):
        ReviewCommand(qids[0], Action.UNDO)


def test_one_command_base_for_review_and_cuboid_edits(project, qids):
    from vqa_studio.core import cuboids

    assert cuboids.CommandStateError is CommandStateError
    assert issubclass(ReviewCommand, commands.Command) and issubclass(cuboids.CuboidCommand, commands.Command)
    cmd = ReviewCommand(qids[1], Action.CORRECT, answer="teal")
    assert cmd.state == "new"
    first = cmd.apply(project)  # do
    assert cmd.state == "done" and first.action is Action.CORRECT
    cmd.undo(project)
    assert cmd.state == "undone" and not cmd.done
    again = cmd.apply(project)  # redo
    assert cmd.state == "done" and again.action is Action.REDO and project.question(qids[1]).answer == "teal"
    # a step that fails leaves the state as it was
    project.record(qids[1], Action.CORRECT, "navy", annotator="bob")
    with pytest.raises(ConflictError):
        cmd.undo(project)
    assert cmd.state == "done" and [r.action for r in cmd.rows] == [Action.CORRECT, Action.UNDO, Action.REDO]
