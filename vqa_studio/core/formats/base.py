"""What every format reader produces and every writer consumes.

A reader is a function that yields ``Record``s (or ``BadRecord``s for records it could not make
sense of) from files on disk; it never touches the database. ``Project.import_records`` turns them
into items, questions and imported answers in one transaction. A writer takes ``ExportQuestion``s
from ``Project.export_rows`` and writes files.

Readers report a problem with the exact file and record (``BadInputError(path, problem, record)``):
a whole-file problem (broken JSON, missing key at the top) is raised at once; a problem with one
record is yielded as ``BadRecord`` so that ``--skip-bad`` can import the rest and report it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, NamedTuple, Sequence, Union

from ..errors import BadInputError


class RecordAnswer(NamedTuple):
    """One answer of a record (a tuple: imports make millions of these)."""

    answer: str
    confidence: str | None = None  # VQA v2: yes | maybe | no
    answer_id: int | None = None


@dataclass(slots=True)
class Record:
    """One question about one media file (an image or a point cloud), with its answers if known.

    ``answers`` holds ``RecordAnswer``s or plain ``(answer, confidence, answer_id)`` tuples (readers
    of big files use plain tuples: a 100,000-question import makes a million of them).
    """

    media_path: Path  # absolute path of the image / point cloud
    question: str | None  # None: the item alone (a plain folder of images)
    split: str
    answers: Sequence[RecordAnswer] = ()
    answer: str | None = None  # the dataset's chosen answer (VQA multiple_choice_answer); None: the majority
    question_id: str | None = None  # the dataset's own id, kept for export
    media_id: str | None = None  # the dataset's own image id (VQA image_id, CLEVR image_index)
    question_type: str | None = None  # None: derived from the question text
    answer_type: str | None = None  # None: derived from the answers / question
    item_meta: dict[str, Any] = field(default_factory=dict)  # kept with the item (JSON)
    question_meta: dict[str, Any] = field(default_factory=dict)  # kept with the question, e.g. a CLEVR program
    where: str = ""  # "questions[12] (question_id 42)": for error messages
    source: str = ""  # the file the record came from


@dataclass(frozen=True)
class BadRecord:
    error: BadInputError


ReaderOutput = Iterator[Union[Record, BadRecord]]


@dataclass(frozen=True)
class ExportQuestion:
    """A question as the writers see it: its item, its current answer and all stored answers."""

    question_id: int
    external_id: str | None
    text: str
    question_type: str
    answer_type: str
    split: str
    item_id: int
    item_external_id: str | None
    media_path: Path  # absolute
    media_uri: str  # as stored (relative to the project, or absolute)
    answer: str | None  # the current answer (human-reviewed, or imported)
    status: str
    imported_answers: Sequence[RecordAnswer] = ()
    human_answers: Sequence[tuple[str, str]] = ()  # (annotator, answer), in time order
    item_meta: dict[str, Any] = field(default_factory=dict)
    question_meta: dict[str, Any] = field(default_factory=dict)


#: the largest annotation or table file read (VQA v2's largest file is about 0.4 GB)
MAX_INPUT_BYTES = 8 << 30


def load_json(path: Path) -> Any:
    """Parse a JSON file; any problem names the file and where in it the JSON broke."""
    import json

    from ..data.media import check_regular_file

    check_regular_file(Path(path), MAX_INPUT_BYTES)  # a pipe or device would never end
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise BadInputError(path, "file not found") from None
    except OSError as exc:
        raise BadInputError(path, f"cannot read the file ({exc.strerror or exc})") from None
    if not data.strip():
        raise BadInputError(path, "the file is empty")
    try:
        return _loads(data)
    except UnicodeDecodeError as exc:
        raise BadInputError(path, f"not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        # running into the end of the file (or an unterminated string, which runs to it) means cut short
        at_end = exc.pos >= len(data.rstrip()) or exc.msg.startswith("Unterminated string")
        what = "truncated JSON (the file ends before the data is complete)" if at_end else "broken JSON"
        raise BadInputError(path, f"{what}: {exc.msg}", f"line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise BadInputError(path, "JSON nested too deeply to be an annotation file") from None
    except ValueError as exc:  # e.g. an integer of thousands of digits (Python's int limit)
        raise BadInputError(path, f"a value JSON cannot hold here ({str(exc)[:80]})") from None


#: names Windows keeps for devices, whatever the extension
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def safe_name(name: object, fallback: str = "_") -> str:
    """A name that comes from input data (a split, an id, a file stem) as ONE safe path component:
    letters, digits and ``. _ - +`` kept, anything else (separators, ``..``, drive letters, control
    characters) becomes ``_``; no leading or trailing dots or spaces, no Windows device names, at most
    100 characters. Names stay data: an export never writes outside its folder because of them."""
    text = "".join(c if (c.isalnum() or c in "._-+") else "_" for c in str(name))
    text = text.strip(". ")[:100] or fallback
    if text.split(".")[0].upper() in _RESERVED:
        text = "_" + text
    return text


def place_file(src: Path, dst: Path) -> None:
    """Put a copy of ``src`` at ``dst`` (a hard link where the file system allows), unless it is there."""
    import os
    import shutil

    if dst.exists():
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def _loads(data: bytes) -> Any:
    """orjson where installed (about twice as fast on big annotation files), else the standard json.
    orjson's errors are turned into the standard ``JSONDecodeError`` so messages stay the same."""
    import json

    try:
        import orjson
    except ImportError:
        return json.loads(data)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)  # re-parse for the standard message with line and column


def require(obj: Any, key: str, kind: type | tuple[type, ...], path: Path, where: str) -> Any:
    """``obj[key]``, checked to be of ``kind``; otherwise a BadInputError naming file, record and field."""
    if not isinstance(obj, dict):
        raise BadInputError(path, f"expected an object, found {type(obj).__name__}", where)
    if key not in obj:
        raise BadInputError(path, f"missing field '{key}'", where)
    value = obj[key]
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise BadInputError(path, f"field '{key}' should be {_kind_name(kind)}, found a boolean", where)
    if not isinstance(value, kind):
        raise BadInputError(
            path, f"field '{key}' should be {_kind_name(kind)}, found {type(value).__name__} {value!r:.40}", where
        )
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {int: "an integer", str: "a string", list: "a list", dict: "an object", float: "a number"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)
