"""Annotators in separate processes on one project (SQLite file and PostgreSQL server): nothing
acknowledged is lost, the queue never hands one question to two of them, and simultaneous edits of
the same questions end as conflicts that are shown and resolved, never as silent overwrites."""
from __future__ import annotations

import pytest

from tests.core.team_fixtures import drop_pg_database, needs_pg, new_pg_database
from tests.core.team_workload import check, make_project, run_team


@pytest.mark.timeout(300)
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres, needs_pg])])
def test_three_annotator_processes(tmp_path, backend):
    url = new_pg_database() if backend == "postgresql" else None
    try:
        folder = tmp_path / "team"
        hot = make_project(folder, url, n_questions=60, n_hot=2)
        results, _ = run_team(folder, 3, 24, hot, hot_every=3, timeout=240)
        out = check(folder, results)
        assert out["acked"] == 72 and out["lost"] == 0 and out["double_claims"] == 0 and out["problems"] == []
        assert sum(len(r["handed"]) for r in results) == 48  # 16 queue questions each, all different
        assert out["shown"] == out["conflicts"]  # every conflict carried both answers
    finally:
        if url:
            drop_pg_database(url)
