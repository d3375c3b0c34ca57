"""A correction made while another program holds the write lock for longer than the 10 s busy
timeout (a long import) waits and is stored when the lock frees: never refused, never lost."""
from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from vqa_studio import cli
from vqa_studio.core.project import Project

pytestmark = pytest.mark.slow


def test_a_correction_waits_for_a_long_held_lock(tmp_path, vqa_dataset):
    folder = tmp_path / "proj"
    assert cli.main(["import", "--project", str(folder), "--format", "vqa_v2", "--questions",
                     str(vqa_dataset["questions"]), "--annotations", str(vqa_dataset["annotations"]),
                     "--images", str(vqa_dataset["images"]), "-q"]) == 0
    other = sqlite3.connect(folder / "project.db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # the write lock, held for 12 s: past the 10 s busy timeout
    release = threading.Timer(12.0, lambda: other.execute("COMMIT"))
    release.start()
    try:
        with Project.open(folder) as p:
            qid = p.queue_ids(filters=None, order_by="id")[0]
            t0 = time.monotonic()
            c = p.record(qid, "correct", answer="waited")
            waited = time.monotonic() - t0
            assert c.after_answer == "waited" and p.history(qid)[-1].after_answer == "waited"
        assert waited > 11.0  # it waited for the lock instead of failing at 10 s
    finally:
        release.join()
        other.close()
