"""Import and export in every registered format (VQA v2, CLEVR, CSV, a folder of media, the cuboid
formats KITTI / Datumaro / labelCloud, and any plugin's), with progress and cancel.

The format lists and each format's fields are read from the registry (``core/registry.py``); the
work is the core's generators (``core/formats/transfer.py``, the CLI's too) in a worker thread.
Cancel closes the generator, which rolls a question import back. A bad file is reported in the
dialog, naming the file, the record and the problem; the project is left as it was.
"""
from __future__ import annotations

from typing import Any, Callable, Generator

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...core.errors import VQAStudioError
from ...core.types import Progress
from ..style import COLORS
from ..workers import GeneratorTask

_FIELD_LABELS = {"questions": "Questions", "annotations": "Annotations", "input": "Input", "images": "Media folder",
                 "image_pattern": "Pattern", "split": "Split"}


def import_formats() -> list[tuple[str, str]]:
    """``(label, name)`` of every format that can import, built-in and plugin, from the registry."""
    from ...core.registry import default_registry

    return [(f.title, f.name) for f in default_registry().import_formats()]


def export_formats() -> list[tuple[str, str]]:
    """``(label, name)`` of every format that can export, from the registry."""
    from ...core.registry import default_registry

    return [(f.title, f.name) for f in default_registry().export_formats()]


def _import_fields(fmt: str) -> tuple[str, ...]:
    from ...core.registry import default_registry

    spec = default_registry().formats.get(fmt)
    return spec.import_fields if spec is not None else ()


class _PathField(QWidget):
    def __init__(self, placeholder: str, folder: bool, filters: str = "", parent=None):
        super().__init__(parent)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(placeholder)
        self.folder = folder
        self.filters = filters
        b = QToolButton()
        b.setText("…")
        b.clicked.connect(self._browse)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.edit, 1)
        lay.addWidget(b)

    def _browse(self) -> None:
        if self.folder:
            path = QFileDialog.getExistingDirectory(self, "Choose a folder", self.edit.text())
        else:
            path, _ = QFileDialog.getOpenFileName(self, "Choose a file", self.edit.text(), self.filters)
        if path:
            self.edit.setText(path)

    def text(self) -> str:
        return self.edit.text().strip()

    def setText(self, t: str) -> None:  # noqa: N802
        self.edit.setText(t)


def import_generator(project, fmt: str, fields: dict[str, Any], skip_bad: bool, copy: bool
                     ) -> Generator[Progress, None, Any]:
    from ...core.formats import transfer

    return (yield from transfer.import_generator(project, fmt, fields, skip_bad=skip_bad, copy_media=copy))


class _TaskDialog(QDialog):
    """A dialog that runs one GeneratorTask with a progress bar, a status line and cancel."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.task: GeneratorTask | None = None
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.go = QPushButton("Start")
        self.go.setDefault(True)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self._cancel_or_close)
        self.go.clicked.connect(self.start)
        self.last_error: BaseException | None = None
        self.result_value: Any = None

    def _buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(self.progress, 1)
        row.addWidget(self.go)
        row.addWidget(self.close_button)
        return row

    def make_generator(self) -> Callable[[], Generator[Progress, None, Any]]:
        raise NotImplementedError

    def start(self) -> None:
        if self.task is not None:
            return
        try:
            make = self.make_generator()
        except VQAStudioError as exc:
            self._show_error(exc)
            return
        self.last_error = None
        self.status.setText("")
        self.task = GeneratorTask(make, name="io", parent=self)
        self.task.progress.connect(self._progress)
        self.task.finished.connect(self._finished)
        self.task.failed.connect(self._failed)
        self.task.cancelled.connect(self._cancelled)
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.go.setEnabled(False)
        self.close_button.setText("Cancel")
        self.task.start()

    @property
    def running(self) -> bool:
        return self.task is not None

    def _progress(self, p: Progress) -> None:
        if p.total:
            self.progress.setRange(0, p.total)
            self.progress.setValue(p.done)
        else:
            self.progress.setRange(0, 0)
        self.status.setText(f"{p.stage}: {p.message}" if p.message else p.stage)

    def _end(self) -> None:
        if self.task is not None:
            self.task.wait(10)
        self.task = None
        self.progress.setVisible(False)
        self.go.setEnabled(True)
        self.close_button.setText("Close")

    def _finished(self, value) -> None:
        self._end()
        self.result_value = value

    def _failed(self, exc: BaseException) -> None:
        self._end()
        self._show_error(exc)

    def _cancelled(self) -> None:
        self._end()
        self.status.setText(f"<span style='color:{COLORS['warn']}'>Cancelled: nothing was written.</span>")

    def _show_error(self, exc: BaseException) -> None:
        self.last_error = exc
        if isinstance(exc, VQAStudioError):
            text = str(exc)
        else:
            text = f"{type(exc).__name__}: {exc}"
        import html

        self.status.setText(f"<span style='color:{COLORS['bad']}'><b>Could not finish.</b> {html.escape(text)}</span>"
                            f"<br><span style='color:{COLORS['muted']}'>The project was left as it was.</span>")

    def _cancel_or_close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.status.setText("cancelling…")
        else:
            self.reject()

    def done(self, result: int) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task.wait(60)
            self.task = None
        super().done(result)


class ImportDialog(_TaskDialog):
    imported = Signal(object)  # ImportReport

    def __init__(self, project, parent=None):
        super().__init__(parent)
        self.project = project
        self.setWindowTitle("Import")
        self.format = QComboBox()
        for label, value in import_formats():
            self.format.addItem(label, value)
        self.fields = {
            "questions": _PathField("questions JSON file", False, "JSON (*.json);;All files (*)"),
            "annotations": _PathField("annotations JSON file (optional: answers)", False, "JSON (*.json);;All files (*)"),
            "input": _PathField("the input file (CSV, a plugin's format) or the labels folder (cuboids)", False),
            "images": _PathField("folder of images or point clouds", True),
            "image_pattern": QLineEdit(),
            "split": QLineEdit(),
        }
        self.fields["image_pattern"].setPlaceholderText("image file pattern (optional), e.g. COCO_val2014_{image_id:012d}.jpg")
        self.fields["split"].setPlaceholderText("split (default: from the file, or train)")
        self.skip_bad = QCheckBox("Skip bad records (import the rest and write a report)")
        self.copy = QCheckBox("Copy the media into the project folder")
        self.form = QFormLayout()
        self.form.addRow("Format", self.format)
        for key, w in self.fields.items():
            self.form.addRow(_FIELD_LABELS[key], w)
        self.go.setText("Import")
        lay = QVBoxLayout(self)
        lay.addLayout(self.form)
        lay.addWidget(self.skip_bad)
        lay.addWidget(self.copy)
        lay.addWidget(self.status)
        lay.addStretch(1)
        lay.addLayout(self._buttons())
        self.format.currentIndexChanged.connect(self._format_changed)
        self._format_changed()
        self.resize(640, 360)

    def set_format(self, fmt: str) -> None:
        self.format.setCurrentIndex(self.format.findData(fmt))

    def set_field(self, key: str, value: str) -> None:
        self.fields[key].setText(str(value))

    def _format_changed(self) -> None:
        used = _import_fields(self.format.currentData())
        for key, w in self.fields.items():
            self.form.setRowVisible(w, key in used)

    def values(self) -> dict[str, str]:
        used = _import_fields(self.format.currentData())
        return {k: self.fields[k].text().strip() for k in used}

    def make_generator(self):
        fmt, fields = self.format.currentData(), self.values()
        skip, copy, project = self.skip_bad.isChecked(), self.copy.isChecked(), self.project
        return lambda: import_generator(project, fmt, fields, skip, copy)

    def _finished(self, report) -> None:
        super()._finished(report)
        self.status.setText(f"<span style='color:{COLORS['good']}'>{report.summary()}</span>")
        self.imported.emit(report)


def export_generator(project, fmt: str, out: str, splits: list[str] | None, copy_images: bool):
    from ...core.formats import transfer

    return (yield from transfer.export_generator(project, fmt, out, splits, copy_media=copy_images))


class ExportDialog(_TaskDialog):
    def __init__(self, project, parent=None):
        super().__init__(parent)
        self.project = project
        self.setWindowTitle("Export")
        self.format = QComboBox()
        for label, value in export_formats():
            self.format.addItem(label, value)
        self.out = _PathField("output folder", True)
        self.splits = QLineEdit()
        self.splits.setPlaceholderText("splits, comma separated (default: all)")
        self.copy_images = QCheckBox("Copy the images / point clouds")
        self.copy_images.setChecked(True)
        form = QFormLayout()
        form.addRow("Format", self.format)
        form.addRow("Output", self.out)
        form.addRow("Splits", self.splits)
        form.addRow("", self.copy_images)
        self.go.setText("Export")
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.status)
        lay.addStretch(1)
        lay.addLayout(self._buttons())
        self.resize(560, 240)

    def make_generator(self):
        fmt, out = self.format.currentData(), self.out.text()
        splits = [s.strip() for s in self.splits.text().split(",") if s.strip()] or None
        copy, project = self.copy_images.isChecked(), self.project
        return lambda: export_generator(project, fmt, out, splits, copy)

    def _finished(self, paths) -> None:
        super()._finished(paths)
        first = f": {paths[0]}" if paths else ""
        self.status.setText(f"<span style='color:{COLORS['good']}'>Exported {len(paths)} files{first}</span>")
