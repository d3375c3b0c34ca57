"""The ``babi`` format: a folder of ``*.story`` files (or one file) in, one record per question;
out: the stories again, each with its questions' current answers (export, then import, gives the
same questions and answers)."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from vqa_studio.core.errors import BadInputError
from vqa_studio.core.formats.base import BadRecord, Record, RecordAnswer

from .babi import ANSWER_TYPES
from .story import SUFFIX, read_story, write_story


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() == SUFFIX and not p.name.startswith("."))
        if not files:
            raise BadInputError(path, f"the folder holds no {SUFFIX} files (vqa-studio-babi OUT generates some)")
        return files
    if path.suffix.lower() != SUFFIX:
        raise BadInputError(path, f"expected a folder of {SUFFIX} files or one {SUFFIX} file")
    return [path]


def read(input_path, split=None):
    path = Path(input_path).expanduser().resolve()
    if not path.exists():
        raise BadInputError(path, "no such file or folder")
    for f in _files(path):
        try:
            story = read_story(f)
        except BadInputError as exc:
            yield BadRecord(exc)
            continue
        for k, q in enumerate(story.get("questions") or []):
            where = f"questions[{k}]"
            if not isinstance(q, dict) or not isinstance(q.get("question"), str):
                yield BadRecord(BadInputError(f, "each question needs a string field 'question'", where))
                continue
            answer = q.get("answer")
            if answer is not None and not isinstance(answer, str):
                yield BadRecord(BadInputError(f, "'answer' must be a string", where))
                continue
            task = q.get("task") if isinstance(q.get("task"), str) else None
            yield Record(media_path=f, question=q["question"], split=split or story.get("split") or "train",
                         answers=(RecordAnswer(answer),) if answer else (), answer=answer or None,
                         question_id=f"{f.stem}#{k}", media_id=f.stem, question_type=task,
                         answer_type=ANSWER_TYPES.get(task or ""), where=where, source=str(f))


def write(rows, out_dir, copy_images=True):
    """One ``*.story`` file per story of the export, its questions with their current answers."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    by_story = defaultdict(list)
    for r in rows:
        if Path(r.media_path).suffix.lower() == SUFFIX:
            by_story[Path(r.media_path)].append(r)
    paths = []
    for src, qs in by_story.items():
        story = read_story(src)
        obj = {"sentences": story["sentences"], "split": qs[0].split,
               "questions": [{"question": r.text, "answer": r.answer, "task": r.question_type} for r in qs]}
        paths.append(write_story(out / src.name, obj))
    return paths
