"""``vqa-studio migrate`` (SQLite -> PostgreSQL -> SQLite, with history, models, predictions and
cuboids, counts verified), ``team-stats`` and ``gui --db``'s connection step, on a real server."""
from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import db_snapshot
from tests.core.team_fixtures import filled, needs_pg, pg_url  # noqa: F401 - fixture
from vqa_studio.cli import main
from vqa_studio.core import cuboids
from vqa_studio.core.geometry import Cuboid
from vqa_studio.core.project import Project
from vqa_studio.core.store import model_rows, predictions
from vqa_studio.core.store.codec import encode_array
from vqa_studio.core.types import Action


def _rich_project(folder):
    """A project with every kind of row: history (with an undo), a model and its file, predictions with
    scores and an attention array, a cuboid with its edits and a link."""
    p = filled(folder)
    ids = p.queue_ids(order_by="id")
    c = p.record(ids[0], Action.CORRECT, "red", annotator="alice")
    p.record(ids[0], Action.CORRECT, "blue", annotator="bob")
    p.undo(c.id + 1, annotator="bob")
    p.record(ids[1], Action.FLAG, note="blurry", annotator="bob")
    (p.models_dir / "v1.pt").write_bytes(b"model weights stand-in")
    with p.writer.begin() as conn:
        model_rows.insert_model(conn, version="v1", parent=None, path="models/v1.pt", arch="vqanet",
                                metrics={"acc": 0.5}, config={}, snapshot={}, run_id=None)
        att = encode_array(np.arange(8, dtype=np.float16).reshape(2, 4))
        predictions.replace_predictions(
            conn, "v1",
            [{"question_id": q, "model_version": "v1", "answers": ["red", "blue"], "probs": [0.6, 0.4],
              "scores": {"entropy": 0.67}, "attention": att} for q in ids[:4]],
            [{"model_version": "v1", "method": "entropy", "question_id": q, "value": 0.1 * k}
             for k, q in enumerate(ids[:4])])
    p.activate_model("v1")
    item = p.question(ids[2]).item_id
    box = cuboids.create(p, item, Cuboid(1.0, 2.0, 0.5, 4.0, 2.0, 1.5, 0.3, "car"), annotator="alice")
    cuboids.update(p, box.id, Cuboid(1.5, 2.0, 0.5, 4.0, 2.0, 1.5, 0.3, "car"), annotator="bob")
    cuboids.link(p, ids[2], [box.id])
    p.team("carol", lease_s=60).claim_next(2)  # leases are not data: not copied
    return p, ids


def _rows(project):
    snap = db_snapshot(project)
    snap.pop("claims")
    return snap


@needs_pg
@pytest.mark.postgres
def test_migrate_round_trip_sqlite_postgres_sqlite(tmp_path, pg_url, capsys):  # noqa: F811 - fixture
    src, ids = _rich_project(tmp_path / "local")
    before = _rows(src)
    src.close()
    assert main(["migrate", "-q", "--from", str(tmp_path / "local"), "--to", pg_url,
                 "--folder", str(tmp_path / "team")]) == 0
    out = capsys.readouterr().out
    assert "corrections: 4 -> 4" in out and "predictions: 4 -> 4" in out and "cuboid_edits: 2 -> 2" in out
    assert "verified: every table has the same number of rows" in out and "files copied: 1" in out
    team = Project.open(tmp_path / "team")
    try:
        assert team.engine.dialect.name == "postgresql"
        assert _rows(team) == before  # every row, ids and all
        assert team.active_model == "v1" and (team.models_dir / "v1.pt").read_bytes() == b"model weights stand-in"
        assert team.verify_history() == []
        # the ids go on after the copied ones: new rows do not collide
        row = team.record(ids[3], Action.CORRECT, "green", annotator="dave")
        assert row.id == 5
        after_team = _rows(team)
    finally:
        team.close()
    assert main(["migrate", "-q", "--from", str(tmp_path / "team"), "--to", str(tmp_path / "back")]) == 0
    back = Project.open(tmp_path / "back")
    try:
        assert back.engine.dialect.name == "sqlite" and _rows(back) == after_team
        assert back.prediction(ids[0]).attention is not None and cuboids.linked(back, ids[2])
    finally:
        back.close()


def test_migrate_refuses_an_existing_destination_and_missing_folder(tmp_path, capsys):
    src, _ = _rich_project(tmp_path / "a")
    src.close()
    Project.create(tmp_path / "b").close()
    assert main(["migrate", "--from", str(tmp_path / "a"), "--to", str(tmp_path / "b")]) == 2
    assert "a project already exists here" in capsys.readouterr().err
    assert main(["migrate", "--from", str(tmp_path / "a"), "--to", "postgresql://nobody@localhost:1/x"]) == 2
    assert "needs --folder" in capsys.readouterr().err
    assert main(["migrate", "--from", str(tmp_path / "nothing"), "--to", str(tmp_path / "c")]) == 2
    assert "not a VQA Studio project" in capsys.readouterr().err


def test_migrate_sqlite_to_sqlite_verifies_counts(tmp_path, capsys):
    src, _ = _rich_project(tmp_path / "a")
    before = _rows(src)
    src.close()
    assert main(["migrate", "-q", "--from", str(tmp_path / "a"), "--to", str(tmp_path / "copy")]) == 0
    assert "questions: 18 -> 18" in capsys.readouterr().out
    with Project.open(tmp_path / "copy") as p:
        assert _rows(p) == before


def test_migrate_reports_a_mismatch_with_exit_2(tmp_path, capsys, monkeypatch):
    from vqa_studio.core.store import transfer

    src, _ = _rich_project(tmp_path / "a")
    src.close()
    real = transfer.copy_table

    def lossy(a, b, table, chunk=2000):  # a copy that drops the history: the check must catch it
        if table.name == "corrections":
            return iter(())
        return real(a, b, table, chunk)

    monkeypatch.setattr(transfer, "copy_table", lossy)
    assert main(["migrate", "-q", "--from", str(tmp_path / "a"), "--to", str(tmp_path / "copy")]) == 2
    out = capsys.readouterr().out
    assert "corrections: 4 -> 0  MISMATCH" in out and "MISMATCH in corrections" in out


def test_team_stats_command(tmp_path, capsys):
    p = filled(tmp_path / "p")
    ids = p.queue_ids(order_by="id")
    for who, ans in (("A", "red"), ("B", "red"), ("C", "blue")):
        p.record(ids[0], Action.CORRECT, ans, annotator=who)
    p.close()
    assert main(["team-stats", "--project", str(tmp_path / "p")]) == 0
    out = capsys.readouterr().out
    assert "questions answered: 1 (by two or more annotators: 1)" in out
    assert "vqa soft score between annotators: 0.2222" in out  # (1/3 + 1/3 + 0) / 3
    with pytest.raises(SystemExit) as exit_:
        main(["team-stats"])
    assert exit_.value.code == 2 and "give either --project DIR or --db URL" in capsys.readouterr().err
    assert main(["team-stats", "--db", "nosuchdialect://x/y"]) == 2
    assert "not a usable database URL" in capsys.readouterr().err


@needs_pg
@pytest.mark.postgres
def test_team_stats_and_gui_connect_by_url(tmp_path, pg_url, capsys):  # noqa: F811 - fixture
    from vqa_studio.cli_team import team_folder_for

    Project.create(tmp_path / "team", url=pg_url).close()
    assert main(["team-stats", "--db", pg_url, "--folder", str(tmp_path / "mine")]) == 0
    assert "annotators: 0" in capsys.readouterr().out
    assert (tmp_path / "mine" / "project.json").exists()
    assert team_folder_for(pg_url, str(tmp_path / "mine")) == (tmp_path / "mine").resolve()
    bad = pg_url.rsplit("/", 1)[0] + "/no_such_database"
    assert main(["team-stats", "--db", bad, "--folder", str(tmp_path / "x")]) == 2
    assert "cannot use the database server" in capsys.readouterr().err


def test_a_cancelled_migrate_leaves_no_half_project(tmp_path):
    from vqa_studio.core.team_migrate import migrate

    src, _ = _rich_project(tmp_path / "a")
    src.close()
    gen = migrate(str(tmp_path / "a"), str(tmp_path / "copy"))
    next(gen)
    next(gen)  # part of the rows are copied
    gen.close()  # cancel
    assert not (tmp_path / "copy").exists()
    with Project.open(tmp_path / "a") as p:  # the source is as it was
        assert len(p.queue_ids(order_by="id")) == 18


@needs_pg
@pytest.mark.postgres
def test_migrate_from_a_bare_url_copies_the_rows_and_names_the_missing_model_files(tmp_path, pg_url, capsys):  # noqa: F811
    src, _ = _rich_project(tmp_path / "local")
    before = _rows(src)
    src.close()
    assert main(["migrate", "-q", "--from", str(tmp_path / "local"), "--to", pg_url, "--folder", str(tmp_path / "t")]) == 0
    capsys.readouterr()
    # only the database is known: every row comes, the model file cannot, and the check says so
    assert main(["migrate", "-q", "--from", pg_url, "--to", str(tmp_path / "back")]) == 2
    out = capsys.readouterr().out
    assert "model files missing at the destination: models/v1.pt" in out and "MISMATCH" not in out
    with Project.open(tmp_path / "back") as p:
        assert _rows(p) == before
    # a second copy into the same server database is refused: it is not empty
    assert main(["migrate", "-q", "--from", str(tmp_path / "local"), "--to", pg_url, "--folder", str(tmp_path / "u")]) == 2
    assert "not empty" in capsys.readouterr().err and not (tmp_path / "u").exists()


def test_claims_command_lists_sets_the_lease_and_releases(tmp_path, capsys):
    p = filled(tmp_path / "p")
    got = p.team("bob", lease_s=600).claim_next(2)
    p.close()
    assert main(["claims", "--project", str(tmp_path / "p"), "--lease-minutes", "2.5"]) == 0
    out = capsys.readouterr().out
    assert "lease: 2.5 minutes; live claims: 2" in out and f"question {got[0]}: bob until" in out
    assert main(["claims", "--project", str(tmp_path / "p"), "--release", "bob"]) == 0
    out = capsys.readouterr().out
    assert "released 2 claims of bob" in out and "live claims: 0" in out
    with Project.open(tmp_path / "p") as q:
        assert q.team().lease_s == 150.0
    with pytest.raises(SystemExit):
        main(["claims", "--project", str(tmp_path / "p"), "--lease-minutes", "0"])
