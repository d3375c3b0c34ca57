"""The app's log: a rotating file in the per-user log folder; exceptions written with their traceback."""
from __future__ import annotations

import logging
import sys

import pytest

from vqa_studio.core import logs


@pytest.fixture
def clean_log():
    yield
    logs.close_logging()


def test_the_log_goes_to_the_user_log_folder_and_rotates(tmp_path, monkeypatch, clean_log):
    monkeypatch.setenv("VQA_STUDIO_HOME", str(tmp_path / "home"))
    path = logs.setup_logging(max_bytes=2_000, backups=2)
    assert path == tmp_path / "home" / "logs" / "vqa-studio.log" and logs.current_log_file() == path
    assert logs.setup_logging(max_bytes=2_000, backups=2) == path        # idempotent: one handler
    assert sum(getattr(h, "vqa_studio", False) for h in logging.getLogger("vqa_studio").handlers) == 1
    log = logging.getLogger("vqa_studio.gui")
    for i in range(100):
        log.info("line %d %s", i, "x" * 40)
    files = sorted(p.name for p in path.parent.iterdir())
    assert files == ["vqa-studio.log", "vqa-studio.log.1", "vqa-studio.log.2"]   # rotated, 2 kept
    assert path.stat().st_size <= 2_000 and "line 99" in path.read_text()


def test_an_exception_is_logged_with_its_traceback(tmp_path, clean_log):
    path = logs.setup_logging(tmp_path)
    try:
        {}["missing"]
    except KeyError:
        text = logs.log_exception(*sys.exc_info(), where="in a slot")
    assert "KeyError" in text and "Traceback" in text
    written = path.read_text()
    assert "ERROR" in written and "in a slot" in written and "{}[\"missing\"]" in written


def test_an_unwritable_folder_means_no_log_not_a_crash(tmp_path, capsys, clean_log):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert logs.setup_logging(blocker / "logs") is None
    assert "cannot write the log" in capsys.readouterr().err and logs.current_log_file() is None
