"""VQA v2: questions JSON + (optional) annotations JSON; results JSON.

Questions: ``{info, task_type, data_type, data_subtype, license, questions: [{image_id, question,
question_id}]}``. Annotations: ``{info, data_type, data_subtype, annotations: [{question_id,
image_id, question_type, answer_type, multiple_choice_answer, answers: [{answer_id, answer,
answer_confidence}]}]}``. Results: ``[{question_id, answer}]``.

Images are found by ``image_id`` through a pattern (``--image-pattern``), by default
``COCO_{data_subtype}_{image_id:012d}.jpg``, then ``{image_id}.png``, then ``{image_id}.jpg``.
"""
from __future__ import annotations

import itertools
import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from ..errors import BadInputError
from .base import BadRecord, ExportQuestion, Record, RecordAnswer, load_json, place_file, require, safe_name
from .json_stream import stream_list

_STR, _STR_NONE, _INT_NONE = {str}, {str, type(None)}, {int, type(None)}
DEFAULT_PATTERNS = ("COCO_{data_subtype}_{image_id:012d}.jpg", "{image_id}.png", "{image_id}.jpg")


def split_from_subtype(data_subtype: str | None) -> str:
    """train2014 -> train, val2014 -> val, test2015 / test-dev2015 -> test; other names as they are."""
    if not data_subtype:
        return "train"
    low = data_subtype.lower()
    for name in ("train", "val", "test"):
        if low.startswith(name):
            return name
    return data_subtype


class _ImageFinder:
    """Resolves image ids to files. Lists each folder once and checks names against that listing,
    instead of one stat per image; each image's Path object is made once and reused."""

    def __init__(self, images_dir: Path, patterns: Sequence[str], data_subtype: str):
        self.images_dir = images_dir
        self.patterns = patterns
        self.data_subtype = data_subtype
        self._listing: dict[str, set[str]] = {}
        self._found: dict[int, tuple[Path | None, list[str]]] = {}

    def _exists(self, name: str) -> bool:
        folder, _, base = name.rpartition("/")
        if folder not in self._listing:
            try:
                self._listing[folder] = set(os.listdir(self.images_dir / folder))
            except OSError:
                self._listing[folder] = set()
        return base in self._listing[folder]

    def find(self, image_id: int) -> tuple[Path | None, list[str]]:
        """The image file for ``image_id`` and the names tried."""
        hit = self._found.get(image_id)
        if hit is None:
            tried = [p.format(image_id=image_id, data_subtype=self.data_subtype).replace("\\", "/") for p in self.patterns]
            name = next((n for n in tried if self._exists(n)), None)
            hit = self._found[image_id] = (self.images_dir / name if name else None, tried)
        return hit


def _check_pattern(pattern: str) -> None:
    """A file-name pattern expands to a file name: fields image_id and data_subtype only, widths of
    at most 64 (``{image_id:>99999999999}`` would ask for gigabytes)."""
    import re
    import string

    if len(pattern) > 1000:
        raise ValueError("longer than 1,000 characters")
    for _, field, spec, _ in string.Formatter().parse(pattern):
        if field is not None and field not in ("image_id", "data_subtype"):
            raise ValueError(f"unknown field {{{field}}}")
        if spec and any(int(n) > 64 for n in re.findall(r"\d+", spec)):
            raise ValueError(f"width or precision over 64 in {{{field}:{spec}}}")


#: files at least this big are read as streams (one question or annotation at a time, see
#: ``json_stream``); smaller ones are parsed whole, which is faster
STREAM_BYTES = 64 << 20


def read(questions_path: str | Path, annotations_path: str | Path | None = None, images_dir: str | Path | None = None,
         image_pattern: str | None = None, split: str | None = None) -> Iterator[Record | BadRecord]:
    """Yield one Record per question (with its answers when an annotations file is given).

    Big files (``STREAM_BYTES`` or more) are read as streams: memory holds the annotations in a
    compact form (answer texts shared) and never the whole parsed file."""
    qpath = Path(questions_path)
    apath = Path(annotations_path) if annotations_path else None
    big = any(p is not None and p.is_file() and p.stat().st_size >= STREAM_BYTES for p in (qpath, apath))
    if big:
        fields: dict = {}
        questions: Iterable = stream_list(qpath, "questions", fields)
        first = next(iter(questions), _END)  # the fields before the list are known from here
        subtype = fields.get("data_subtype") or _subtype_after(qpath)
    else:
        qdata = load_json(qpath)
        if not isinstance(qdata, dict):
            raise BadInputError(qpath, f"expected a JSON object with a 'questions' list, found a {type(qdata).__name__}")
        questions, subtype, first = require(qdata, "questions", list, qpath, "top level"), qdata.get("data_subtype") or "", _END
    if not isinstance(subtype, str):
        raise BadInputError(qpath, f"field 'data_subtype' should be a string, found {subtype!r:.40}", "top level")
    split = split or split_from_subtype(subtype)
    images = (Path(images_dir) if images_dir else qpath.parent).resolve()
    if not images.is_dir():
        raise BadInputError(images, "the images folder does not exist")
    patterns = (image_pattern,) if image_pattern else DEFAULT_PATTERNS
    for pattern in patterns:
        try:
            _check_pattern(pattern)
            pattern.format(image_id=0, data_subtype=subtype)
        except (KeyError, ValueError, IndexError) as exc:
            raise BadInputError(None, f"bad image pattern '{pattern}': {exc!r} "
                                      "(use {image_id}, e.g. {image_id:012d}, and {data_subtype})") from None
    finder = _ImageFinder(images, patterns, subtype)
    anns = _annotations(apath, big) if apath is not None else {}
    if first is not _END:
        questions = itertools.chain([first], questions)
    source = str(qpath)
    for k, q in enumerate(questions):
        try:
            yield _record(k, q, qpath, apath, anns, finder, split, source, images)
        except BadInputError as exc:
            yield BadRecord(exc)


_END = object()


def _subtype_after(path: Path) -> str:
    """``data_subtype`` of a questions file that puts it after the questions: read from its last 64 KB."""
    import re

    with open(path, "rb") as fh:
        fh.seek(max(0, path.stat().st_size - (64 << 10)))
        tail = fh.read().decode("utf-8", errors="replace")
    hits = re.findall(r'"data_subtype"\s*:\s*"([^"\\]*)"', tail)
    return hits[-1] if hits else ""


def _annotations(apath: Path, stream: bool) -> dict[int, tuple]:
    """question id -> (its index in the file, the annotation): the whole object when the file was
    parsed whole; streamed, a compact tuple (answers, multiple_choice_answer, question_type,
    answer_type, image_id) with repeated texts shared, or the ``BadInputError`` its fields make."""
    anns: dict[int, tuple] = {}
    if not stream:
        adata = load_json(apath)
        if not isinstance(adata, dict):
            raise BadInputError(apath, f"expected a JSON object with an 'annotations' list, found a {type(adata).__name__}")
        for k, ann in enumerate(require(adata, "annotations", list, apath, "top level")):
            anns[require(ann, "question_id", int, apath, f"annotations[{k}]")] = (k, ann)
        return anns
    texts: dict[str, str] = {}
    share = texts.setdefault
    for k, ann in enumerate(stream_list(apath, "annotations", {})):
        qid = require(ann, "question_id", int, apath, f"annotations[{k}]")
        try:
            answers = [(share(a, a), share(c, c) if c is not None else None, i)
                       for a, c, i in _read_answers(ann, apath, f"annotations[{k}] (question_id {qid})")]
            compact: Any = (answers, *(share(v, v) if type(v) is str else v for v in (
                ann.get("multiple_choice_answer"), ann.get("question_type"), ann.get("answer_type"))),
                ann.get("image_id", _END))
        except BadInputError as exc:
            compact = exc
        anns[qid] = (k, compact)
    return anns


def _record(k: int, q: Any, qpath: Path, apath: Path | None, anns: dict, finder: "_ImageFinder", split: str,
            source: str, images: Path) -> Record:
    """The record of question ``k`` (``BadInputError`` naming the file, the record and the problem)."""
    # fast path: a well-formed question is checked with plain type tests; anything else goes
    # through ``require``, which names the record, the field and the problem
    if type(q) is dict and type(q.get("question_id")) is int and type(q.get("image_id")) is int \
            and type(q.get("question")) is str:
        qid, image_id, text = q["question_id"], q["image_id"], q["question"]
    else:
        qid = require(q, "question_id", int, qpath, f"questions[{k}]")
        where = f"questions[{k}] (question_id {qid})"
        image_id = require(q, "image_id", int, qpath, where)
        text = require(q, "question", str, qpath, where)
    text = " ".join(text.split())
    if not text:
        raise BadInputError(qpath, "the question is empty", f"questions[{k}] (question_id {qid})")
    image, tried = finder.find(image_id)
    if image is None:
        raise BadInputError(qpath, f"image not found for image_id {image_id} "
                                   f"(looked in {images} for {', '.join(tried)})", f"questions[{k}] (question_id {qid})")
    answers: list = []
    answer = qtype = atype = None
    hit = anns.pop(qid, None)  # each annotation is used once: its memory goes with the record
    if hit is not None:
        ak, ann = hit
        awhere = f"annotations[{ak}] (question_id {qid})"
        if isinstance(ann, BadInputError):
            raise ann
        if isinstance(ann, tuple):
            answers, answer, qtype, atype, ann_image = ann
        else:
            answers = _read_answers(ann, apath, awhere)
            answer, qtype, atype, ann_image = (ann.get("multiple_choice_answer"), ann.get("question_type"),
                                               ann.get("answer_type"), ann.get("image_id", _END))
        for key, value in (("multiple_choice_answer", answer), ("question_type", qtype), ("answer_type", atype)):
            if value is not None and type(value) is not str:
                raise BadInputError(apath, f"field '{key}' should be a string, found {value!r:.40}", awhere)
        if ann_image is not _END and ann_image != image_id:
            raise BadInputError(apath, f"image_id {ann_image} differs from the questions file's {image_id}", awhere)
    return Record(image, text, split, answers, answer, str(qid), str(image_id), qtype, atype,
                  where=f"questions[{k}] (question_id {qid})", source=source)


def _read_answers(ann: dict, path: Path, where: str) -> list[RecordAnswer]:
    raw = require(ann, "answers", list, path, where)
    try:  # fast path for well-formed answers; anything unusual is checked one by one below
        texts = [a["answer"] for a in raw]
        confs = [a.get("answer_confidence") for a in raw]
        ids = [a.get("answer_id") for a in raw]
        if set(map(type, texts)) <= _STR and set(map(type, confs)) <= _STR_NONE and set(map(type, ids)) <= _INT_NONE:
            return list(zip(texts, confs, ids))
    except (TypeError, KeyError, AttributeError):
        pass
    out = []
    for j, a in enumerate(raw):
        w = f"{where} answers[{j}]"
        text = require(a, "answer", str, path, w)
        conf = a.get("answer_confidence")
        if conf is not None and not isinstance(conf, str):
            raise BadInputError(path, f"field 'answer_confidence' should be a string, found {conf!r:.40}", w)
        aid = a.get("answer_id")
        if aid is not None and (not isinstance(aid, int) or isinstance(aid, bool)):
            raise BadInputError(path, f"field 'answer_id' should be an integer, found {aid!r:.40}", w)
        out.append(RecordAnswer(text, conf, aid))
    return out


# --- writing -------------------------------------------------------------------------------------------

def _int_ids(values: Sequence[str | None]) -> bool:
    try:
        ints = [int(v) for v in values]  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return len(set(ints)) == len(ints)


def write(rows: Iterable[ExportQuestion], out_dir: str | Path, data_type: str = "vqa_studio",
          copy_images: bool = True) -> list[Path]:
    """Write ``v2_OpenEnded_{data_type}_{split}_questions.json`` and ``v2_{data_type}_{split}_annotations.json``
    per split, with every stored answer: the imported ones and each human answer still in effect.

    Image and question ids are the dataset's own where every one of them is an integer, else VQA
    Studio's. With ``copy_images`` the images go to ``images/{split}/{image_id}{ext}`` (hard links
    where possible), so the export re-imports with the default pattern.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = list(rows)
    by_split: dict[str, list[ExportQuestion]] = defaultdict(list)
    for r in rows:
        by_split[r.split].append(r)
    item_ext = {r.item_id: r.item_external_id for r in rows}
    use_item_ext = _int_ids(list(item_ext.values()))
    use_q_ext = _int_ids([r.external_id for r in rows])
    written: list[Path] = []
    for split, qs in sorted(by_split.items()):
        subtype = split
        folder = safe_name(split)  # a split is data from the input: never a path
        questions, annotations = [], []
        for r in qs:
            image_id = int(r.item_external_id) if use_item_ext else r.item_id
            qid = int(r.external_id) if use_q_ext else r.question_id
            questions.append({"image_id": image_id, "question": r.text, "question_id": qid})
            answers = [
                {"answer_id": a.answer_id if a.answer_id is not None else n + 1, "answer": a.answer,
                 "answer_confidence": a.confidence or "yes"}
                for n, a in enumerate(r.imported_answers)
            ]
            for annotator, text in r.human_answers:
                answers.append({"answer_id": len(answers) + 1, "answer": text,
                                "answer_confidence": "maybe" if annotator == "auto" else "yes"})
            if r.answer is not None or answers:
                annotations.append({
                    "question_id": qid, "image_id": image_id, "question_type": r.question_type,
                    "answer_type": r.answer_type, "multiple_choice_answer": r.answer if r.answer is not None else answers[0]["answer"],
                    "answers": answers,
                    "vqa_studio": {"status": r.status, "annotators": sorted({a for a, _ in r.human_answers})},
                })
            if copy_images:
                place_file(r.media_path, out / "images" / folder / f"{image_id}{r.media_path.suffix.lower()}")
        info = {"description": "exported by VQA Studio", "version": "2.0"}
        qfile = out / safe_name(f"v2_OpenEnded_{data_type}_{subtype}_questions.json")
        afile = out / safe_name(f"v2_{data_type}_{subtype}_annotations.json")
        _write_json(qfile, {"info": info, "task_type": "Open-Ended", "data_type": data_type, "data_subtype": subtype,
                            "license": {}, "questions": questions})
        _write_json(afile, {"info": info, "data_type": data_type, "data_subtype": subtype, "license": {},
                            "annotations": annotations})
        written += [qfile, afile]
    return written


def write_results(path: str | Path, results: Iterable[tuple[int | str, str]]) -> Path:
    """The VQA v2 results format: ``[{"question_id": ..., "answer": ...}]``."""
    out = []
    for qid, answer in results:
        try:
            qid = int(qid)
        except (TypeError, ValueError):
            pass
        out.append({"question_id": qid, "answer": answer})
    path = Path(path)
    _write_json(path, out)
    return path


def read_results(path: str | Path) -> dict[str, str]:
    path = Path(path)
    data = load_json(path)
    if not isinstance(data, list):
        raise BadInputError(path, "expected a JSON list of {question_id, answer}")
    out = {}
    for k, r in enumerate(data):
        qid = require(r, "question_id", (int, str), path, f"[{k}]")
        out[str(qid)] = require(r, "answer", str, path, f"[{k}]")
    return out


def _write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh)
    os.replace(tmp, path)
