"""Cuboids of an item: storage, complete edit history, commands with inverses, links to questions."""
from __future__ import annotations

import math

import numpy as np
import pytest
from sqlalchemy import select

from tests.conftest import db_snapshot
from vqa_studio.core import cuboids
from vqa_studio.core.data.clouds import Cloud, save_cloud
from vqa_studio.core.errors import ConflictError, ProjectError
from vqa_studio.core.geometry import Cuboid, resize, rotate, translate
from vqa_studio.core.store import cuboid_rows, schema


def _cloud_item(project, tmp_path, name="c.ply") -> int:
    rng = np.random.default_rng(0)
    xyz = rng.uniform(-2, 2, size=(500, 3)).astype(np.float32)
    path = save_cloud(tmp_path / name, Cloud(xyz, rng.random((500, 3)).astype(np.float32)))
    return project.add_item(path, split="train")


@pytest.fixture
def item(project, tmp_path):
    return _cloud_item(project, tmp_path)


BOX = Cuboid(0.5, -0.25, 0.5, 2.0, 1.0, 1.0, 0.3, "car")


def test_create_list_update_delete_with_complete_history(project, item):
    c = cuboids.create(project, item, BOX, "bob")
    assert c.cuboid == BOX and c.source == "human" and c.annotator == "bob" and not c.deleted
    moved = translate(BOX, dx=1.0)
    cuboids.update(project, c.id, moved, "carol")
    assert [x.cuboid for x in cuboids.list_cuboids(project, item)] == [moved]
    cuboids.delete(project, c.id)  # the project's annotator (alice)
    assert cuboids.list_cuboids(project, item) == []
    gone = cuboids.list_cuboids(project, item, include_deleted=True)
    assert len(gone) == 1 and gone[0].deleted and gone[0].cuboid == moved  # soft delete keeps the row
    h = cuboids.history(project, c.id)
    assert [(e.action, e.annotator) for e in h] == [("create", "bob"), ("update", "carol"), ("delete", "alice")]
    assert (h[0].before, h[0].after) == (None, BOX)
    assert (h[1].before, h[1].after) == (BOX, moved)
    assert (h[2].before, h[2].after) == (moved, None)
    assert all(e.created_at is not None for e in h)
    # the JSON in the table is plain numbers + label
    with project.engine.connect() as conn:
        raw = conn.execute(select(schema.cuboid_edits.c.after).order_by(schema.cuboid_edits.c.id)).scalars().first()
    assert raw == {"cx": 0.5, "cy": -0.25, "cz": 0.5, "length": 2.0, "width": 1.0, "height": 1.0, "yaw": 0.3,
                   "label": "car"}
    assert cuboids.item_history(project, item) == h


def test_commands_undo_restores_and_redo_reapplies(project, item):
    create = cuboids.CreateCuboid(item, BOX, annotator="bob")
    st = create.do(project)
    cid = st.id
    move = cuboids.UpdateCuboid(cid, translate(BOX, dx=0.5, dy=0.5), kind="move")
    move.do(project)
    turn = cuboids.UpdateCuboid(cid, rotate(translate(BOX, dx=0.5, dy=0.5), math.radians(30)), kind="rotate")
    turn.do(project)
    grow = cuboids.UpdateCuboid(cid, resize(turn.new, length=3.0), kind="resize")
    grow.do(project)
    assert cuboids.get(project, cid).cuboid.length == 3.0

    for cmd, expected in ((grow, turn.new), (turn, move.new), (move, BOX)):
        cmd.undo(project)
        assert cuboids.get(project, cid).cuboid == expected
    create.undo(project)
    assert cuboids.list_cuboids(project, item) == []
    create.redo(project)
    assert cuboids.get(project, cid).cuboid == BOX and not cuboids.get(project, cid).deleted
    move.redo(project)
    assert cuboids.get(project, cid).cuboid == move.new
    actions = [e.action for e in cuboids.history(project, cid)]
    assert actions == ["create", "update", "update", "update", "undo", "undo", "undo", "undo", "redo", "redo"]
    # an undo row says what it restored
    undo_rows = [e for e in cuboids.history(project, cid) if e.action == "undo"]
    assert (undo_rows[0].before, undo_rows[0].after) == (grow.new, turn.new)
    assert (undo_rows[-1].before, undo_rows[-1].after) == (BOX, None)  # the create undone

    delete = cuboids.DeleteCuboid(cid)
    delete.do(project)
    assert cuboids.list_cuboids(project, item) == []
    delete.undo(project)
    assert cuboids.get(project, cid).cuboid == move.new
    assert delete.rows[-1].action == "undo" and "Delete" in delete.text() and "Move" in move.text()


def test_command_state_errors(project, item):
    cmd = cuboids.CreateCuboid(item, BOX)
    with pytest.raises(cuboids.CommandStateError):
        cmd.undo(project)
    cmd.apply(project)
    with pytest.raises(cuboids.CommandStateError):
        cmd.do(project)
    with pytest.raises(cuboids.CommandStateError):
        cmd.redo(project)
    cmd.undo(project)
    cmd.apply(project)  # apply after an undo is a redo
    assert cmd.done and [e.action for e in cmd.rows] == ["create", "undo", "redo"]


def test_undo_refused_when_changed_since(project, item):
    st = cuboids.create(project, item, BOX)
    move = cuboids.UpdateCuboid(st.id, translate(BOX, dx=1.0))
    move.do(project)
    cuboids.update(project, st.id, translate(BOX, dx=2.0), "someone else")
    before = db_snapshot(project)
    with pytest.raises(ConflictError):
        move.undo(project)
    assert db_snapshot(project) == before
    assert move.done  # still in effect as far as the command knows: nothing happened


def test_failed_edits_write_nothing(project, item, monkeypatch):
    st = cuboids.create(project, item, BOX)
    before = db_snapshot(project)
    with pytest.raises(ProjectError):
        cuboids.update(project, 9999, BOX)
    with pytest.raises(ProjectError):
        cuboids.create(project, 9999, BOX)
    with pytest.raises(ValueError):
        cuboids.update(project, st.id, Cuboid(0, 0, 0, 1, 1, 1, 0, "x" * 65))
    with pytest.raises(ValueError):  # a bad geometry never reaches the store
        cuboids.UpdateCuboid(st.id, Cuboid(0, 0, 0, -1, 1, 1)).do(project)
    with pytest.raises(ConflictError):
        cuboids.update(project, st.id, BOX, expect=translate(BOX, dx=1))
    assert db_snapshot(project) == before

    # the database fails while writing the history row: the geometry change is rolled back too
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(cuboid_rows, "insert_edit", broken)
    cmd = cuboids.UpdateCuboid(st.id, translate(BOX, dx=3.0))
    with pytest.raises(RuntimeError):
        cmd.do(project)
    with pytest.raises(RuntimeError):
        cuboids.create(project, item, BOX)
    assert db_snapshot(project) == before
    assert not cmd.done and cmd.rows == []

    # deleted cuboids cannot be edited
    monkeypatch.undo()
    cuboids.delete(project, st.id)
    before = db_snapshot(project)
    with pytest.raises(ConflictError):
        cuboids.update(project, st.id, BOX)
    with pytest.raises(ConflictError):
        cuboids.delete(project, st.id)
    assert db_snapshot(project) == before


def test_absorb_merges_a_run_of_nudges(project, item):
    st = cuboids.create(project, item, BOX)
    first = cuboids.UpdateCuboid(st.id, translate(BOX, dx=0.1), kind="move")
    first.do(project)
    second = cuboids.UpdateCuboid(st.id, translate(BOX, dx=0.2), kind="move")
    second.do(project)
    assert first.absorb(project, second)
    assert not first.absorb(project, cuboids.UpdateCuboid(st.id, BOX))  # never done: does not chain
    first.undo(project)
    assert cuboids.get(project, st.id).cuboid == BOX
    first.redo(project)
    assert cuboids.get(project, st.id).cuboid == translate(BOX, dx=0.2)
    assert [e.action for e in cuboids.history(project, st.id)] == ["create", "update", "update", "undo", "redo"]


def test_links_and_link_command(project, item, tmp_path):
    a = cuboids.create(project, item, BOX)
    b = cuboids.create(project, item, translate(BOX, dx=3))
    qid = project.add_question(item, "How many cars are there?", answers=["2"])
    assert cuboids.link(project, qid, [b.id, a.id, a.id]) == [a.id, b.id]
    assert cuboids.linked(project, qid) == [a.id, b.id]
    cuboids.delete(project, b.id)
    assert cuboids.linked(project, qid) == [a.id]
    assert cuboids.linked(project, qid, include_deleted=True) == [a.id, b.id]

    other_item = _cloud_item(project, tmp_path, "other.ply")
    c = cuboids.create(project, other_item, BOX)
    before = db_snapshot(project)
    with pytest.raises(ProjectError):
        cuboids.link(project, qid, [a.id, c.id])  # another item's cuboid
    with pytest.raises(ProjectError):
        cuboids.link(project, qid, [12345])
    with pytest.raises(ProjectError):
        cuboids.link(project, 999, [a.id])
    assert db_snapshot(project) == before

    cmd = cuboids.LinkCuboids(qid, [a.id])
    cmd.do(project)
    assert cuboids.linked(project, qid, include_deleted=True) == [a.id]
    cmd.undo(project)
    assert cuboids.linked(project, qid, include_deleted=True) == [a.id, b.id]
    cmd.redo(project)
    assert cuboids.linked(project, qid, include_deleted=True) == [a.id]


def test_import_ground_truth_and_demo_scene(project, tmp_path):
    from vqa_studio.core.synth import scenes3d

    (path, scene), = scenes3d.write_dataset(tmp_path / "scenes", 1, seed=3, n_points=2000, questions_per_scene=6)
    item_id, qids, stored = cuboids.add_demo_scene(project, path, scene)
    assert [s.cuboid for s in stored] == scene.cuboids
    assert all(s.source == "import" and s.annotator == "import" for s in stored)
    assert all([e.action for e in cuboids.history(project, s.id)] == ["create"] for s in stored)
    assert cuboids.labels(project, item_id) == sorted({o.shape for o in scene.objects})
    # every counting question is linked to as many cuboids as its answer says
    n_counting = 0
    for qa, qid in zip(scene.questions, qids):
        if qa.family in ("count_shape", "count_color"):
            n_counting += 1
            assert len(cuboids.linked(project, qid)) == int(qa.answer), qa.question
        else:
            assert cuboids.linked(project, qid) == []
    assert n_counting > 0
    # adding it again changes nothing
    before = db_snapshot(project)
    assert cuboids.add_demo_scene(project, path, scene)[0] == item_id
    assert db_snapshot(project) == before
    # a re-import with replace swaps the imported boxes (history kept)
    again = cuboids.import_cuboids(project, item_id, scene.cuboids[:1], replace=True)
    assert [s.id for s in cuboids.list_cuboids(project, item_id)] == [again[0].id]
    assert cuboids.history(project, stored[0].id)[-1].action == "delete"
