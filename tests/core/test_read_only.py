"""A project whose folder cannot be written opens read-only for viewing: reading, stats, export and
evaluation work; every write is refused with a message, and the database file is left untouched."""
from __future__ import annotations

import hashlib
import os

import pytest

from vqa_studio import cli
from vqa_studio.core.errors import ProjectError
from vqa_studio.core.project import Project


@pytest.fixture
def read_only(tmp_path, vqa_dataset, monkeypatch):
    """The tests run as root, who may write anywhere: the fault is injected as what os.access says."""
    folder = tmp_path / "proj"
    assert cli.main(["import", "--project", str(folder), "--format", "vqa_v2", "--questions",
                     str(vqa_dataset["questions"]), "--annotations", str(vqa_dataset["annotations"]),
                     "--images", str(vqa_dataset["images"]), "-q"]) == 0
    real = os.access

    def access(path, mode, *a, **kw):
        if mode & os.W_OK and str(path).startswith(str(folder)):
            return False
        return real(path, mode, *a, **kw)

    monkeypatch.setattr(os, "access", access)
    return folder


def _digest(folder):
    return hashlib.sha256((folder / "project.db").read_bytes()).hexdigest()


def test_viewing_works_and_writes_are_refused(read_only, tmp_path, capsys):
    before = _digest(read_only)
    with Project.open(read_only) as p:
        assert p.read_only
        st = p.stats()
        qid = p.queue_ids(filters=None, order_by="id")[0]
        with pytest.raises(ProjectError, match="read-only"):
            p.record(qid, "correct", answer="blue")
    assert cli.main(["stats", "--project", str(read_only)]) == 0
    assert f"questions      {st.n_questions}" in capsys.readouterr().out
    assert cli.main(["export", "--project", str(read_only), "--format", "csv", "--out", str(tmp_path / "out")]) == 0
    assert _digest(read_only) == before
    assert not (read_only / "project.db-wal").exists() or (read_only / "project.db-wal").stat().st_size == 0
