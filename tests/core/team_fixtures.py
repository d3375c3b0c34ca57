"""Projects for the team tests: a SQLite folder, and a fresh database on the real PostgreSQL server
named by ``VQA_STUDIO_TEST_PG_URL`` (scripts/run-tests.sh starts one when PostgreSQL is installed)."""
from __future__ import annotations

import os
import uuid

import pytest

from tests.conftest import make_vqa_v2

PG_BASE = os.environ.get("VQA_STUDIO_TEST_PG_URL")
needs_pg = pytest.mark.skipif(not PG_BASE, reason="no PostgreSQL server (VQA_STUDIO_TEST_PG_URL)")


def new_pg_database() -> str:
    from sqlalchemy import create_engine, text

    name = f"vqa_team_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_BASE, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_BASE.rsplit("/", 1)[0] + "/" + name


def drop_pg_database(url: str) -> None:
    from sqlalchemy import create_engine, text

    name = url.rsplit("/", 1)[1]
    admin = create_engine(PG_BASE, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture
def pg_url():
    if not PG_BASE:
        pytest.skip("no PostgreSQL server (VQA_STUDIO_TEST_PG_URL)")
    url = new_pg_database()
    yield url
    drop_pg_database(url)


def filled(folder, url=None, n_images=6, per_image=3):
    """A project with imported VQA v2 questions (18 by default), answers removed so all are to review."""
    from vqa_studio.core.formats import vqa_v2
    from vqa_studio.core.project import Project

    files = make_vqa_v2(folder.parent / (folder.name + "-data"), n_images=n_images, per_image=per_image,
                        with_annotations=False)
    p = Project.create(folder, name="team", url=url)
    Project.run(p.import_records(vqa_v2.read(files["questions"], None, files["images"])))
    p.annotator = "alice"
    return p


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres, needs_pg])])
def team_project(request, tmp_path):
    """The same filled project on SQLite and on PostgreSQL."""
    url = new_pg_database() if request.param == "postgresql" else None
    p = filled(tmp_path / "team", url)
    yield p
    p.close()
    if url:
        drop_pg_database(url)
