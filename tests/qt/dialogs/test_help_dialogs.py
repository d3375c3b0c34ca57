"""Help ▸ About (what `vqa-studio info` prints) and Help ▸ Plugins (versions, what each adds, errors)."""
from __future__ import annotations

import platform
from importlib import metadata

import PySide6

from vqa_studio import __version__
from vqa_studio.core.registry import Registry
from vqa_studio.core.sysinfo import LABELS
from vqa_studio.plugins import PluginInfo, load_plugins


def test_about_shows_the_info_report_and_the_device_from_a_child_process(qtbot, window):
    from vqa_studio.qt.dialogs.train import DeviceProbe

    win = window
    win.device_probe = DeviceProbe(win, target="platform:machine")  # a real child, a quick answer
    win.act_about.trigger()
    dlg = win.about_dialog
    qtbot.waitUntil(dlg.isVisible)
    text = dlg.text.toPlainText()
    for label, value in ((LABELS["app"], __version__), (LABELS["python"], platform.python_version()),
                         (LABELS["qt"], PySide6.__version__), (LABELS["torch"], metadata.version("torch"))):
        line = next(ln for ln in text.splitlines() if ln.startswith(label))
        assert value in line, (label, line)
    assert "Log folder" in text and "Data folder" in text
    qtbot.waitUntil(lambda: "detecting" not in dlg.text.toPlainText(), timeout=30000)
    device = next(ln for ln in dlg.text.toPlainText().splitlines() if ln.startswith(LABELS["device"]))
    assert device.split()[-1] == platform.machine()
    assert dlg.report() == dlg.text.toPlainText()
    dlg.copy_button.click()
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.clipboard().text() == dlg.report()
    dlg.close()


def _register_good(registry) -> None:
    registry.add_acquisition("plug_random", "random:random")


def test_plugins_lists_versions_what_each_adds_and_errors(qtbot):
    from vqa_studio.qt.dialogs.plugins_dialog import PluginsDialog

    reg = Registry()
    plugins = [PluginInfo("good", f"{__name__}:_register_good", dist="pytest"),
               PluginInfo("broken", "no_such_module_anywhere:register", dist="vqa-studio-broken")]
    load_plugins(reg, plugins)
    dlg = PluginsDialog(reg)
    qtbot.addWidget(dlg)
    rows = {r[0]: r for r in dlg.row_texts()}
    assert rows["good"][1:4] == ["pytest", metadata.version("pytest"), "loaded"]
    assert rows["good"][4] == "acquisition plug_random"
    assert rows["broken"][2] == "" and rows["broken"][3].startswith("FAILED: ModuleNotFoundError")
    assert "no_such_module_anywhere" in rows["broken"][3] and rows["broken"][4] == "—"


def test_help_plugins_in_the_window_lists_the_installed_ones(qtbot, window, monkeypatch):
    import vqa_studio.plugins as plugins_module

    fresh = Registry()  # the installed plugins, discovered for real, into a registry of this test's own
    monkeypatch.setattr(plugins_module, "default_registry", lambda: fresh)
    window.act_plugins.trigger()
    dlg = window.plugins_dialog
    qtbot.waitUntil(dlg.isVisible)
    rows = dlg.row_texts()
    assert [r[0] for r in rows] == [p.name for p in plugins_module.discover()]
    assert [r[0] for r in rows] == [p.name for p in fresh.plugins]
    for row, info in zip(rows, fresh.plugins):
        assert row[2] == plugins_module.plugin_version(info) and (row[3] == "loaded") == info.loaded
    dlg.close()
