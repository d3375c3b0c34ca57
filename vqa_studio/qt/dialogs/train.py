"""Train / fine-tune dialog: mode, epochs, ensemble size, mixed precision, gradient accumulation,
batch size, two speed-ups (skipping what the model already answers, freezing the media encoder late),
the media encoder of each model kind (the registry's encoders, plugins' included; one whose optional
dependency is missing is listed, disabled, with how to install it), device, and which device was
detected (asked of a short child process: the GUI never imports torch)."""
from __future__ import annotations

import multiprocessing as mp
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)


def encoder_combos() -> list[tuple[str, str, QComboBox]]:
    """Per model kind of the registry: (its ``TrainingArgs`` field, a label, a combo of the media
    encoders of its modality, the default selected)."""
    from ...core.registry import default_registry

    reg = default_registry()
    out = []
    for kind in reg.model_kinds.values():
        box = QComboBox()
        for name in reg.media_encoder_names(kind.modality):
            spec = reg.media_encoders[name]
            box.addItem(name + (f" ({spec.description})" if spec.description else ""), name)
            if not spec.is_available():
                i = box.count() - 1
                box.model().item(i).setEnabled(False)
                why = spec.error or "a dependency is missing"
                box.setItemData(i, why + (f"; install: {spec.install}" if spec.install else ""), Qt.ToolTipRole)
        box.setCurrentIndex(max(0, box.findData(kind.default_encoder)))
        out.append((kind.encoder_arg, f"{kind.modality.capitalize()} encoder", box))
    return out


class TrainDialog(QDialog):
    def __init__(self, has_model: bool, n_labels: int | None = None, parent=None, probe: "DeviceProbe | None" = None):
        super().__init__(parent)
        self.setWindowTitle("Train / fine-tune")
        self.mode = QComboBox()
        self.mode.addItem("Full: a new model on every label (new answer vocabulary)", "full")
        self.mode.addItem("Fine-tune + replay: the active model on new corrections", "finetune")
        if not has_model:
            self.mode.model().item(1).setEnabled(False)
            self.mode.setItemData(1, "needs an active model: train a full model first", Qt.ToolTipRole)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 500)
        self.epochs.setValue(10)
        self.ensemble = QSpinBox()
        self.ensemble.setRange(1, 16)
        self.ensemble.setValue(1)
        self.ensemble.setToolTip("members trained from different seeds; their disagreement is part of the uncertainty")
        self.amp = QComboBox()
        for label, value in (("auto (only where faster)", "auto"), ("on", "on"), ("off (fp32)", "off")):
            self.amp.addItem(label, value)
        self.accumulate = QSpinBox()
        self.accumulate.setRange(1, 64)
        self.accumulate.setValue(1)
        self.accumulate.setToolTip("micro-batches per optimizer step")
        self.batch = QSpinBox()
        self.batch.setRange(4, 4096)
        self.batch.setValue(256)  # TrainingArgs.batch_size (not imported here: torch stays out of the GUI)
        self.skip_easy = QCheckBox("Skip most questions the model already answers")
        self.skip_easy.setToolTip("from the second epoch on, 3 in 4 of the questions the model answered confidently and "
                                  "rightly when it last saw them are left out of each epoch (the rest count for them); "
                                  "the time goes to what it gets wrong")
        self.freeze_media = QCheckBox("Freeze the image / point-cloud encoder for the last 30%")
        self.freeze_media.setToolTip("the media encoder stops learning 70% of the way through and its features are "
                                     "computed once: the remaining steps are faster")
        self.encoders = encoder_combos()
        self._build_transfer()
        self.device = QComboBox()
        for label, value in (("auto", "auto"), ("CPU", "cpu"), ("CUDA GPU", "cuda")):
            self.device.addItem(label, value)
        self.detected = QLabel("detecting…")
        self.detected.setObjectName("muted")
        self.detected.setWordWrap(True)

        form = self._form()
        note = QLabel("Training runs in a separate process: keep reviewing meanwhile. When it finishes, the new "
                      "version is registered and the pool re-scored." + (f" {n_labels:,} labelled questions."
                                                                         if n_labels is not None else ""))
        note.setObjectName("muted")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("Start training")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.Ok)
        self._encoder_changed()
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(note)
        lay.addWidget(buttons)
        self.resize(560, 0)

        self._probe = probe
        if probe is not None:
            probe.detected.connect(self.detected.setText)
            if probe.text:
                self.detected.setText(probe.text)
            else:
                probe.start()

    def _form(self) -> QFormLayout:
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignRight)
        form.addRow("Mode", self.mode)
        form.addRow("Epochs", self.epochs)
        form.addRow("Ensemble size", self.ensemble)
        form.addRow("Mixed precision", self.amp)
        form.addRow("Gradient accumulation", self.accumulate)
        form.addRow("Batch size", self.batch)
        form.addRow("Speed-ups", self.skip_easy)
        form.addRow("", self.freeze_media)
        form.addRow("Model", self.kind)
        form.addRow("ViLT model", self.vilt_row)
        for arg, label, box in self.encoders:
            form.addRow(label, box)
            if arg == "image_encoder":
                form.addRow("Pretrained weights", self.weights_row)
                form.addRow("Fine-tune blocks", self.unfreeze)
        form.addRow("Start from", self.init_row)
        form.addRow("Device", self.device)
        form.addRow("Detected", self.detected)
        return form

    # --- knowledge that transfers: a pretrained backbone, another model file ---------------------------
    def _build_transfer(self) -> None:
        self.weights = QLineEdit()
        self.weights.setPlaceholderText("a folder saved with save_pretrained, or a hub id in your HF cache")
        self.weights.textChanged.connect(self._encoder_changed)
        self.weights_row = _with_browse(self.weights, lambda: self._browse_folder(self.weights))
        self.unfreeze = QSpinBox()
        self.unfreeze.setRange(0, 64)
        self.unfreeze.setSpecialValueText("none: frozen, features computed once and cached")
        self.unfreeze.setToolTip("fine-tune the last N blocks of the pretrained backbone (slower; more to learn)")
        self.init_from = QLineEdit()
        self.init_from.setPlaceholderText("optional: another model file (.pt), e.g. another project's")
        self.init_from.setToolTip("every tensor of that model that fits is loaded; words and answers are matched "
                                  "by text; the training report says what was loaded")
        self.init_row = _with_browse(self.init_from, self._browse_model)
        self.kind = QComboBox()
        self.kind.addItem("VQA Studio's networks (the encoders below)", "")
        self.kind.addItem("ViLT: a whole pretrained VQA model, fine-tuned on the image questions", "vilt")
        self.kind.currentIndexChanged.connect(self._encoder_changed)
        self.vilt = QLineEdit()
        self.vilt.setPlaceholderText("a ViLT VQA folder (save_pretrained), or a hub id in your HF cache")
        self.vilt.textChanged.connect(self._encoder_changed)
        self.vilt_row = _with_browse(self.vilt, lambda: self._browse_folder(self.vilt))
        image = self._image_box()
        if image is not None:
            image.currentIndexChanged.connect(self._encoder_changed)

    def _image_box(self) -> QComboBox | None:
        return next((box for arg, _, box in self.encoders if arg == "image_encoder"), None)

    def _pretrained(self) -> bool:
        image = self._image_box()
        return image is not None and image.currentData() == "hf"

    def _vilt(self) -> bool:
        return self.kind.currentData() == "vilt"

    def _encoder_changed(self, *_args) -> None:
        vilt = self._vilt()
        on = self._pretrained() and not vilt
        self.vilt_row.setEnabled(vilt)
        for _, _, box in self.encoders:
            box.setEnabled(not vilt)
        self.weights_row.setEnabled(on)
        self.unfreeze.setEnabled(on or vilt)
        missing = (on and not self.weights.text().strip()) or (vilt and not self.vilt.text().strip())
        if hasattr(self, "ok_button"):
            self.ok_button.setEnabled(not missing)
            self.ok_button.setToolTip("name the pretrained model's folder first" if missing else "")

    def _browse_folder(self, edit: QLineEdit) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of the pretrained model (config.json, weights)")
        if folder:
            edit.setText(folder)

    def _browse_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Model to start from", "", "VQA Studio models (*.pt)")
        if path:
            self.init_from.setText(path)

    def params(self) -> dict[str, Any]:
        """TrainingArgs fields (checked by the training process itself)."""
        out = self._params()
        if self._vilt():
            out["model"] = "vilt:" + self.vilt.text().strip()
            out["unfreeze"] = self.unfreeze.value()
        elif self._pretrained():
            out["image_encoder"] = "hf:" + self.weights.text().strip()
            out["unfreeze"] = self.unfreeze.value()
        if self.init_from.text().strip():
            out["init_from"] = self.init_from.text().strip()
        return out

    def _params(self) -> dict[str, Any]:
        return {
            "mode": self.mode.currentData(), "epochs": self.epochs.value(), "ensemble": self.ensemble.value(),
            "amp": self.amp.currentData(), "accumulate": self.accumulate.value(), "device": self.device.currentData(),
            "batch_size": self.batch.value(),
            "skip_easy": 0.75 if self.skip_easy.isChecked() else 0.0,
            "freeze_media_at": 0.7 if self.freeze_media.isChecked() else None,
            **{arg: box.currentData() for arg, _, box in self.encoders},
        }


def _with_browse(edit: QLineEdit, browse) -> QWidget:
    row = QWidget()
    lay = QHBoxLayout(row)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.addWidget(edit, 1)
    button = QPushButton("Browse…")
    button.clicked.connect(browse)
    lay.addWidget(button)
    return row


class DeviceProbe(QObject):
    """Asks a short child process which device training would use (torch stays out of the GUI).

    The child is started the way training jobs are (``multiprocessing``'s ``spawn``), so it works the
    same from source and in a frozen app (where ``sys.executable`` is the app itself, not Python); it
    runs ``target`` (``"module:function"`` returning one line, ``core.sysinfo.device_summary`` by
    default) and sends the line back through a pipe, read on a timer. Started once, on demand;
    ``stop()`` ends it (the main window calls it when it closes).
    """

    detected = Signal(str)

    def __init__(self, parent=None, target: str = "vqa_studio.core.sysinfo:device_summary"):
        super().__init__(parent)
        self.text = ""
        self.target = target
        self._proc = None
        self._reader = None
        self._timer = QTimer(self)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._poll)

    def start(self) -> None:
        if self._proc is not None or self.text:
            return
        from ...core.sysinfo import report_line

        ctx = mp.get_context("spawn")
        reader, writer = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=report_line, args=(writer, self.target), name="vqa-studio-device-probe", daemon=True)
        proc.start()
        writer.close()  # the child holds the other end: reading gives EOF once it is gone
        self._proc, self._reader = proc, reader
        self._timer.start()

    def _poll(self) -> None:
        proc, reader = self._proc, self._reader
        if proc is None or reader is None:
            return
        try:
            if not reader.poll():
                if proc.is_alive():
                    return
                ok, line = False, f"the probe ended without an answer (exit code {proc.exitcode})"
            else:
                ok, line = reader.recv()
        except (EOFError, OSError):
            ok, line = False, f"the probe ended without an answer (exit code {proc.exitcode})"
        self._reap()
        if ok:
            self.text = line
            self.detected.emit(line)
        else:  # may be asked again
            self.detected.emit("could not detect the device: " + line)

    def _reap(self) -> None:
        self._timer.stop()
        proc, reader = self._proc, self._reader
        self._proc = self._reader = None
        if reader is not None:
            reader.close()
        if proc is not None:
            proc.join(3)
            if proc.is_alive():
                proc.kill()
                proc.join(3)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.is_alive()

    def stop(self) -> None:
        proc = self._proc
        if proc is not None and proc.is_alive():
            proc.kill()
        self._reap()
