"""``Project``: the one facade the CLI and the GUI call.

A project is a folder::

    project.db     the SQLite database (or project.json naming another SQLAlchemy URL, e.g. PostgreSQL)
    media/         media copied into the project (imports may instead reference files elsewhere, by sha256)
    models/        model checkpoints (written atomically by the model registry)
    reports/       import reports (what --skip-bad skipped), exports
    backups/       the database as it was before a schema upgrade

Every review action is its own committed transaction that appends one row to the ``corrections``
history and updates the question's current state in the same transaction; the current answer is
the ``after`` of the question's last history row (``derived_state``).
"""
from __future__ import annotations

import gc
import getpass
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generator, Iterable, Iterator, Sequence

from sqlalchemy import JSON, Engine, func, insert, literal_column, select

from .data import media as media_mod
from .data import vocab
from .driver import drive
from .errors import BadInputError, ConflictError, ProjectError
from .formats.base import BadRecord, ExportQuestion, Record, RecordAnswer
from .store import db as dbmod
from .store import repository as repo
from .store import schema as s
from .types import (
    Action,
    Correction,
    Item,
    ItemKind,
    ModelInfo,
    Prediction,
    Progress,
    Question,
    QueueFilter,
    QueueRow,
    Stats,
    Status,
)

DB_NAME = "project.db"
CONFIG_NAME = "project.json"
DEFAULT_ACQUISITION = "entropy"

# what each answering action leaves as the question's status
_ANSWER_ACTIONS = (Action.ACCEPT, Action.PICK, Action.CORRECT, Action.AUTO_ACCEPT)


def default_annotator() -> str:
    name = os.environ.get("VQA_STUDIO_ANNOTATOR")
    if name:
        return name
    try:
        return getpass.getuser() or "annotator"
    except Exception:  # noqa: BLE001 - getpass raises various errors where no user name is known
        return "annotator"


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


class Project:
    """An open project. Thread-safe for reads and single review actions (each is one transaction)."""

    def __init__(self, folder: Path, engine: Engine, schema_version: str):
        self.folder = folder
        self.engine = engine
        #: begin write transactions on this one: they take the write lock (SQLite) before reading
        self.writer = dbmod.writer(engine)
        self.schema_version = schema_version
        self.annotator = default_annotator()

    # --- opening ------------------------------------------------------------------------------

    @staticmethod
    def _url_for(folder: Path, url: str | None) -> str:
        if url:
            return url
        cfg = folder / CONFIG_NAME
        if cfg.exists():
            try:
                data = json.loads(cfg.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ProjectError(f"{cfg}: cannot read the project settings ({exc})") from None
            if isinstance(data, dict) and data.get("database_url"):
                return str(data["database_url"])
        return dbmod.sqlite_url(folder / DB_NAME)

    @classmethod
    def create(cls, folder: str | Path, name: str | None = None, url: str | None = None) -> "Project":
        """Create a new project in ``folder`` (made if missing). Fails if one is already there."""
        folder = Path(folder).expanduser().resolve()
        if (folder / DB_NAME).exists():
            raise ProjectError(f"{folder}: a project already exists here")
        folder.mkdir(parents=True, exist_ok=True)
        if url:
            (folder / CONFIG_NAME).write_text(json.dumps({"database_url": url}, indent=2), encoding="utf-8")
        engine = dbmod.make_engine(cls._url_for(folder, url))
        try:
            version = dbmod.check_and_migrate(engine, create=True)
        except Exception:
            engine.dispose()
            raise
        project = cls(folder, engine, version)
        project._ensure_folders()
        from .. import __version__

        with engine.begin() as conn:
            if repo.get_info(conn, "name") is None:
                repo.set_info(conn, "name", name or folder.name)
                repo.set_info(conn, "created_at", dbmod.utcnow().isoformat())
                repo.set_info(conn, "created_with", __version__)
                repo.set_info(conn, "acquisition", DEFAULT_ACQUISITION)
        return project

    @classmethod
    def open(cls, folder: str | Path, url: str | None = None, create: bool = False) -> "Project":
        """Open the project in ``folder``; upgrade an older schema, refuse a newer one.

        With ``create``, a missing project is created instead.
        """
        folder = Path(folder).expanduser().resolve()
        has_db = (folder / DB_NAME).exists() or (folder / CONFIG_NAME).exists() or url is not None
        if not has_db:
            if create:
                return cls.create(folder)
            if not folder.exists():
                raise ProjectError(f"{folder}: no such folder")
            raise ProjectError(f"{folder}: not a VQA Studio project (no {DB_NAME})")
        engine = dbmod.make_engine(cls._url_for(folder, url))
        try:
            version = dbmod.check_and_migrate(engine, backup_dir=folder / "backups", create=create)
        except Exception:
            engine.dispose()
            raise
        project = cls(folder, engine, version)
        project._ensure_folders()
        return project

    def _ensure_folders(self) -> None:
        for sub in ("media", "models", "reports"):
            (self.folder / sub).mkdir(exist_ok=True)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "Project":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- settings -----------------------------------------------------------------------------

    @property
    def name(self) -> str:
        with self.engine.connect() as conn:
            return repo.get_info(conn, "name") or self.folder.name

    @property
    def media_dir(self) -> Path:
        return self.folder / "media"

    @property
    def models_dir(self) -> Path:
        return self.folder / "models"

    @property
    def active_model(self) -> str | None:
        with self.engine.connect() as conn:
            return repo.get_info(conn, "active_model")

    @property
    def acquisition(self) -> str:
        with self.engine.connect() as conn:
            return repo.get_info(conn, "acquisition") or DEFAULT_ACQUISITION

    def set_setting(self, key: str, value: str | None) -> None:
        with self.writer.begin() as conn:
            repo.set_info(conn, key, value)

    def setting(self, key: str, default: str | None = None) -> str | None:
        with self.engine.connect() as conn:
            return repo.get_info(conn, key, default)

    # --- media paths ---------------------------------------------------------------------------

    def uri_for(self, path: Path) -> str:
        """How a media path is stored: relative (posix) when inside the project folder, else absolute."""
        path = Path(path)
        if not path.is_absolute() or ".." in path.parts:
            path = path.resolve()
        text, root = str(path), str(self.folder)
        if text.startswith(root) and text[len(root):len(root) + 1] in (os.sep, "/"):
            text = text[len(root) + 1:]
        return text.replace(os.sep, "/") if os.sep != "/" else text

    def media_path(self, item_or_uri: Item | str) -> Path:
        uri = item_or_uri.uri if isinstance(item_or_uri, Item) else item_or_uri
        p = Path(uri)
        return p if p.is_absolute() else self.folder / p

    def _copy_into_media(self, path: Path, sha256: str) -> Path:
        dst = self.media_dir / sha256[:2] / f"{sha256[:20]}{path.suffix.lower()}"
        if not dst.exists():
            dst.parent.mkdir(parents=True, exist_ok=True)
            tmp = dst.with_suffix(dst.suffix + ".part")
            shutil.copyfile(path, tmp)
            os.replace(tmp, dst)
        return dst

    # --- adding single items and questions -------------------------------------------------------

    def add_item(self, path: str | Path, split: str = "train", copy: bool = False, external_id: str | None = None,
                 meta: dict[str, Any] | None = None) -> int:
        """Add the item for one media file (checked first), or return the existing one's id."""
        path = Path(path).expanduser().resolve()
        info = media_mod.probe(path)
        uri = self.uri_for(self._copy_into_media(path, info.sha256) if copy else path)
        with self.writer.begin() as conn:
            found = conn.execute(select(s.items.c.id).where(s.items.c.uri == uri)).scalar()
            if found is not None:
                return found
            return conn.execute(insert(s.items).values(
                kind=info.kind.value, uri=uri, sha256=info.sha256, split=split, width=info.width,
                height=info.height, n_points=info.n_points, external_id=external_id, meta=meta,
                created_at=dbmod.utcnow(),
            ).returning(s.items.c.id)).scalar_one()

    def add_question(self, item_id: int, text: str, answers: Sequence[str] = (), question_type: str | None = None,
                     answer_type: str | None = None, external_id: str | None = None) -> int:
        text = _clean_question(text, None, "")
        rep = vocab.majority_answer(answers) if answers else None
        now = dbmod.utcnow()
        with self.writer.begin() as conn:
            if repo.get_item(conn, item_id) is None:
                raise ProjectError(f"no item {item_id} in this project")
            qid = conn.execute(insert(s.questions).values(
                item_id=item_id, text=text, question_type=question_type or vocab.question_type(text),
                answer_type=answer_type or vocab.answer_type(rep, text), external_id=external_id,
                status=(Status.LABELLED if rep else Status.NEW).value, answer=rep, created_at=now, updated_at=now,
            ).returning(s.questions.c.id)).scalar_one()
            if answers:
                row = repo.encode_answer_rows([(a, None, None) for a in answers], rep)
                conn.execute(insert(s.answers).values(question_id=qid, source="import", created_at=now, **row))
        return qid

    # --- import ---------------------------------------------------------------------------------

    def import_records(self, records: Iterable[Record | BadRecord], *, skip_bad: bool = False,
                       report_path: Path | None = None, copy_media: bool = False,
                       verify_media: bool = True) -> Generator[Progress, None, ImportReport]:
        """Import records as one transaction. A generator: yields Progress, returns an ImportReport.

        Every media file is checked first (exists, decodes). Any bad record or file stops the import
        with a ``BadInputError`` naming the file, the record and the problem, and nothing is written;
        with ``skip_bad`` the bad ones are left out and listed in a JSON report instead. Closing the
        generator early (cancel) rolls everything back.
        """
        t0 = time.perf_counter()
        report = ImportReport()
        good: list[Record] = []
        # Parsing makes millions of small objects and none of them form cycles: the cyclic garbage
        # collector would only rescan them again and again (it costs a third of the reading time).
        gc_was_on = gc.isenabled()
        gc.disable()
        try:
            for rec in records:
                if isinstance(rec, BadRecord):
                    if not skip_bad:
                        raise rec.error
                    report.skipped.append(rec.error)
                else:
                    good.append(rec)
                if (len(good) + len(report.skipped)) % 20000 == 0:
                    yield Progress("reading", len(good) + len(report.skipped), None, "reading records")
        finally:
            if gc_was_on:
                gc.enable()
        report.n_records = len(good) + len(report.skipped)
        # The records live until the import ends; each time the writing below allocates, the cyclic
        # collector would rescan all of them (measured: more than the writing itself costs). None of
        # these objects form cycles, so
        # (the collector stays off for the import's few seconds: it allocates a million small objects)
        gc.disable()
        try:
            report = yield from self._import_records(good, report, skip_bad, report_path, copy_media, verify_media, t0)
        finally:
            if gc_was_on:
                gc.enable()
        return report

    def _import_records(self, good: list[Record], report: "ImportReport", skip_bad: bool, report_path: Path | None,
                        copy_media: bool, verify_media: bool | str, t0: float) -> Generator[Progress, None, ImportReport]:
        """The import after reading: check media, then write everything in one transaction."""
        # media: probe every file not already in the project, once
        with self.engine.connect() as conn:
            existing = {uri: iid for iid, uri in conn.execute(select(s.items.c.id, s.items.c.uri))}
        by_path: dict[Path, str] = {}  # media path -> stored uri (if kept by reference)
        to_probe: list[Path] = []
        for rec in good:
            p = rec.media_path
            if p not in by_path:
                uri = self.uri_for(p)
                by_path[p] = uri
                if uri not in existing or copy_media:
                    to_probe.append(p)
        infos: dict[Path, media_mod.MediaInfo] = {}
        bad_media: dict[Path, BadInputError] = {}
        total = len(to_probe)
        for n, (p, info) in enumerate(media_mod.probe_many(to_probe, verify=verify_media), 1):
            if isinstance(info, BadInputError):
                bad_media[p] = info
            else:
                infos[p] = info
            if n % 2000 == 0 or n == total:
                yield Progress("checking media", n, total, f"checked {n} of {total} media files")
        if bad_media:
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
            good = kept

        # copy into the project if asked (content-addressed, so a re-import copies nothing)
        if copy_media:
            for p, info in infos.items():
                by_path[p] = self.uri_for(self._copy_into_media(p, info.sha256))

        # write everything in one transaction
        now_sql = _now_literal()
        sqlite = self.engine.dialect.name == "sqlite"
        with self.writer.begin() as conn:
            repo.set_info(conn, "last_import", dbmod.utcnow().isoformat())  # takes the write lock first
            existing = {uri: iid for iid, uri in conn.execute(select(s.items.c.id, s.items.c.uri))}
            new_items: list[dict[str, Any]] = []
            item_meta: dict[str, dict[str, Any]] = {}
            for rec in good:
                uri = by_path[rec.media_path]
                if uri in existing or uri in item_meta:
                    continue
                info = infos[rec.media_path]
                meta = rec.item_meta
                item_meta[uri] = {
                    "kind": info.kind.value, "uri": uri, "sha256": info.sha256, "split": rec.split,
                    "width": info.width, "height": info.height, "n_points": info.n_points,
                    "external_id": rec.media_id, "meta": meta or None,
                }
                new_items.append(item_meta[uri])
            report.items_added = len(new_items)
            report.items_reused = len({by_path[r.media_path] for r in good}) - len(new_items)
            ids = _insert_rows(conn, s.items, new_items, now_sql, sqlite)
            for row, iid in zip(new_items, ids):
                existing[row["uri"]] = iid
            yield Progress("writing", 0, len(good), f"added {len(new_items)} items")

            seen = {(iid, text) for iid, text in conn.execute(select(s.questions.c.item_id, s.questions.c.text))}
            q_rows: list[dict[str, Any]] = []
            a_rows: list[dict[str, Any]] = []
            for rec in good:
                if rec.question is None:
                    continue
                iid = existing[by_path[rec.media_path]]
                key = (iid, rec.question)
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
            chunk = 20000
            q_ids: list[int] = []
            for k in range(0, len(q_rows), chunk):
                q_ids.extend(_insert_rows(conn, s.questions, q_rows[k:k + chunk], now_sql, sqlite, updated=True))
                yield Progress("writing", min(k + chunk, len(q_rows)), len(q_rows), "writing questions")
            for a in a_rows:
                a["question_id"] = q_ids[a.pop("_q")]
            for k in range(0, len(a_rows), 50000):
                _insert_rows(conn, s.answers, a_rows[k:k + 50000], now_sql, sqlite, want_ids=False)
            report.questions_added = len(q_rows)
            report.answers_added = len(a_rows)
            yield Progress("writing", len(q_rows), len(q_rows), "committing")

        if report.skipped:
            report.report_path = self._write_skip_report(report, report_path)
        report.seconds = time.perf_counter() - t0
        return report

    def _write_skip_report(self, report: ImportReport, path: Path | None) -> Path:
        path = path or self.folder / "reports" / f"import-skipped-{dbmod.utcnow().strftime('%Y%m%dT%H%M%S')}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "imported_questions": report.questions_added,
            "skipped": [{"file": e.path, "record": e.record, "problem": e.problem} for e in report.skipped],
        }
        path.write_text(json.dumps(data, indent=2), encoding="utf-8")
        return path

    @staticmethod
    def _run(gen: Generator[Progress, None, Any]) -> Any:
        """Drive a progress generator to its end and return its result (no progress shown)."""
        return drive(gen)

    run = _run

    # --- reading ---------------------------------------------------------------------------------

    def item(self, item_id: int) -> Item:
        with self.engine.connect() as conn:
            item = repo.get_item(conn, item_id)
        if item is None:
            raise ProjectError(f"no item {item_id} in this project")
        return item

    def items(self, item_ids: Sequence[int]) -> dict[int, Item]:
        with self.engine.connect() as conn:
            return repo.get_items(conn, item_ids)

    def question(self, question_id: int) -> Question:
        with self.engine.connect() as conn:
            q = repo.get_question(conn, question_id)
        if q is None:
            raise ProjectError(f"no question {question_id} in this project")
        return q

    def questions(self, question_ids: Sequence[int]) -> dict[int, Question]:
        with self.engine.connect() as conn:
            return repo.get_questions(conn, question_ids)

    def questions_of_item(self, item_id: int) -> list[Question]:
        with self.engine.connect() as conn:
            return repo.questions_of_item(conn, item_id)

    def imported_answers(self, question_id: int) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return repo.imported_answers(conn, question_id)

    def history(self, question_id: int) -> list[Correction]:
        with self.engine.connect() as conn:
            return repo.history(conn, question_id)

    def recent_corrections(self, limit: int = 100, annotator: str | None = None) -> list[Correction]:
        with self.engine.connect() as conn:
            return repo.recent_corrections(conn, limit, annotator)

    def prediction(self, question_id: int, model_version: str | None = None) -> Prediction | None:
        version = model_version or self.active_model
        if not version:
            return None
        with self.engine.connect() as conn:
            return repo.get_prediction(conn, question_id, version)

    def predictions(self, question_ids: Sequence[int], model_version: str | None = None) -> dict[int, Prediction]:
        version = model_version or self.active_model
        if not version:
            return {}
        with self.engine.connect() as conn:
            return repo.get_predictions(conn, question_ids, version)

    # --- review actions ---------------------------------------------------------------------------

    def record(self, question_id: int, action: Action | str, answer: str | None = None, *, pick: int | None = None,
               note: str | None = None, annotator: str | None = None, acquisition: str | None = None,
               expect_status: Status | None = None) -> Correction:
        """Apply one review action as its own committed transaction; returns the history row.

        ``accept`` takes the active model's top proposal (or confirms the imported answer when there
        is no proposal), ``pick`` takes proposal number ``pick`` (1-5), ``correct`` stores the typed
        ``answer``, ``flag`` marks the question as bad with a ``note``, ``skip`` defers it,
        ``auto_accept`` is the confidence threshold accepting the proposal.
        """
        action = Action(action)
        if action in (Action.UNDO, Action.REDO):
            raise ValueError("use Project.undo / Project.redo")
        annotator = annotator or (self.annotator if action is not Action.AUTO_ACCEPT else "auto")
        with self.writer.begin() as conn:
            q = repo.get_question(conn, question_id, for_update=True)
            if q is None:
                raise ProjectError(f"no question {question_id} in this project")
            if expect_status is not None and q.status is not expect_status:
                raise ConflictError(f"question {question_id} is now {q.status.value}, not {expect_status.value}")
            version, acq_setting = repo.get_infos(conn, "active_model", "acquisition")
            acq = acquisition or acq_setting or DEFAULT_ACQUISITION
            proposals, score = repo.proposal_and_score(conn, question_id, version, acq) if version else (None, None)
            after_answer, after_status = _after_state(q, proposals, action, answer, pick)
            c = repo.insert_correction(
                conn, question_id=question_id, action=action.value, before_answer=q.answer, after_answer=after_answer,
                before_status=q.status.value, after_status=after_status.value, annotator=annotator,
                model_version=version, score=score, acquisition=acq, note=note,
            )
            if action is Action.FLAG:
                repo.set_question_state(conn, question_id, after_answer, after_status, note, keep_note=False)
            else:
                repo.set_question_state(conn, question_id, after_answer, after_status)
        return c

    def record_many(self, question_ids: Sequence[int], action: Action | str, *, annotator: str | None = None,
                    expect_status: Status | Sequence[Status] | None = None, chunk: int = 500,
                    acquisition: str | None = None) -> Generator[Progress, None, list[Correction]]:
        """The same action (accept, auto-accept, skip, flag) for many questions: one history row each,
        committed in transactions of ``chunk`` questions. A generator of Progress; closing it stops
        after the current chunk. Questions whose status is no longer ``expect_status`` (someone
        reviewed them meanwhile) or that have nothing to accept are left as they are."""
        action = Action(action)
        if action not in (Action.ACCEPT, Action.AUTO_ACCEPT, Action.SKIP, Action.FLAG):
            raise ValueError(f"record_many takes accept, auto_accept, skip or flag, not {action.value}")
        expected = None if expect_status is None else (
            {Status(expect_status)} if isinstance(expect_status, (Status, str)) else {Status(x) for x in expect_status})
        annotator = annotator or (self.annotator if action is not Action.AUTO_ACCEPT else "auto")
        done: list[Correction] = []
        ids = list(question_ids)
        for k in range(0, len(ids), chunk):
            with self.writer.begin() as conn:
                version, acq_setting = repo.get_infos(conn, "active_model", "acquisition")
                acq = acquisition or acq_setting or DEFAULT_ACQUISITION
                for qid in ids[k:k + chunk]:
                    q = repo.get_question(conn, qid, for_update=True)
                    if q is None or (expected is not None and q.status not in expected):
                        continue
                    proposals, score = repo.proposal_and_score(conn, qid, version, acq) if version else (None, None)
                    try:
                        after_answer, after_status = _after_state(q, proposals, action, None, None)
                    except ConflictError:
                        continue
                    done.append(repo.insert_correction(
                        conn, question_id=qid, action=action.value, before_answer=q.answer, after_answer=after_answer,
                        before_status=q.status.value, after_status=after_status.value, annotator=annotator,
                        model_version=version, score=score, acquisition=acq))
                    repo.set_question_state(conn, qid, after_answer, after_status)
            yield Progress(action.value, min(k + chunk, len(ids)), len(ids), f"{len(done)} recorded")
        return done

    def undo(self, correction_id: int, annotator: str | None = None) -> Correction:
        """Revert one history row (its own transaction); returns the new ``undo`` row.

        Refused with ``ConflictError`` if the question has changed since that row (someone else, or
        another window, edited it): undo never overwrites newer work.
        """
        with self.writer.begin() as conn:
            target = repo.get_correction(conn, correction_id)
            if target is None:
                raise ProjectError(f"no correction {correction_id} in this project")
            q = repo.get_question(conn, target.question_id, for_update=True)
            if (q.answer, q.status) != (target.after_answer, target.after_status):
                raise ConflictError(
                    f"question {q.id} changed after that edit (now '{q.answer}', {q.status.value}); not undone"
                )
            c = repo.insert_correction(
                conn, question_id=q.id, action=Action.UNDO.value, before_answer=q.answer,
                after_answer=target.before_answer, before_status=q.status.value,
                after_status=target.before_status.value, annotator=annotator or self.annotator,
                model_version=target.model_version, score=target.score, acquisition=target.acquisition,
                target_id=target.id,
            )
            repo.set_question_state(conn, q.id, target.before_answer, target.before_status)
        return c

    def redo(self, undo_id: int, annotator: str | None = None) -> Correction:
        """Re-apply what the ``undo`` row ``undo_id`` reverted; returns the new ``redo`` row."""
        with self.writer.begin() as conn:
            u = repo.get_correction(conn, undo_id)
            if u is None or u.action is not Action.UNDO:
                raise ProjectError(f"correction {undo_id} is not an undo")
            q = repo.get_question(conn, u.question_id, for_update=True)
            if (q.answer, q.status) != (u.after_answer, u.after_status):
                raise ConflictError(f"question {q.id} changed after the undo; not redone")
            c = repo.insert_correction(
                conn, question_id=q.id, action=Action.REDO.value, before_answer=q.answer, after_answer=u.before_answer,
                before_status=q.status.value, after_status=u.before_status.value,
                annotator=annotator or self.annotator, model_version=u.model_version, score=u.score,
                acquisition=u.acquisition, target_id=u.id,
            )
            repo.set_question_state(conn, q.id, u.before_answer, u.before_status)
        return c

    def derived_state(self, question_id: int) -> tuple[str | None, Status]:
        """The question's answer and status as its history says (the last row's 'after')."""
        with self.engine.connect() as conn:
            hist = repo.history(conn, question_id)
            q = repo.get_question(conn, question_id)
        if not hist:
            return q.answer, q.status
        return hist[-1].after_answer, hist[-1].after_status

    def verify_history(self) -> list[str]:
        """Check every question's history is an unbroken chain ending in its current state.

        Returns a list of problems (empty when all is consistent).
        """
        problems: list[str] = []
        c, q = s.corrections, s.questions
        with self.engine.connect() as conn:
            current = {r.id: (r.answer, r.status) for r in conn.execute(select(q.c.id, q.c.answer, q.c.status))}
            prev: dict[int, tuple[str | None, str]] = {}
            rows = conn.execute(select(c.c.id, c.c.question_id, c.c.before_answer, c.c.before_status,
                                       c.c.after_answer, c.c.after_status).order_by(c.c.id))
            for r in rows:
                if r.question_id in prev and prev[r.question_id] != (r.before_answer, r.before_status):
                    problems.append(f"correction {r.id}: 'before' does not match the previous row of question {r.question_id}")
                prev[r.question_id] = (r.after_answer, r.after_status)
        for qid, state in prev.items():
            if current.get(qid) != state:
                problems.append(f"question {qid}: current state {current.get(qid)} differs from its history {state}")
        return problems

    def human_answers(self, question_id: int) -> list[tuple[str, str]]:
        """(annotator, answer) for each answering action still in effect (not undone), in time order."""
        return effective_answers(self.history(question_id))

    # --- the review queue ---------------------------------------------------------------------------

    def queue_ids(self, order_by: str | None = None, filters: QueueFilter | None = None, limit: int | None = None,
                  offset: int = 0, descending: bool = True) -> list[int]:
        filt = filters or QueueFilter()
        with self.engine.connect() as conn:
            version = filt.model_version or repo.get_info(conn, "active_model")
            order = order_by or repo.get_info(conn, "acquisition") or DEFAULT_ACQUISITION
            return repo.queue_ids(conn, order, filt, version, descending, limit, offset)

    def queue(self, order_by: str | None = None, filters: QueueFilter | None = None, limit: int = 100,
              offset: int = 0, descending: bool = True) -> list[QueueRow]:
        """Questions in review order (most informative first by ``order_by``), with what the table shows."""
        filt = filters or QueueFilter()
        with self.engine.connect() as conn:
            version = filt.model_version or repo.get_info(conn, "active_model")
            order = order_by or repo.get_info(conn, "acquisition") or DEFAULT_ACQUISITION
            ids = repo.queue_ids(conn, order, filt, version, descending, limit, offset)
            return repo.queue_rows(conn, ids, version, order)

    def queue_rows(self, question_ids: Sequence[int], order_by: str | None = None,
                   model_version: str | None = None) -> list[QueueRow]:
        with self.engine.connect() as conn:
            version = model_version or repo.get_info(conn, "active_model")
            order = order_by or repo.get_info(conn, "acquisition") or DEFAULT_ACQUISITION
            return repo.queue_rows(conn, question_ids, version, order)

    def queue_count(self, filters: QueueFilter | None = None) -> int:
        with self.engine.connect() as conn:
            return repo.queue_count(conn, filters or QueueFilter())

    # --- stats ---------------------------------------------------------------------------------

    def stats(self) -> Stats:
        q, i, c = s.questions, s.items, s.corrections
        with self.engine.connect() as conn:
            info = repo.all_info(conn)
            return Stats(
                name=info.get("name") or self.folder.name,
                n_items=conn.execute(select(func.count()).select_from(i)).scalar_one(),
                n_items_by_kind=repo.count_by(conn, i.c.kind),
                n_questions=conn.execute(select(func.count()).select_from(q)).scalar_one(),
                by_status=repo.count_by(conn, q.c.status),
                by_split=repo.count_by(conn, i.c.split, join_items=True),
                by_answer_type=repo.count_by(conn, q.c.answer_type),
                by_question_type=repo.count_by(conn, q.c.question_type),
                n_corrections=conn.execute(select(func.count()).select_from(c)).scalar_one(),
                by_action=repo.count_by(conn, c.c.action),
                annotators=repo.count_by(conn, c.c.annotator),
                active_model=info.get("active_model"),
                n_models=conn.execute(select(func.count()).select_from(s.models)).scalar_one(),
                n_predictions=conn.execute(select(func.count()).select_from(s.predictions)).scalar_one(),
                schema_version=self.schema_version,
            )

    def question_types(self) -> list[str]:
        with self.engine.connect() as conn:
            return sorted(repo.count_by(conn, s.questions.c.question_type))

    def splits(self) -> list[str]:
        with self.engine.connect() as conn:
            return sorted(repo.count_by(conn, s.items.c.split))

    # --- export -------------------------------------------------------------------------------------

    def export_rows(self, splits: Sequence[str] | None = None, kinds: Sequence[ItemKind | str] | None = None
                    ) -> Iterator[ExportQuestion]:
        """Every question (with its item, current answer, imported and human answers), by split and id."""
        q, i, c = s.questions, s.items, s.corrections
        stmt = select(q, i.c.uri, i.c.split, i.c.external_id.label("item_external_id"),
                      i.c.meta.label("item_meta")).select_from(
            q.join(i, i.c.id == q.c.item_id)).order_by(i.c.split, q.c.id)
        if splits:
            stmt = stmt.where(i.c.split.in_(list(splits)))
        if kinds:
            stmt = stmt.where(i.c.kind.in_([ItemKind(k).value for k in kinds]))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
            imported = repo.imported_answers_many(conn)
            hist: dict[int, list[Correction]] = {}
            for r in conn.execute(select(c).order_by(c.c.id)):
                hist.setdefault(r.question_id, []).append(repo._correction(r))
        for r in rows:
            yield ExportQuestion(
                question_id=r.id, external_id=r.external_id, text=r.text, question_type=r.question_type,
                answer_type=r.answer_type, split=r.split, item_id=r.item_id, item_external_id=r.item_external_id,
                media_path=self.media_path(r.uri), media_uri=r.uri, answer=r.answer, status=r.status,
                imported_answers=[RecordAnswer(a["answer"], a["confidence"], a["answer_id"]) for a in imported.get(r.id, [])],
                human_answers=effective_answers(hist.get(r.id, [])),
                item_meta=dict(r.item_meta or {}), question_meta=dict(r.meta or {}),
            )

    def export_items(self, splits: Sequence[str] | None = None) -> Iterator[tuple[str, int, Path]]:
        """``(split, item_id, media path)`` of every item, questions or not."""
        i = s.items
        stmt = select(i.c.split, i.c.id, i.c.uri).order_by(i.c.split, i.c.id)
        if splits:
            stmt = stmt.where(i.c.split.in_(list(splits)))
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        for split, iid, uri in rows:
            yield split, iid, self.media_path(uri)

    # --- models (registry rows; checkpoints are written by core.model.registry) -------------------------

    def activate_model(self, version: str) -> None:
        """Make a registered model version active (rolling back is the same call). No torch needed."""
        with self.writer.begin() as conn:
            if repo.get_model(conn, version) is None:
                raise ProjectError(f"no model version {version!r} in this project")
            repo.set_info(conn, "active_model", version)

    def models(self) -> list[ModelInfo]:
        with self.engine.connect() as conn:
            return repo.list_models(conn)

    def model(self, version: str) -> ModelInfo | None:
        with self.engine.connect() as conn:
            return repo.get_model(conn, version)


# --- helpers ---------------------------------------------------------------------------------------

def _clean_question(text: Any, path: Path | None, where: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise BadInputError(path, "the question is empty", where or None)
    return " ".join(text.split())


def _after_state(q: Question, proposals: Sequence[str] | None, action: Action, answer: str | None,
                 pick: int | None) -> tuple[str | None, Status]:
    top = proposals[0] if proposals else None
    if action is Action.ACCEPT:
        if top is not None:
            return top, Status.ACCEPTED
        if q.answer is not None:
            return q.answer, Status.ACCEPTED
        raise ConflictError(f"question {q.id} has no proposal and no answer to accept; type an answer instead")
    if action is Action.AUTO_ACCEPT:
        if top is None:
            raise ConflictError(f"question {q.id} has no proposal to auto-accept")
        return top, Status.AUTO_ACCEPTED
    if action is Action.PICK:
        if not proposals or not pick or not 1 <= pick <= len(proposals):
            n = len(proposals) if proposals else 0
            raise ConflictError(f"question {q.id}: no proposal number {pick} (the model proposed {n})")
        chosen = proposals[pick - 1]
        return chosen, Status.ACCEPTED if pick == 1 else Status.CORRECTED
    if action is Action.CORRECT:
        if answer is None or not answer.strip():
            raise ValueError("a correction needs an answer")
        typed = " ".join(answer.split())
        same_as_model = top is not None and vocab.normalize_answer(typed) == vocab.normalize_answer(top)
        return typed, Status.ACCEPTED if same_as_model else Status.CORRECTED
    if action is Action.FLAG:
        return q.answer, Status.FLAGGED
    if action is Action.SKIP:
        return q.answer, Status.SKIPPED
    raise ValueError(f"unknown action {action}")


def effective_answers(hist: Sequence[Correction]) -> list[tuple[str, str]]:
    """Answering rows still in effect after undo/redo, as (annotator, answer), in time order."""
    by_id = {c.id: c for c in hist}

    def origin(c: Correction) -> Correction:
        # a redo re-applies the row its undo reverted
        while c.action is Action.REDO and c.target_id in by_id:
            u = by_id[c.target_id]
            c = by_id.get(u.target_id, u)
        return c

    live: dict[int, Correction] = {}
    for c in hist:
        if c.action in _ANSWER_ACTIONS:
            live[c.id] = c
        elif c.action is Action.UNDO and c.target_id in by_id:
            live.pop(origin(by_id[c.target_id]).id, None)
        elif c.action is Action.REDO:
            o = origin(c)
            if o.action in _ANSWER_ACTIONS:
                live[o.id] = o
    return [(c.annotator, c.after_answer) for c in sorted(live.values(), key=lambda c: c.id) if c.after_answer]


def _now_literal():
    """The current UTC time as a SQL literal, so bulk inserts skip per-row datetime conversion."""
    return literal_column("'" + dbmod.utcnow().isoformat(sep=" ") + "'")


def _insert_rows(conn, table, rows: list[dict[str, Any]], now_sql, sqlite: bool, updated: bool = False,
                 want_ids: bool = True) -> list[int]:
    """Bulk insert; returns the new ids in row order (or nothing when ``want_ids`` is false).

    On SQLite (the transaction already holds the write lock) the ids are assigned here and the rows
    go straight to the driver's ``executemany`` as tuples, several times faster than INSERT ...
    RETURNING through the ORM-level parameter processing. Other databases (PostgreSQL) use
    ``INSERT ... RETURNING`` in row order.
    """
    if not rows:
        return []
    stamps = {"created_at": now_sql, **({"updated_at": now_sql} if updated else {})}
    if not sqlite:
        stmt = insert(table).values(**stamps)
        if not want_ids:
            conn.execute(stmt, rows)
            return []
        return list(conn.execute(stmt.returning(table.c.id, sort_by_parameter_order=True), rows).scalars())
    ids: list[int] = []
    cols = list(rows[0])
    if want_ids:
        start = conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one() + 1
        ids = list(range(start, start + len(rows)))
        cols = ["id", *cols]
    json_cols = {c.name for c in table.columns if isinstance(c.type, JSON)}
    encoders = [(lambda v: None if v is None else json.dumps(v)) if c in json_cols else None for c in cols]
    stamp_sql = ", ".join(str(v) for v in stamps.values())
    sql = (f"INSERT INTO {table.name} ({', '.join(cols + list(stamps))}) "
           f"VALUES ({', '.join('?' * len(cols))}, {stamp_sql})")
    columns = [ids] if want_ids else []
    columns += [[r[k] for r in rows] for k in (cols[1:] if want_ids else cols)]
    columns = [col if enc is None else list(map(enc, col)) for col, enc in zip(columns, encoders)]
    conn.exec_driver_sql(sql, list(zip(*columns)))
    return ids
