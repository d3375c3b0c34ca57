"""Opening a folder that is not a project (or a broken one) is a message; the window stays."""
from __future__ import annotations


def test_opening_a_folder_that_is_not_a_project(qtbot, window, tmp_path):
    win = window
    (tmp_path / "nothing").mkdir()
    assert not win.open_project(tmp_path / "nothing")
    assert win.project is None and win.isVisible()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "project.db").write_bytes(b"this is not sqlite" * 10)
    assert not win.open_project(tmp_path / "broken")
    assert win.project is None
