"""Kill test: a child records corrections through the review commands and is SIGKILLed at random
moments; every correction it acknowledged is in the history afterwards, and the database is whole.
``KILL_TRIALS`` trials here (benchmarks/bench_reliability.py runs more)."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import make_vqa_v2
from vqa_studio import cli
from vqa_studio.core.project import Project

KILL_TRIALS = 50
ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")]


def kill_trial(folder: Path, start: int, rng: random.Random) -> tuple[set[int], float]:
    """Start the child, let it record for a random while, SIGKILL it; the acknowledged numbers."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    child = subprocess.Popen([sys.executable, "-m", "tests.reliability.kill_child", str(folder), str(start)],
                             stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    acked: set[int] = set()
    ready = threading.Event()

    def read() -> None:
        for line in child.stdout:
            line = line.strip()
            if line == "ready":
                ready.set()
            elif line.isdigit():
                acked.add(int(line))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    ready.wait(60)
    wait = rng.uniform(0.0, 0.4)
    time.sleep(wait)
    child.send_signal(signal.SIGKILL)
    child.wait(30)
    reader.join(10)
    return acked, wait


def lost_rows(folder: Path, acked: set[int]) -> list[int]:
    with Project.open(folder) as p:
        with p.engine.connect() as conn:  # the test reads the file as it is; Project offers no raw SQL
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        ids = p.queue_ids(filters=None, order_by="id")
        stored = {c.after_answer for q in ids for c in p.history(q)}
    return sorted(n for n in acked if f"k{n}" not in stored)


def make_project(tmp_path: Path) -> Path:
    data = make_vqa_v2(tmp_path, n_images=6, per_image=3)
    folder = tmp_path / "proj"
    assert cli.main(["import", "--project", str(folder), "--format", "vqa_v2", "--questions", str(data["questions"]),
                     "--annotations", str(data["annotations"]), "--images", str(data["images"]), "-q"]) == 0
    return folder


def test_no_acknowledged_correction_is_lost_when_killed(tmp_path):
    folder = make_project(tmp_path)
    rng = random.Random(2026)
    total, start, lost = 0, 0, []
    for _ in range(KILL_TRIALS):
        acked, _ = kill_trial(folder, start, rng)
        lost += lost_rows(folder, acked)
        total += len(acked)
        start += 10_000  # each trial's corrections are its own
    assert lost == [] and total > KILL_TRIALS  # most trials acknowledged something before the kill
