"""Faults of the machine are messages (exit 2, what to do, nothing lost), never tracebacks: a
database locked by another program past the wait, a full disk."""
from __future__ import annotations

import errno
import sqlite3

import pytest

from vqa_studio import cli
from vqa_studio.core.project import Project

pytestmark = pytest.mark.slow


@pytest.fixture
def imported(tmp_path, vqa_dataset):
    folder = tmp_path / "proj"
    args = ["import", "--project", str(folder), "--format", "vqa_v2", "--questions", str(vqa_dataset["questions"]),
            "--annotations", str(vqa_dataset["annotations"]), "--images", str(vqa_dataset["images"]), "-q"]
    assert cli.main(args) == 0
    return folder, args


def test_a_database_locked_past_the_wait(imported, capsys):
    folder, args = imported
    with Project.open(folder) as p:
        before = p.stats().n_questions
    other = sqlite3.connect(folder / "project.db", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another program holds the write lock (for longer than 10 s)
    try:
        assert cli.main(args + ["--split", "again"]) == 2
    finally:
        other.execute("ROLLBACK")
        other.close()
    err = capsys.readouterr().err
    assert "locked by another program" in err and "Traceback" not in err
    with Project.open(folder) as p:
        assert p.stats().n_questions == before


def test_a_full_disk_during_export(imported, tmp_path, capsys, monkeypatch):
    folder, _ = imported
    from vqa_studio.core.formats import csv_format

    def full(*_a, **_k):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "out" / "questions.csv"))

    monkeypatch.setattr(csv_format, "write", full)
    assert cli.main(["export", "--project", str(folder), "--format", "csv", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "the disk is full" in err and "questions.csv" in err and "Traceback" not in err
