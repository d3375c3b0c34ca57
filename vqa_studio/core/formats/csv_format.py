"""CSV: one question per row, ``image,question,answer[,split]`` (a header row is optional).

Relative image paths resolve against ``--images`` when given, else against the CSV file's folder.
An empty answer means the question is still to be answered. Extra columns ``question_id`` and
``image_id`` are read when the header names them. Point-cloud files work wherever images do.
"""
from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Iterable, Iterator

from ..data.media import kind_of
from ..errors import BadInputError
from .base import BadRecord, ExportQuestion, Record, RecordAnswer

COLUMNS = ("image", "question", "answer", "split")


def read(csv_path: str | Path, images_dir: str | Path | None = None, split: str | None = "train") -> Iterator[Record | BadRecord]:
    split = split or "train"
    path = Path(csv_path)
    base = (Path(images_dir) if images_dir else path.parent).resolve()
    from ..data.media import check_regular_file
    from .base import MAX_INPUT_BYTES

    check_regular_file(path, MAX_INPUT_BYTES)  # a pipe or device would never end
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except FileNotFoundError:
        raise BadInputError(path, "file not found") from None
    except UnicodeDecodeError as exc:
        raise BadInputError(path, f"not UTF-8 text (byte {exc.start})") from None
    except csv.Error as exc:
        raise BadInputError(path, f"broken CSV: {exc}") from None
    if not rows:
        raise BadInputError(path, "the file is empty")
    header = [c.strip().lower() for c in rows[0]]
    if "image" in header and "question" in header:
        cols = {name: header.index(name) for name in header if name}
        body = enumerate(rows[1:], start=2)
    else:
        cols = {name: i for i, name in enumerate(COLUMNS)}
        body = enumerate(rows, start=1)
    listing: dict[Path, set[str]] = {}
    for line, row in body:
        where = f"line {line}"
        if not any(cell.strip() for cell in row):
            continue
        try:
            if len(row) < 2:
                raise BadInputError(path, f"expected at least 2 columns (image, question), found {len(row)}", where)

            def cell(name: str) -> str:
                i = cols.get(name)
                return row[i].strip() if i is not None and i < len(row) else ""

            image, question, answer = cell("image"), cell("question"), cell("answer")
            if not image:
                raise BadInputError(path, "the image column is empty", where)
            if not question:
                raise BadInputError(path, "the question column is empty", where)
            p = Path(image)
            p = p if p.is_absolute() else base / p
            if kind_of(p) is None:
                raise BadInputError(path, f"'{image}' is not an image or point-cloud file", where)
            if p.parent not in listing:
                try:
                    listing[p.parent] = set(os.listdir(p.parent))
                except OSError:
                    listing[p.parent] = set()
            if p.name not in listing[p.parent]:
                raise BadInputError(p, "image not found", f"{path}: {where}")
            yield Record(
                media_path=p, question=" ".join(question.split()), split=cell("split") or split,
                answers=(RecordAnswer(answer),) if answer else (), answer=answer or None,
                question_id=cell("question_id") or None, media_id=cell("image_id") or None, where=where, source=str(path),
            )
        except BadInputError as exc:
            yield BadRecord(exc)


def write(rows: Iterable[ExportQuestion], out_path: str | Path) -> Path:
    """``image,question,answer,split,question_id,status`` with absolute image paths."""
    out = Path(out_path)
    if out.suffix.lower() != ".csv":
        out = out / "questions.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".csv.part")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow([*COLUMNS, "question_id", "status"])
        for r in rows:
            w.writerow([r.media_path.as_posix(), r.text, r.answer or "", r.split, r.external_id or r.question_id, r.status])
    os.replace(tmp, out)
    return out
