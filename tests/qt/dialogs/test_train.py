"""The train dialog offers the registry's encoders."""
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
        assert [image.itemData(i) for i in range(image.count())] == ["cnn_grid", "mobilenet_grid", "test_missing_dep"]
        missing = image.findData("test_missing_dep")
        assert not image.model().item(missing).isEnabled() and "pip install" in image.itemData(missing, Qt.ToolTipRole)
        assert [boxes["cloud_encoder"].itemData(i) for i in range(boxes["cloud_encoder"].count())] == ["pointnet"]
        assert dlg.params()["image_encoder"] == "cnn_grid" and dlg.params()["cloud_encoder"] == "pointnet"
        image.setCurrentIndex(image.findData("mobilenet_grid"))
        assert dlg.params()["image_encoder"] == "mobilenet_grid"
    finally:
        del reg.media_encoders["test_missing_dep"]
