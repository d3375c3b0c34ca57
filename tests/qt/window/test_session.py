"""The project session: what is read about a project when it opens."""
from __future__ import annotations

from tests.qt.conftest import open_and_wait


def test_the_sort_list_is_every_registered_acquisition_function(qtbot, window, review_project, monkeypatch):
    from vqa_studio.core.builtins import ACQUISITION_NAMES
    from vqa_studio.core.registry import default_registry

    reg = default_registry()
    monkeypatch.setattr(reg, "acquisitions", dict(reg.acquisitions))  # restored after the test
    reg.add_acquisition("max_var_test", "numpy:var")                  # as a plugin registers one
    win = window
    open_and_wait(qtbot, win, review_project)
    sort = win.queue_dock_widget.sort
    qtbot.waitUntil(lambda: sort.findData("max_var_test") >= 0, timeout=10000)
    listed = [sort.itemData(i) for i in range(sort.count())]
    assert listed == [*reg.acquisitions, "id"]                         # the registry's order, then id order
    assert listed[:len(ACQUISITION_NAMES)] == list(ACQUISITION_NAMES)  # built-ins first, installed plugins' after
    assert sort.currentData() == "entropy"                            # the project's method, scored by m1
    menu = [a.text() for a in win.method_menu.actions()]
    assert menu == [m.replace("_", " ") for m in listed[:-1]]
    checked = [a.text() for a in win.method_menu.actions() if a.isChecked()]
    assert checked == ["entropy"]
