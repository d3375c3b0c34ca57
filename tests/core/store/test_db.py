import sqlite3

import pytest
from sqlalchemy import text

from vqa_studio.core.errors import ProjectError, SchemaTooNewError
from vqa_studio.core.project import Project
from vqa_studio.core.store import db


def test_sqlite_pragmas(project):
    with project.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_new_project_is_at_head(project):
    assert db.current_revision(project.engine) == db.head_revision()
    assert project.schema_version == db.head_revision()


def test_foreign_keys_are_enforced(project):
    from sqlalchemy import insert
    from sqlalchemy.exc import IntegrityError

    from vqa_studio.core.store import schema

    with pytest.raises(IntegrityError):
        with project.engine.begin() as conn:
            conn.execute(insert(schema.questions).values(
                item_id=999, text="q", question_type="what", answer_type="other", status="new",
                created_at=db.utcnow(), updated_at=db.utcnow()))


def test_old_project_is_upgraded_and_keeps_its_data(tmp_path):
    folder = tmp_path / "old"
    folder.mkdir()
    engine = db.make_engine(db.sqlite_url(folder / "project.db"))
    db.upgrade(engine, "0001")  # a project as the first release wrote it
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO project_info (key, value) VALUES ('name', 'old one')"))
        conn.execute(text("INSERT INTO items (id, kind, uri, split, created_at) VALUES (1, 'image', 'a.png', 'train', '2025-01-01 00:00:00')"))
        conn.execute(text("INSERT INTO questions (id, item_id, text, question_type, answer_type, status, answer, created_at, updated_at) "
                          "VALUES (1, 1, 'Is it red?', 'is it', 'yes/no', 'labelled', 'yes', '2025-01-01 00:00:00', '2025-01-01 00:00:00')"))
    engine.dispose()
    assert "predictions" not in _tables(folder / "project.db")

    p = Project.open(folder)
    try:
        assert p.schema_version == db.head_revision()
        assert {"predictions", "models", "cuboids"} <= _tables(folder / "project.db")
        assert p.name == "old one"
        q = p.question(1)
        assert (q.text, q.answer) == ("Is it red?", "yes")
        backups = list((folder / "backups").glob("project-schema0001-*.db"))
        assert len(backups) == 1  # the database as it was, kept before the upgrade
        assert "predictions" not in _tables(backups[0])
        c = p.record(1, "correct", "no")  # and the upgraded project works
        assert p.question(1).answer == "no" and c.before_answer == "yes"
    finally:
        p.close()


def test_newer_project_is_refused_and_left_alone(project):
    folder = project.folder
    project.close()
    with sqlite3.connect(folder / "project.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    before = (folder / "project.db").read_bytes()
    with pytest.raises(SchemaTooNewError) as err:
        Project.open(folder)
    assert "newer VQA Studio" in str(err.value) and "9999" in str(err.value)
    assert (folder / "project.db").read_bytes() == before


def test_a_database_that_is_not_a_project_is_refused(tmp_path):
    folder = tmp_path / "other"
    folder.mkdir()
    with sqlite3.connect(folder / "project.db") as conn:
        conn.execute("CREATE TABLE customers (id INTEGER)")
    with pytest.raises(ProjectError, match="not a VQA Studio project"):
        Project.open(folder)


def test_open_missing_project(tmp_path):
    with pytest.raises(ProjectError, match="no such folder"):
        Project.open(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ProjectError, match="not a VQA Studio project"):
        Project.open(tmp_path / "empty")


def test_create_refuses_to_overwrite(project):
    with pytest.raises(ProjectError, match="already exists"):
        Project.create(project.folder)


def _tables(path):
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
