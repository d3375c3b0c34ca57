"""CLEVR questions JSON: ``{info, questions: [{image_filename, image_index, split, question, answer,
question_family_index, program: [{type|function, inputs, value_inputs}]}]}``.

Program steps may name their operation under ``type`` (CLEVR v1.0) or ``function`` (newer
releases and CLEVR-CoGenT tools); both are read and stored as ``function``. Images are found at
``{images}/{image_filename}``, then ``{images}/{split}/{image_filename}`` (the CLEVR layout).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, Iterator

from ..errors import BadInputError
from .base import BadRecord, ExportQuestion, Record, RecordAnswer, load_json, place_file, require, safe_name


def _program(raw, path: Path, where: str) -> list[dict]:
    if not isinstance(raw, list):
        raise BadInputError(path, f"field 'program' should be a list, found {type(raw).__name__}", where)
    steps = []
    for j, step in enumerate(raw):
        w = f"{where} program[{j}]"
        if not isinstance(step, dict):
            raise BadInputError(path, f"a program step should be an object, found {type(step).__name__}", w)
        fn = step.get("function", step.get("type"))
        if not isinstance(fn, str):
            raise BadInputError(path, "a program step needs a 'type' or 'function' string", w)
        inputs = step.get("inputs", [])
        values = step.get("value_inputs", [])
        if not isinstance(inputs, list) or not all(isinstance(i, int) for i in inputs):
            raise BadInputError(path, "field 'inputs' should be a list of step indices", w)
        if not isinstance(values, list):
            raise BadInputError(path, "field 'value_inputs' should be a list", w)
        steps.append({"function": fn, "inputs": inputs, "value_inputs": values})
    return steps


def read(questions_path: str | Path, images_dir: str | Path | None = None, split: str | None = None
         ) -> Iterator[Record | BadRecord]:
    qpath = Path(questions_path)
    data = load_json(qpath)
    if not isinstance(data, dict):
        raise BadInputError(qpath, f"expected a JSON object with a 'questions' list, found a {type(data).__name__}")
    questions = require(data, "questions", list, qpath, "top level")
    info = data.get("info") if isinstance(data.get("info"), dict) else {}
    images = (Path(images_dir) if images_dir else qpath.parent).resolve()
    if not images.is_dir():
        raise BadInputError(images, "the images folder does not exist")
    listing: dict[Path, set[str]] = {}

    def exists(p: Path) -> bool:
        if p.parent not in listing:
            try:
                listing[p.parent] = set(os.listdir(p.parent))
            except OSError:
                listing[p.parent] = set()
        return p.name in listing[p.parent]

    for k, q in enumerate(questions):
        where = f"questions[{k}]"
        try:
            fname = require(q, "image_filename", str, qpath, where)
            text = require(q, "question", str, qpath, where).strip()
            if not text:
                raise BadInputError(qpath, "the question is empty", where)
            index = q.get("image_index")
            if index is not None and (not isinstance(index, int) or isinstance(index, bool)):
                raise BadInputError(qpath, f"field 'image_index' should be an integer, found {index!r:.40}", where)
            qsplit = split or q.get("split") or info.get("split") or "train"
            if not isinstance(qsplit, str):
                raise BadInputError(qpath, f"field 'split' should be a string, found {qsplit!r:.40}", where)
            qsplit = {"training": "train", "validation": "val"}.get(qsplit, qsplit)
            answer = q.get("answer")
            if answer is not None and not isinstance(answer, (str, int, bool)):
                raise BadInputError(qpath, f"field 'answer' should be a string, found {answer!r:.40}", where)
            if isinstance(answer, bool):
                answer = "yes" if answer else "no"
            elif isinstance(answer, int):
                answer = str(answer)
            meta = {}
            if "program" in q:
                meta["program"] = _program(q["program"], qpath, where)
            if "question_family_index" in q:
                meta["question_family_index"] = q["question_family_index"]
            candidates = [images / fname, images / str(q.get("split", "")) / fname]
            image = next((c for c in candidates if exists(c)), None)
            if image is None:
                raise BadInputError(candidates[0], f"image not found (also looked in {candidates[1].parent})", where)
            qid = q.get("question_index")
            yield Record(
                media_path=image, question=" ".join(text.split()), split=qsplit,
                answers=(RecordAnswer(answer),) if answer else (), answer=answer,
                question_id=str(qid) if isinstance(qid, int) else None,
                media_id=str(index) if index is not None else None, question_meta=meta, where=where, source=str(qpath),
            )
        except BadInputError as exc:
            yield BadRecord(exc)


def write(rows: Iterable[ExportQuestion], out_dir: str | Path, copy_images: bool = True) -> Path:
    """``CLEVR_questions.json`` (every split) and, with ``copy_images``, ``images/{split}/{file}``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    questions = []
    names: dict[int, str] = {}
    for n, r in enumerate(rows):
        if r.item_id not in names:
            names[r.item_id] = (safe_name(f"{r.media_path.stem}_{r.item_id}{r.media_path.suffix.lower()}") if copy_images
                                else r.media_path.name)
        entry = {
            "image_index": int(r.item_external_id) if (r.item_external_id or "").isdigit() else r.item_id,
            "image_filename": names[r.item_id], "split": r.split, "question": r.text, "question_index": n,
        }
        if r.answer is not None:
            entry["answer"] = r.answer
        entry.update({k: v for k, v in r.question_meta.items() if k in ("program", "question_family_index")})
        questions.append(entry)
        if copy_images:
            place_file(r.media_path, out / "images" / safe_name(r.split) / names[r.item_id])
    path = out / "CLEVR_questions.json"
    tmp = path.with_suffix(".json.part")
    tmp.write_text(json.dumps({"info": {"version": "1.0", "source": "VQA Studio"}, "questions": questions}), encoding="utf-8")
    os.replace(tmp, path)
    return path
