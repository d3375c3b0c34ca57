"""``*.story`` files: one story (its sentences) and the questions asked about it, as JSON::

    {"sentences": ["Mary moved to the bathroom.", "John went to the hallway."],
     "split": "train",
     "questions": [{"question": "Where is Mary?", "answer": "bathroom", "task": "single_fact",
                    "supporting": [0]}]}

``probe`` checks a file at import (the medium's validator); ``read_story`` reads it for training,
scoring and the story view. Every problem is a ``BadInputError`` naming the file.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from vqa_studio.core.errors import BadInputError

SUFFIX = ".story"
MAX_BYTES = 1 << 20  # a story is a few hundred bytes; a megabyte is not a story
MAX_SENTENCES = 200
MAX_WORDS = 60  # per sentence

_WORD = re.compile(r"[a-z0-9']+")


def tokens(text: str) -> list[str]:
    """Lower-case words, punctuation dropped."""
    return _WORD.findall(text.lower())


def _load(path: Path) -> tuple[dict, bytes]:
    try:
        if not path.is_file():
            raise BadInputError(path, "not a regular file" if path.exists() else "the file does not exist")
        if path.stat().st_size > MAX_BYTES:
            raise BadInputError(path, f"the story file is larger than {MAX_BYTES // 1024} KB")
        data = path.read_bytes()
        obj = json.loads(data.decode("utf-8"))
    except BadInputError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(path, f"cannot read the story file ({exc})") from None
    except json.JSONDecodeError as exc:
        raise BadInputError(path, f"broken JSON in the story file: {exc.msg} (line {exc.lineno})") from None
    return obj, data


def check(obj, path: Path) -> list[str]:
    """The story's sentences; a ``BadInputError`` naming ``path`` when the object is not a story."""
    if not isinstance(obj, dict):
        raise BadInputError(path, "a story file holds a JSON object with 'sentences' and 'questions'")
    sents = obj.get("sentences")
    if not isinstance(sents, list) or not sents:
        raise BadInputError(path, "'sentences' must be a non-empty list of strings")
    if len(sents) > MAX_SENTENCES:
        raise BadInputError(path, f"the story has {len(sents)} sentences; at most {MAX_SENTENCES} are read")
    for k, s in enumerate(sents):
        if not isinstance(s, str) or not tokens(s):
            raise BadInputError(path, f"sentence {k + 1} is empty or not a string")
        if len(tokens(s)) > MAX_WORDS:
            raise BadInputError(path, f"sentence {k + 1} has more than {MAX_WORDS} words")
    qs = obj.get("questions", [])
    if not isinstance(qs, list):
        raise BadInputError(path, "'questions' must be a list")
    return sents


def probe(path: Path):
    """The medium's check at import: a readable story file -> ``MediaInfo`` (kind ``story``)."""
    from vqa_studio.core.data.media import MediaInfo
    from vqa_studio.core.types import ItemKind

    path = Path(path)
    obj, data = _load(path)
    check(obj, path)
    return MediaInfo(ItemKind("story"), hashlib.sha256(data).hexdigest())


def read_story(path: str | Path) -> dict:
    """The story file's object (checked): ``sentences``, ``questions``, maybe ``split``."""
    path = Path(path)
    obj, _ = _load(path)
    check(obj, path)
    return obj


def write_story(path: Path, obj: dict) -> Path:
    path.write_text(json.dumps(obj, indent=1) + "\n", encoding="utf-8")
    return path
