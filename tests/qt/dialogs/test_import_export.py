"""Import / export dialogs: a corrupt file is reported and the app keeps running, cancel rolls
back, the formats come from the registry (a plugin's and the cuboid formats too)."""
from __future__ import annotations

from pathlib import Path

from tests.conftest import db_snapshot, make_vqa_v2
from tests.qt.conftest import open_and_wait
from tests.test_cli import _boxes_by_cloud, _cuboid_project
from tests.test_plugins import example_plugin  # noqa: F401 - the example plugin, installed for a test
from vqa_studio.core.project import Project


def _run_import(qtbot, dlg):
    dlg.go.click()
    qtbot.waitUntil(lambda: not dlg.running, timeout=30000)


def test_import_dialog_reports_a_corrupt_file(qtbot, window, review_project, tmp_path):
    win = window
    open_and_wait(qtbot, win, review_project)
    data = make_vqa_v2(tmp_path / "vqa")
    text = data["questions"].read_text()
    data["questions"].write_text(text[: len(text) // 2])  # cut short
    with Project.open(review_project) as p:
        before = db_snapshot(p)
    win.act_import.trigger()                                  # File > Import...
    dlg = win.import_dialog_widget
    dlg.set_format("vqa_v2")
    dlg.set_field("questions", data["questions"])
    dlg.set_field("annotations", data["annotations"])
    dlg.set_field("images", data["images"])
    _run_import(qtbot, dlg)
    msg = dlg.status.text()
    assert data["questions"].name in msg and "truncated JSON" in msg and "left as it was" in msg
    assert dlg.isVisible() and win.isVisible()                # no crash, the dialog stays for another try
    # a corrupt image names the image
    data["questions"].write_text(text)
    bad = sorted(Path(data["images"]).glob("*.png"))[2]
    bad.write_bytes(bad.read_bytes()[:40])
    _run_import(qtbot, dlg)
    assert bad.name in dlg.status.text() and "PNG" in dlg.status.text()
    with Project.open(review_project) as p:
        assert db_snapshot(p) == before                        # nothing stored changed
    # with skip-bad the rest comes in, and the queue shows it
    dlg.skip_bad.setChecked(True)
    with qtbot.waitSignal(dlg.imported, timeout=30000) as sig:
        dlg.go.click()
    report = sig.args[0]
    assert report.questions_added == 15 and len(report.skipped) == 3
    qtbot.waitUntil(lambda: not win.model.loading)
    dlg.close()


def test_import_cancel_rolls_back(qtbot, window, review_project, tmp_path):
    win = window
    open_and_wait(qtbot, win, review_project)
    data = make_vqa_v2(tmp_path / "vqa", n_images=30)
    with Project.open(review_project) as p:
        before = db_snapshot(p)
    dlg = win.import_dialog()
    dlg.set_format("vqa_v2")
    for k in ("questions", "annotations", "images"):
        dlg.set_field(k, data[k])
    dlg.start()
    dlg._cancel_or_close()                                    # Cancel at once
    qtbot.waitUntil(lambda: not dlg.running, timeout=30000)
    assert "Cancelled" in dlg.status.text() or dlg.result_value is not None
    if dlg.result_value is None:
        with Project.open(review_project) as p:
            assert db_snapshot(p) == before
    dlg.close()


def test_export_dialog(qtbot, window, review_project, tmp_path):
    win = window
    open_and_wait(qtbot, win, review_project)
    dlg = win.export_dialog()
    dlg.format.setCurrentIndex(dlg.format.findData("csv"))
    dlg.out.setText(str(tmp_path / "out"))
    dlg.go.click()
    qtbot.waitUntil(lambda: not dlg.running, timeout=30000)
    assert (tmp_path / "out" / "questions.csv").exists() and "Exported 1 files" in dlg.status.text()
    dlg.close()


def test_dialogs_list_the_registry_formats_and_the_queue_a_plugin_method(qtbot, window, review_project,
                                                                        example_plugin):  # noqa: F811
    from vqa_studio import plugins

    plugins.load_plugins()                                    # what run_gui does at start
    win = window
    open_and_wait(qtbot, win, review_project)
    win.act_import.trigger()                                  # File > Import...
    dlg = win.import_dialog_widget
    names = [dlg.format.itemData(i) for i in range(dlg.format.count())]
    assert names == ["vqa_v2", "clevr", "csv", "folder", "kitti", "datumaro", "labelcloud", "jsonl"]
    dlg.set_format("kitti")
    shown = {k for k, w in dlg.fields.items() if dlg.form.isRowVisible(w)}
    assert shown == {"input", "images", "split"}
    dlg.set_format("vqa_v2")
    assert {k for k, w in dlg.fields.items() if dlg.form.isRowVisible(w)} == {
        "questions", "annotations", "images", "image_pattern", "split"}
    dlg.close()
    exp = win.export_dialog()                                 # File > Export...
    assert [exp.format.itemData(i) for i in range(exp.format.count())] == names
    exp.close()
    # the plugin's acquisition function is one of the queue's sort methods
    sort = win.queue_dock_widget.sort
    qtbot.waitUntil(lambda: sort.findData("prob_variance") >= 0, timeout=10000)
    assert sort.findData("entropy") < sort.findData("prob_variance") < sort.findData("id")


def test_cuboid_formats_through_the_export_and_import_dialogs(qtbot, tmp_path):
    from vqa_studio.qt.dialogs.import_export import ExportDialog, ImportDialog

    want = _cuboid_project(tmp_path / "p", tmp_path)
    with Project.open(tmp_path / "p") as p:
        dlg = ExportDialog(p)
        qtbot.addWidget(dlg)
        dlg.format.setCurrentIndex(dlg.format.findData("labelcloud"))
        dlg.out.setText(str(tmp_path / "out"))
        dlg.go.click()
        qtbot.waitUntil(lambda: not dlg.running, timeout=30000)
        assert "Exported 4 files" in dlg.status.text(), dlg.status.text()  # 2 label files + 2 clouds
    with Project.open(tmp_path / "fresh", create=True) as p:
        dlg = ImportDialog(p)
        qtbot.addWidget(dlg)
        dlg.set_format("labelcloud")
        dlg.set_field("input", tmp_path / "out")
        with qtbot.waitSignal(dlg.imported, timeout=30000) as sig:
            dlg.go.click()
        qtbot.waitUntil(lambda: not dlg.running, timeout=30000)
        assert sig.args[0].cuboids == 3 and "imported 3 cuboids on 2 point clouds" in dlg.status.text()
    got = _boxes_by_cloud(tmp_path / "fresh")
    assert {n: len(b) for n, (_, b) in got.items()} == {n: len(b) for n, b in want.items()}
