"""Import / export dialogs (a corrupt file is reported, the app keeps running), auto-accept, models."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from tests.conftest import db_snapshot, make_vqa_v2
from tests.qt.conftest import add_model, open_and_wait
from tests.test_cli import _boxes_by_cloud, _cuboid_project
from tests.test_plugins import example_plugin  # noqa: F401 - the example plugin, installed for a test
from vqa_studio.core.project import Project
from vqa_studio.core.types import Status


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


def test_auto_accept_dialog_previews_and_applies(qtbot, window, review_project):
    win = window
    open_and_wait(qtbot, win, review_project)
    win.act_auto.trigger()                                    # Review > Auto-accept...
    dlg = win.auto_accept_widget
    qtbot.waitUntil(lambda: dlg.data is not None, timeout=10000)
    dlg.set_threshold(0.5)
    p = dlg.preview
    assert p.n_pool > 0 and "Would auto-accept" in dlg.count.text()
    assert p.n_val_total > 0 and ("Expected error rate" in dlg.error.text() or p.expected_error is None)
    n = p.n_accept
    with qtbot.waitSignal(dlg.applied, timeout=30000) as sig:
        dlg.apply_button.click()
    assert len(sig.args[0].accepted) == n
    with Project.open(review_project) as proj:
        assert proj.stats().by_status.get(Status.AUTO_ACCEPTED.value) == n
    # still reviewable: the "Auto-accepted" filter lists them
    dlg.close()
    win.queue_dock_widget.set_status_filter("Auto-accepted")
    qtbot.waitUntil(lambda: not win.model.loading and win.model.rowCount() == n, timeout=10000)


def test_models_dialog_rolls_back(qtbot, window, review_project):
    import numpy as np

    with Project.open(review_project) as p:
        qids = p.queue_ids(filters=None, order_by="id")
        add_model(p, "m2", qids, rng=np.random.default_rng(5), parent="m1", metrics={"val_accuracy": 0.6})
    win = window
    open_and_wait(qtbot, win, review_project)
    assert win.controller.version == "m2"
    win.act_models.trigger()
    dlg = win.models_dialog_widget
    assert dlg.table.rowCount() == 2 and dlg.table.item(0, 1).text() == "m2"
    dlg.table.selectRow(1)
    with qtbot.waitSignal(dlg.activated) as sig:
        dlg.make_active.click()
    assert sig.args[0] == "m1"
    qtbot.waitUntil(lambda: win.controller.version == "m1" and not win.model.loading, timeout=10000)
    with Project.open(review_project) as p:
        assert p.active_model == "m1"
    qtbot.waitUntil(lambda: "m1" in win.changes_dock.windowTitle() or win.changes_panel.header.text() != "", timeout=5000)
    dlg.close()


def test_opening_a_folder_that_is_not_a_project(qtbot, window, tmp_path):
    win = window
    (tmp_path / "nothing").mkdir()
    assert not win.open_project(tmp_path / "nothing")
    assert win.project is None and win.isVisible()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "project.db").write_bytes(b"this is not sqlite" * 10)
    assert not win.open_project(tmp_path / "broken")
    assert win.project is None


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


def test_train_dialog_offers_the_registry_encoders(qtbot):
    from vqa_studio.core.registry import default_registry
    from vqa_studio.qt.dialogs.train import TrainDialog

    reg = default_registry()
    reg.add_media_encoder("test_missing_dep", "no_such_module_xyz:enc", modality="image", available=False,
                          error="needs transformers", install="pip install transformers")
    try:
        dlg = TrainDialog(has_model=False)
        qtbot.addWidget(dlg)
        boxes = {arg: box for arg, _, box in dlg.encoders}
        image = boxes["image_encoder"]
        assert [image.itemData(i) for i in range(image.count())] == ["cnn_grid", "mobilenet_grid", "test_missing_dep"]
        missing = image.findData("test_missing_dep")
        assert not image.model().item(missing).isEnabled() and "pip install" in image.itemData(missing, Qt.ToolTipRole)
        assert [boxes["cloud_encoder"].itemData(i) for i in range(boxes["cloud_encoder"].count())] == ["pointnet"]
        assert dlg.params()["image_encoder"] == "cnn_grid" and dlg.params()["cloud_encoder"] == "pointnet"
        image.setCurrentIndex(image.findData("mobilenet_grid"))
        assert dlg.params()["image_encoder"] == "mobilenet_grid"
    finally:
        del reg.media_encoders["test_missing_dep"]
