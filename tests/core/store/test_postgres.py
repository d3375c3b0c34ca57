"""The same store code on a real PostgreSQL server (the team setup). Skipped when no server is given
(``VQA_STUDIO_TEST_PG_URL``; scripts/run-tests.sh starts one when PostgreSQL is installed)."""
import os
import uuid

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import make_vqa_v2
from vqa_studio.core.errors import SchemaTooNewError
from vqa_studio.core.formats import vqa_v2
from vqa_studio.core.project import Project
from vqa_studio.core.types import Action, QueueFilter, Status

BASE = os.environ.get("VQA_STUDIO_TEST_PG_URL")
pytestmark = [pytest.mark.postgres, pytest.mark.skipif(not BASE, reason="no PostgreSQL server (VQA_STUDIO_TEST_PG_URL)")]


@pytest.fixture
def pg_url():
    name = f"vqa_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(BASE, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = BASE.rsplit("/", 1)[0] + "/" + name
    yield url
    with admin.connect() as conn:
        conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def test_project_on_postgres(pg_url, tmp_path):
    files = make_vqa_v2(tmp_path / "data")
    p = Project.create(tmp_path / "team", name="team", url=pg_url)
    try:
        assert p.engine.dialect.name == "postgresql"
        rep = Project.run(p.import_records(vqa_v2.read(files["questions"], files["annotations"], files["images"])))
        assert rep.questions_added == 18 and rep.items_added == 6  # the RETURNING path of bulk inserts
        ids = p.queue_ids(order_by="id")
        c = p.record(ids[0], Action.CORRECT, "green", annotator="ann1")
        p.record(ids[1], Action.FLAG, note="blurry", annotator="ann2")
        u = p.undo(c.id, annotator="ann1")
        p.redo(u.id, annotator="ann1")
        assert p.question(ids[0]).answer == "green" and p.verify_history() == []
        assert p.queue_ids(filters=QueueFilter(statuses=[Status.FLAGGED])) == [ids[1]]
        assert p.stats().annotators == {"ann1": 3, "ann2": 1}
        rows = list(p.export_rows())
        assert len(rows) == 18 and rows[0].human_answers == [("ann1", "green")]
    finally:
        p.close()
    # a second annotator opens the same team project through its project.json
    q = Project.open(tmp_path / "team")
    try:
        assert q.engine.dialect.name == "postgresql" and q.question(ids[0]).answer == "green"
    finally:
        q.close()


def test_newer_schema_refused_on_postgres(pg_url, tmp_path):
    Project.create(tmp_path / "team", url=pg_url).close()
    eng = create_engine(pg_url)
    with eng.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    eng.dispose()
    with pytest.raises(SchemaTooNewError):
        Project.open(tmp_path / "team")
