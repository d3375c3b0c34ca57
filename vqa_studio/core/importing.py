"""Importing records into a project: read them, check every media file, and write the items,
questions and imported answers in ONE transaction (``Project.import_records`` calls ``import_records``),
a chunk of records at a time, so memory does not grow with the input (the transaction holds the
write lock from the start: a correction made meanwhile waits for the import, see ``store.db``).

Any bad record or media file stops the import with a ``BadInputError`` naming the file, the record and
the problem, and nothing is written; with ``skip_bad`` the bad ones are left out and listed in a JSON
report instead. Closing the generator early (cancel) rolls everything back.
"""
from __future__ import annotations

import gc
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generator, Iterable, Iterator

from .data import media as media_mod
from .data import vocab
from .errors import BadInputError
from .formats.base import BadRecord, Record
from .store import importer as rows
from .store import repository as repo
from .store.db import utcnow
from .types import Progress, Status

if TYPE_CHECKING:  # pragma: no cover
    from .project import Project

#: questions per bulk insert (and per progress report), answers per bulk insert
QUESTION_CHUNK = 20000
ANSWER_CHUNK = 50000


@dataclass
class ImportReport:
    n_records: int = 0
    items_added: int = 0
    items_reused: int = 0
    questions_added: int = 0
    duplicates_skipped: int = 0
    answers_added: int = 0
    skipped: list[BadInputError] = field(default_factory=list)
    report_path: Path | None = None
    seconds: float = 0.0

    def summary(self) -> str:
        parts = [
            f"{self.questions_added} questions",
            f"{self.items_added} new items ({self.items_reused} already in the project)",
            f"{self.answers_added} with answers",
        ]
        if self.duplicates_skipped:
            parts.append(f"{self.duplicates_skipped} duplicate questions left out")
        if self.skipped:
            parts.append(f"{len(self.skipped)} bad records skipped (report: {self.report_path})")
        return "imported " + ", ".join(parts) + f" in {self.seconds:.1f} s"


def clean_question(text: Any, path: Path | None, where: str) -> str:
    """The question text with its white space collapsed; ``BadInputError`` when there is none."""
    if not isinstance(text, str) or not text.strip():
        raise BadInputError(path, "the question is empty", where or None)
    return " ".join(text.split())


def import_records(project: "Project", records: Iterable[Record | BadRecord], *, skip_bad: bool = False,
                   report_path: Path | None = None, copy_media: bool = False,
                   verify_media: bool | str = True) -> Generator[Progress, None, ImportReport]:
    """Import records as one transaction. A generator: yields Progress, returns an ImportReport.

    The records are taken ``RECORD_CHUNK`` at a time: checked, their new media probed, and written
    (inside the one transaction), so memory holds one chunk and the keys that find duplicates, not
    the whole input: a VQA v2 train+val import (658,111 questions, 6.6 million answers) stays well
    under 2 GB. A bad record or media file anywhere stops the import and the transaction is rolled
    back: nothing is written, as before."""
    t0 = time.perf_counter()
    report = ImportReport()
    gc_was_on = gc.isenabled()
    # Parsing and writing make millions of small objects, none of them in cycles: the cyclic garbage
    # collector would only rescan them again and again (a third of the reading time, and more than
    # the writing itself costs), so it stays off for the import.
    gc.disable()
    try:
        yield from _import(project, records, skip_bad, copy_media, verify_media, report)
    finally:
        if gc_was_on:
            gc.enable()
    if report.skipped:
        report.report_path = _write_skip_report(project, report, report_path)
    report.seconds = time.perf_counter() - t0
    return report


#: records read, checked and written at a time
RECORD_CHUNK = 20000


@dataclass
class _Seen:
    """What an import keeps from chunk to chunk: the project's items by uri (the new ones added),
    the media files met (path -> uri) and the bad ones, the question keys (duplicates), the
    question ids of the input (repeated ids) and the uris used."""

    items: dict[str, int]
    question_keys: set
    by_path: dict[Path, str] = field(default_factory=dict)
    bad_media: dict[Path, BadInputError] = field(default_factory=dict)
    first_ids: dict[tuple[str, str], str] = field(default_factory=dict)
    uris_used: set = field(default_factory=set)


def _import(project: "Project", records: Iterable[Record | BadRecord], skip_bad: bool, copy_media: bool,
            verify_media: bool | str, report: ImportReport) -> Generator[Progress, None, None]:
    now = utcnow()
    it = iter(records)
    with project.writer.begin() as conn:
        repo.set_info(conn, "last_import", utcnow().isoformat())  # takes the write lock first
        seen = _Seen(rows.item_ids_by_uri(conn), rows.question_keys(conn))
        while True:
            chunk = _read_chunk(it, skip_bad, report)
            if chunk is None:
                break
            chunk = _drop_repeated_ids(chunk, skip_bad, report, seen.first_ids)
            infos = yield from _check_media(project, chunk, copy_media, verify_media, seen)
            chunk = _drop_bad_media(chunk, seen.bad_media, skip_bad, report)
            if copy_media:  # content-addressed, so a re-import copies nothing
                for p, info in infos.items():
                    if not isinstance(info, BadInputError):
                        seen.by_path[p] = project.uri_for(project._copy_into_media(p, info.sha256))
            yield from _write(conn, chunk, infos, seen, report, now)
        report.items_reused = len(seen.uris_used) - report.items_added
        yield Progress("writing", report.n_records, report.n_records, "committing")


def _read_chunk(it: Iterator[Record | BadRecord], skip_bad: bool, report: ImportReport) -> list[Record] | None:
    """The next ``RECORD_CHUNK`` records' good ones (None at the end); a bad one stops the import, or
    with ``skip_bad`` goes to the report."""
    good: list[Record] = []
    n = 0
    for rec in it:
        n += 1
        if not isinstance(rec, BadRecord):
            problem = _text_problem(rec)
            if problem is not None:
                rec = BadRecord(BadInputError(rec.source or None, problem, rec.where or None))
        if isinstance(rec, BadRecord):
            if not skip_bad:
                raise rec.error
            report.skipped.append(rec.error)
        else:
            good.append(rec)
        if n >= RECORD_CHUNK:
            break
    report.n_records += n
    return good if n else None


def _text_problem(rec: Record) -> str | None:
    """What keeps a record's texts from being stored as text (a lone surrogate, e.g. from a JSON
    escape ``\\ud800``), naming the field; None when they are fine."""
    try:  # one encoding of everything: the usual case, all fine
        ("".join([rec.question or "", rec.answer or "", rec.question_id or "", rec.media_id or "", rec.split or ""])
         + "".join([a[0] for a in rec.answers])).encode("utf-8")
        return None
    except (UnicodeEncodeError, TypeError, IndexError, KeyError):
        pass  # a lone surrogate, or fields of other kinds: field by field below
    fields = {"question": rec.question, "answer": rec.answer, "question_id": rec.question_id,
              "image id": rec.media_id, "split": rec.split}
    fields.update({f"answers[{k}]": a[0] if isinstance(a, tuple) else getattr(a, "answer", a)
                   for k, a in enumerate(rec.answers)})
    for name, value in fields.items():
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                return f"field '{name}' holds a character that is not text (U+{ord(value[exc.start]):04X}, a lone surrogate)"
    return None


def _drop_repeated_ids(good: list[Record], skip_bad: bool, report: ImportReport,
                       first: dict[tuple[str, str], str]) -> list[Record]:
    """A question id used twice in one input file is an error naming the id and both records (with
    ``skip_bad``: the later ones are skipped and reported). ``first``: (file, id) -> where it was
    first met, over the whole import."""
    kept: list[Record] = []
    for rec in good:
        if rec.question is None or not rec.question_id:
            kept.append(rec)
            continue
        key = (rec.source, str(rec.question_id))
        if key not in first:
            first[key] = rec.where
            kept.append(rec)
            continue
        err = BadInputError(rec.source or None, f"question_id {rec.question_id} is used by more than one question "
                                                f"(also by {first[key] or 'an earlier record'})", rec.where or None)
        if not skip_bad:
            raise err
        report.skipped.append(err)
    return kept


def _check_media(project: "Project", good: list[Record], copy_media: bool, verify_media: bool | str,
                 seen: _Seen) -> Generator[Progress, None, dict[Path, Any]]:
    """Probe every media file of ``good`` not met before and not already in the project, once.
    Returns media path -> ``MediaInfo`` or the ``BadInputError`` it failed with (these also go to
    ``seen.bad_media``); ``seen.by_path`` gets each new file's uri as stored by reference."""
    to_probe: list[Path] = []
    for rec in good:
        p = rec.media_path
        if p not in seen.by_path:
            uri = project.uri_for(p)
            seen.by_path[p] = uri
            if uri not in seen.items or copy_media:
                to_probe.append(p)
    infos: dict[Path, Any] = {}
    total = len(to_probe)
    for n, (p, info) in enumerate(media_mod.probe_many(to_probe, verify=verify_media), 1):
        infos[p] = info
        if isinstance(info, BadInputError):
            seen.bad_media[p] = info
        if n % 2000 == 0 or n == total:
            yield Progress("checking media", n, total, f"checked {n} of {total} new media files")
    return infos


def _drop_bad_media(good: list[Record], bad_media: dict[Path, BadInputError], skip_bad: bool,
                    report: ImportReport) -> list[Record]:
    """The records whose media passed the check. A bad file stops the import (naming the record
    that uses it), or with ``skip_bad`` its records go to the report."""
    if not bad_media:
        return good
    kept: list[Record] = []
    for rec in good:
        err = bad_media.get(rec.media_path)
        if err is None:
            kept.append(rec)
            continue
        where = f"{rec.source}: {rec.where}" if rec.source and rec.where else (rec.where or rec.source or None)
        full = BadInputError(rec.media_path, err.problem, f"used by {where}" if where else None)
        if not skip_bad:
            others = len(bad_media) - 1
            if others:
                full = BadInputError(full.path, f"{full.problem} (and {others} more bad media files; "
                                                "use --skip-bad to import the rest)", full.record)
            raise full
        report.skipped.append(full)
    return kept


def _write(conn, good: list[Record], infos: dict[Path, Any], seen: _Seen, report: ImportReport,
           now) -> Generator[Progress, None, None]:
    """Write one chunk: its new items, its questions and their imported answers (in the import's
    transaction)."""
    new_items = _item_rows(good, seen.by_path, infos, seen.items)
    report.items_added += len(new_items)
    for row, iid in zip(new_items, rows.insert_items(conn, new_items, now)):
        seen.items[row["uri"]] = iid
    seen.uris_used.update(seen.by_path[r.media_path] for r in good)
    q_rows, a_rows = _question_rows(good, seen.by_path, seen.items, seen.question_keys, report)
    q_ids: list[int] = []
    for k in range(0, len(q_rows), QUESTION_CHUNK):
        q_ids.extend(rows.insert_questions(conn, q_rows[k:k + QUESTION_CHUNK], now))
    for a in a_rows:
        a["question_id"] = q_ids[a.pop("_q")]
    for k in range(0, len(a_rows), ANSWER_CHUNK):
        rows.insert_answers(conn, a_rows[k:k + ANSWER_CHUNK], now)
    report.questions_added += len(q_rows)
    report.answers_added += len(a_rows)
    yield Progress("writing", report.n_records, None,
                   f"read {report.n_records:,} records, wrote {report.questions_added:,} questions")


def _item_rows(good: list[Record], by_path: dict[Path, str], infos: dict[Path, Any],
               existing: dict[str, int]) -> list[dict[str, Any]]:
    """One ``items`` row for each media file not in the project yet, in the records' order."""
    new_items: dict[str, dict[str, Any]] = {}
    for rec in good:
        uri = by_path[rec.media_path]
        if uri in existing or uri in new_items:
            continue
        info = infos[rec.media_path]
        new_items[uri] = {
            "kind": info.kind.value, "uri": uri, "sha256": info.sha256, "split": rec.split,
            "width": info.width, "height": info.height, "n_points": info.n_points,
            "external_id": rec.media_id, "meta": rec.item_meta or None,
        }
    return list(new_items.values())


def _question_rows(good: list[Record], by_path: dict[Path, str], item_ids: dict[str, int],
                   seen: set[tuple[int, str, str]], report: ImportReport
                   ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The ``questions`` rows (duplicates of a question of the same item left out and counted) and
    the ``answers`` rows, each with ``_q``: the index of its question row."""
    q_rows: list[dict[str, Any]] = []
    a_rows: list[dict[str, Any]] = []
    for rec in good:
        if rec.question is None:
            continue
        iid = item_ids[by_path[rec.media_path]]
        # the dataset's own question id says which question it is (two people may ask the same
        # words about one image); without one, the words do
        key = (iid, "id", str(rec.question_id)) if rec.question_id else (iid, "text", rec.question)
        if key in seen:
            report.duplicates_skipped += 1
            continue
        seen.add(key)
        rep = rec.answer if rec.answer else vocab.majority_answer(a[0] for a in rec.answers)
        q_rows.append({
            "item_id": iid, "text": rec.question,
            "question_type": rec.question_type or vocab.question_type(rec.question),
            "answer_type": rec.answer_type or vocab.answer_type(rep, rec.question),
            "external_id": rec.question_id, "status": (Status.LABELLED if rep else Status.NEW).value,
            "answer": rep, "note": None, "meta": rec.question_meta or None,
        })
        if rep:
            answers = [tuple(a) for a in rec.answers] or [(rep, None, None)]
            a_rows.append({"_q": len(q_rows) - 1, "source": "import", "annotator": None,
                           **repo.encode_answer_rows(answers, rep)})
    return q_rows, a_rows


def _write_skip_report(project: "Project", report: ImportReport, path: Path | None) -> Path:
    """The JSON list of what ``skip_bad`` left out (default: under the project's ``reports``)."""
    path = path or project.folder / "reports" / f"import-skipped-{utcnow().strftime('%Y%m%dT%H%M%S')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "imported_questions": report.questions_added,
        "skipped": [{"file": e.path, "record": e.record, "problem": e.problem} for e in report.skipped],
    }
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path
