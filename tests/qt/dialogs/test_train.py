"""The train dialog offers the registry's encoders, a pretrained backbone's weights and a model to
start from."""
from __future__ import annotations

from PySide6.QtCore import Qt


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
        assert [image.itemData(i) for i in range(image.count())] == ["cnn_grid", "mobilenet_grid", "hf",
                                                                   "test_missing_dep"]
        missing = image.findData("test_missing_dep")
        assert not image.model().item(missing).isEnabled() and "pip install" in image.itemData(missing, Qt.ToolTipRole)
        assert [boxes["cloud_encoder"].itemData(i) for i in range(boxes["cloud_encoder"].count())] == ["pointnet"]
        assert dlg.params()["image_encoder"] == "cnn_grid" and dlg.params()["cloud_encoder"] == "pointnet"
        image.setCurrentIndex(image.findData("mobilenet_grid"))
        assert dlg.params()["image_encoder"] == "mobilenet_grid"
    finally:
        del reg.media_encoders["test_missing_dep"]


def test_train_dialog_pretrained_weights_and_init_from(qtbot, tmp_path):
    from vqa_studio.qt.dialogs.train import TrainDialog

    dlg = TrainDialog(has_model=False)
    qtbot.addWidget(dlg)
    image = {arg: box for arg, _, box in dlg.encoders}["image_encoder"]
    assert not dlg.weights_row.isEnabled() and not dlg.unfreeze.isEnabled()
    assert "init_from" not in dlg.params() and "unfreeze" not in dlg.params()
    image.setCurrentIndex(image.findData("hf"))
    assert dlg.weights_row.isEnabled() and dlg.unfreeze.isEnabled()
    assert not dlg.ok_button.isEnabled()  # the weights are not named yet
    dlg.weights.setText(str(tmp_path / "my-vit"))
    dlg.unfreeze.setValue(2)
    dlg.init_from.setText(str(tmp_path / "other.pt"))
    assert dlg.ok_button.isEnabled()
    params = dlg.params()
    assert params["image_encoder"] == f"hf:{tmp_path / 'my-vit'}" and params["unfreeze"] == 2
    assert params["init_from"] == str(tmp_path / "other.pt")
    # what the dialog gives is what the training process takes
    from vqa_studio.core.train.config import TrainingArgs

    args = TrainingArgs.from_dict(params)
    assert args.image_encoder.startswith("hf:") and args.unfreeze == 2 and args.init_from.endswith("other.pt")


def test_train_dialog_offers_vilt(qtbot, tmp_path):
    from vqa_studio.core.train.config import TrainingArgs
    from vqa_studio.qt.dialogs.train import TrainDialog

    dlg = TrainDialog(has_model=False)
    qtbot.addWidget(dlg)
    assert not dlg.vilt_row.isEnabled() and "model" not in dlg.params()
    dlg.kind.setCurrentIndex(dlg.kind.findData("vilt"))
    image = {arg: box for arg, _, box in dlg.encoders}["image_encoder"]
    assert dlg.vilt_row.isEnabled() and not image.isEnabled() and not dlg.ok_button.isEnabled()
    dlg.vilt.setText(str(tmp_path / "vilt-b32"))
    assert dlg.ok_button.isEnabled()
    args = TrainingArgs.from_dict(dlg.params())
    assert args.model == f"vilt:{tmp_path / 'vilt-b32'}"



def test_device_probe_asks_a_spawned_child_and_fills_the_dialog(qtbot):
    """The "Detected" field: a real ``spawn`` child (the way frozen apps start jobs; no ``sys.executable -c``)."""
    import multiprocessing

    from vqa_studio.qt.dialogs.train import DeviceProbe, TrainDialog

    probe = DeviceProbe()
    dlg = TrainDialog(has_model=False, probe=probe)
    qtbot.addWidget(dlg)
    assert dlg.detected.text() == "detecting…" and probe.running
    qtbot.waitUntil(lambda: probe.text != "", timeout=120_000)
    assert probe.text.startswith(("CPU:", "CUDA:")) and "—" in probe.text
    assert dlg.detected.text() == probe.text and not probe.running
    assert multiprocessing.active_children() == []
    again = TrainDialog(has_model=False, probe=probe)            # asked once: the next dialog reads the answer
    qtbot.addWidget(again)
    assert again.detected.text() == probe.text and not probe.running


def test_device_probe_reports_a_failure_and_may_be_asked_again(qtbot):
    import multiprocessing

    from vqa_studio.qt.dialogs.train import DeviceProbe

    probe = DeviceProbe(target="vqa_studio.core.sysinfo:no_such_function")
    with qtbot.waitSignal(probe.detected, timeout=120_000) as sig:
        probe.start()
    assert sig.args[0].startswith("could not detect the device: AttributeError")
    assert probe.text == "" and not probe.running
    probe.target = "os:abort"                                  # the child dies without a word
    with qtbot.waitSignal(probe.detected, timeout=120_000) as sig:
        probe.start()
    assert "ended without an answer (exit code" in sig.args[0]
    assert multiprocessing.active_children() == []


def test_device_probe_stop_ends_the_child(qtbot):
    import multiprocessing

    from vqa_studio.qt.dialogs.train import DeviceProbe

    probe = DeviceProbe(target="tests.qt.dialogs.test_train:_slow_line")
    probe.start()
    assert probe.running
    probe.stop()
    assert not probe.running and multiprocessing.active_children() == []


def _slow_line() -> str:
    import time

    time.sleep(60)
    return "late"
