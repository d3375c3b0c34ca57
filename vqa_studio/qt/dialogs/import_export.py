"""Import (VQA v2, CLEVR, CSV, a folder of images) and export, with progress and cancel.

The import runs the core's generator (``Project.import_records``) in a worker thread; cancel closes
it, which rolls the whole import back. A bad file is reported in the dialog, naming the file, the
record and the problem; the project is left as it was.
"""
from __future__ import annotations

from pathlib import Path
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

from ...core.errors import BadInputError, VQAStudioError
from ...core.types import Progress
from ..style import COLORS
from ..workers import GeneratorTask

IMPORT_FORMATS = [("VQA v2 (questions + annotations JSON)", "vqa_v2"), ("CLEVR (questions JSON)", "clevr"),
                  ("CSV (image, question, answer)", "csv"), ("Folder of images (no questions)", "folder")]
EXPORT_FORMATS = [("VQA v2", "vqa_v2"), ("CSV", "csv"), ("CLEVR", "clevr"), ("Folder of images", "folder")]

# which fields each import format uses
_FIELDS = {
    "vqa_v2": ("questions", "annotations", "images", "pattern", "split"),
    "clevr": ("questions", "images", "split"),
    "csv": ("input", "images", "split"),
    "folder": ("images", "split"),
}


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


def make_reader(fmt: str, fields: dict[str, Any]):
    """The core reader for ``fmt`` with the dialog's fields (a lazy iterator of records)."""
    from ...core.formats import clevr, csv_format, folder, vqa_v2

    split = fields.get("split") or None
    images = fields.get("images") or None
    if fmt == "vqa_v2":
        if not fields.get("questions"):
            raise BadInputError(None, "choose the questions file (v2_OpenEnded_..._questions.json)")
        return vqa_v2.read(fields["questions"], fields.get("annotations") or None, images,
                           fields.get("pattern") or None, split)
    if fmt == "clevr":
        if not fields.get("questions"):
            raise BadInputError(None, "choose the CLEVR questions file")
        return clevr.read(fields["questions"], images, split)
    if fmt == "csv":
        if not fields.get("input"):
            raise BadInputError(None, "choose the CSV file")
        return csv_format.read(fields["input"], images, split or "train")
    if fmt == "folder":
        if not images:
            raise BadInputError(None, "choose the folder of images")
        return folder.read(images, split or "train")
    raise BadInputError(None, f"unknown format {fmt}")


def import_generator(project, fmt: str, fields: dict[str, Any], skip_bad: bool, copy: bool
                     ) -> Generator[Progress, None, Any]:
    yield Progress("reading", 0, None, "reading the files")
    records = make_reader(fmt, fields)
    report = yield from project.import_records(records, skip_bad=skip_bad, copy_media=copy)
    return report


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
        for label, value in IMPORT_FORMATS:
            self.format.addItem(label, value)
        self.fields = {
            "questions": _PathField("questions JSON file", False, "JSON (*.json);;All files (*)"),
            "annotations": _PathField("annotations JSON file (optional: answers)", False, "JSON (*.json);;All files (*)"),
            "input": _PathField("CSV file", False, "CSV (*.csv);;All files (*)"),
            "images": _PathField("folder of images", True),
            "pattern": QLineEdit(),
            "split": QLineEdit(),
        }
        self.fields["pattern"].setPlaceholderText("image file pattern (optional), e.g. COCO_val2014_{image_id:012d}.jpg")
        self.fields["split"].setPlaceholderText("split (default: from the file, or train)")
        self.skip_bad = QCheckBox("Skip bad records (import the rest and write a report)")
        self.copy = QCheckBox("Copy the media into the project folder")
        self.form = QFormLayout()
        self.form.addRow("Format", self.format)
        labels = {"questions": "Questions", "annotations": "Annotations", "input": "CSV file", "images": "Images",
                  "pattern": "Pattern", "split": "Split"}
        for key, w in self.fields.items():
            self.form.addRow(labels[key], w)
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
        used = _FIELDS[self.format.currentData()]
        for key, w in self.fields.items():
            self.form.setRowVisible(w, key in used)

    def values(self) -> dict[str, str]:
        used = _FIELDS[self.format.currentData()]
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
    from ...core.formats import clevr, csv_format, folder, vqa_v2

    if not out:
        raise BadInputError(None, "choose where to export to")
    yield Progress("export", 0, None, f"writing {fmt} to {out}")
    if fmt == "vqa_v2":
        paths = vqa_v2.write(project.export_rows(splits), out, copy_images=copy_images)
    elif fmt == "csv":
        target = Path(out)
        if target.suffix.lower() != ".csv":
            target = target / "questions.csv"
        paths = [csv_format.write(project.export_rows(splits), target)]
    elif fmt == "clevr":
        paths = [clevr.write(project.export_rows(splits), out, copy_images=copy_images)]
    elif fmt == "folder":
        paths = folder.write(project.export_items(splits), out)
    else:
        raise BadInputError(None, f"unknown format {fmt}")
    yield Progress("export", 1, 1, f"{len(paths)} files written")
    return paths


class ExportDialog(_TaskDialog):
    def __init__(self, project, parent=None):
        super().__init__(parent)
        self.project = project
        self.setWindowTitle("Export")
        self.format = QComboBox()
        for label, value in EXPORT_FORMATS:
            self.format.addItem(label, value)
        self.out = _PathField("output folder", True)
        self.splits = QLineEdit()
        self.splits.setPlaceholderText("splits, comma separated (default: all)")
        self.copy_images = QCheckBox("Copy the images")
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
