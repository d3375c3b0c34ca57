"""JSON Lines questions: one ``{"image", "question", "answer"?, "split"?}`` object per line."""
from __future__ import annotations

import json
from pathlib import Path

from vqa_studio.core.errors import BadInputError
from vqa_studio.core.formats.base import BadRecord, Record, RecordAnswer


def read(path, images_dir=None, split=None):
    path = Path(path)
    base = Path(images_dir) if images_dir else path.parent
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(path, f"cannot read the file ({exc})") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"line {n}"
        try:
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise BadInputError(path, f"broken JSON: {exc.msg}", where) from None
            if not isinstance(obj, dict) or not isinstance(obj.get("image"), str) or not isinstance(obj.get("question"), str):
                raise BadInputError(path, "each line needs string fields 'image' and 'question'", where)
            image = Path(obj["image"])
            answer = obj.get("answer")
            yield Record(media_path=(image if image.is_absolute() else base / image).resolve(), question=obj["question"],
                         split=obj.get("split") or split or "train", answers=(RecordAnswer(answer),) if answer else (),
                         answer=answer or None, where=where, source=str(path))
        except BadInputError as exc:
            yield BadRecord(exc)


def write(rows, out_dir):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "questions.jsonl"
    with open(path, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps({"image": r.media_path.as_posix(), "question": r.text, "answer": r.answer,
                                 "split": r.split}) + "\n")
    return [path]
