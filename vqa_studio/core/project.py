"""``Project``: the one facade the CLI and the GUI call.

A project is a folder::

    project.db     the SQLite database (or project.json naming another SQLAlchemy URL, e.g. PostgreSQL)
    media/         media copied into the project (imports may instead reference files elsewhere, by sha256)
    models/        model checkpoints (written atomically by the model registry)
    reports/       import reports (what --skip-bad skipped), exports
    backups/       the database as it was before a schema upgrade

Every review action is its own committed transaction that appends one row to the ``corrections``
history and updates the question's current state in the same transaction; the current answer is
the ``after`` of the question's last history row (``derived_state``). The work is done elsewhere and
``Project`` delegates: the queries in ``core/store/``, importing in ``core.importing``, the review
history in ``core.review``.
"""
from __future__ import annotations

import getpass
import json
import os
import shutil
from pathlib import Path
from typing import Any, Generator, Iterable, Iterator, Sequence

from . import importing, review
from .data import media as media_mod
from .data import vocab
from .driver import drive
from .errors import ProjectError
from .formats.base import BadRecord, ExportQuestion, Record, RecordAnswer
from .importing import ImportReport
from .review import DEFAULT_ACQUISITION, ReviewRecord, effective_answers
from .store import db as dbmod
from .store import project_rows
from .store import history as history_rows
from .store import repository as repo
from .store.db import Engine
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

__all__ = ["Project", "ImportReport", "ReviewRecord", "effective_answers", "default_annotator",
           "DEFAULT_ACQUISITION", "DB_NAME", "CONFIG_NAME"]

DB_NAME = "project.db"
CONFIG_NAME = "project.json"


def default_annotator() -> str:
    name = os.environ.get("VQA_STUDIO_ANNOTATOR")
    if name:
        return name
    try:
        return getpass.getuser() or "annotator"
    except Exception:  # noqa: BLE001 - getpass raises various errors where no user name is known
        return "annotator"


def _writable(folder: Path) -> bool:
    """Whether the project's folder and database file can be written (SQLite writes its journal and
    lock files beside the database)."""
    db = folder / DB_NAME
    return os.access(folder, os.W_OK) and (not db.exists() or os.access(db, os.W_OK))


class _ReadOnly:
    """``Project.writer`` of a project opened read-only: every write is refused with a message."""

    def __init__(self, folder: Path):
        self.folder = folder

    def begin(self):
        raise ProjectError(f"{self.folder}: the project is open read-only (its folder or database cannot be "
                           "written here): it can be viewed, exported and evaluated, but reviews, imports and "
                           "training need a folder you can write to")


class Project:
    """An open project. Thread-safe for reads and single review actions (each is one transaction)."""

    def __init__(self, folder: Path, engine: Engine, schema_version: str, read_only: bool = False):
        self.folder = folder
        self.engine = engine
        self.read_only = read_only
        #: begin write transactions on this one: they take the write lock (SQLite) before reading
        self.writer = _ReadOnly(folder) if read_only else dbmod.writer(engine)
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
        read_only = url is None and not (folder / CONFIG_NAME).exists() and not _writable(folder)
        engine = dbmod.make_engine(cls._url_for(folder, url), read_only=read_only)
        try:
            if read_only:
                version = dbmod.check_read_only(engine)
            else:
                version = dbmod.check_and_migrate(engine, backup_dir=folder / "backups", create=create)
        except Exception:
            engine.dispose()
            raise
        project = cls(folder, engine, version, read_only=read_only)
        if not read_only:
            project._ensure_folders()
        return project

    def _ensure_folders(self) -> None:
        for sub in ("media", "models", "reports"):
            (self.folder / sub).mkdir(exist_ok=True)

    def close(self) -> None:
        self.engine.dispose()

    @staticmethod
    def fault_message(exc: BaseException) -> str | None:
        """What a failed write means for the user when the machine is at fault (a locked database, a
        full disk, a read-only file system), else None: the GUI shows it instead of the raw error."""
        return dbmod.machine_fault(exc)

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
            found = project_rows.item_id_by_uri(conn, uri)
            if found is not None:
                return found
            return project_rows.insert_item(
                conn, kind=info.kind.value, uri=uri, sha256=info.sha256, split=split, width=info.width,
                height=info.height, n_points=info.n_points, external_id=external_id, meta=meta, now=dbmod.utcnow())

    def add_question(self, item_id: int, text: str, answers: Sequence[str] = (), question_type: str | None = None,
                     answer_type: str | None = None, external_id: str | None = None) -> int:
        text = importing.clean_question(text, None, "")
        rep = vocab.majority_answer(answers) if answers else None
        now = dbmod.utcnow()
        with self.writer.begin() as conn:
            if repo.get_item(conn, item_id) is None:
                raise ProjectError(f"no item {item_id} in this project")
            qid = project_rows.insert_question(
                conn, item_id=item_id, text=text, question_type=question_type or vocab.question_type(text),
                answer_type=answer_type or vocab.answer_type(rep, text), external_id=external_id,
                status=(Status.LABELLED if rep else Status.NEW).value, answer=rep, now=now)
            if answers:
                project_rows.insert_imported_answers(conn, qid, answers, rep, now)
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
        return importing.import_records(self, records, skip_bad=skip_bad, report_path=report_path,
                                        copy_media=copy_media, verify_media=verify_media)

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

    def review_record(self, question_id: int, version: str | None = None) -> ReviewRecord | None:
        """What the review shows about one question (question, item, its prediction under ``version``,
        history, human and imported answers), read on one connection; None when there is no such
        question. No version: no prediction."""
        return review.review_record(self, question_id, version)

    # --- review actions (core.review) -----------------------------------------------------------------

    def record(self, question_id: int, action: Action | str, answer: str | None = None, *, pick: int | None = None,
               note: str | None = None, annotator: str | None = None, acquisition: str | None = None,
               expect_status: Status | None = None, base_version: int | None = None) -> Correction:
        """Apply one review action as its own committed transaction; returns the history row.

        ``accept`` takes the active model's top proposal (or confirms the imported answer when there
        is no proposal), ``pick`` takes proposal number ``pick`` (1-5), ``correct`` stores the typed
        ``answer``, ``flag`` marks the question as bad with a ``note``, ``skip`` defers it,
        ``auto_accept`` is the confidence threshold accepting the proposal. With ``base_version`` (the
        question's version the annotator saw) a question changed since raises ``EditConflictError``.
        """
        return review.record(self, question_id, action, answer, pick=pick, note=note, annotator=annotator,
                             acquisition=acquisition, expect_status=expect_status, base_version=base_version)

    def team(self, annotator: str | None = None, lease_s: float | None = None):
        """Claims (leases) on questions for ``annotator`` (default: this project's): ``core.team.Team``."""
        from .team import Team

        return Team(self, annotator, lease_s)

    def record_many(self, question_ids: Sequence[int], action: Action | str, *, annotator: str | None = None,
                    expect_status: Status | Sequence[Status] | None = None, chunk: int = 500,
                    acquisition: str | None = None) -> Generator[Progress, None, list[Correction]]:
        """The same action (accept, auto-accept, skip, flag) for many questions: one history row each,
        committed in transactions of ``chunk`` questions. A generator of Progress; closing it stops
        after the current chunk. Questions whose status is no longer ``expect_status`` (someone
        reviewed them meanwhile) or that have nothing to accept are left as they are."""
        return review.record_many(self, question_ids, action, annotator=annotator, expect_status=expect_status,
                                  chunk=chunk, acquisition=acquisition)

    def undo(self, correction_id: int, annotator: str | None = None) -> Correction:
        """Revert one history row (its own transaction); returns the new ``undo`` row.

        Refused with ``ConflictError`` if the question has changed since that row (someone else, or
        another window, edited it): undo never overwrites newer work.
        """
        return review.undo(self, correction_id, annotator)

    def redo(self, undo_id: int, annotator: str | None = None) -> Correction:
        """Re-apply what the ``undo`` row ``undo_id`` reverted; returns the new ``redo`` row."""
        return review.redo(self, undo_id, annotator)

    def derived_state(self, question_id: int) -> tuple[str | None, Status]:
        """The question's answer and status as its history says (the last row's 'after')."""
        return review.derived_state(self, question_id)

    def verify_history(self) -> list[str]:
        """Check every question's history is an unbroken chain ending in its current state.

        Returns a list of problems (empty when all is consistent).
        """
        return review.verify_history(self)

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
        with self.engine.connect() as conn:
            return project_rows.project_stats(conn, self.folder.name, self.schema_version)

    def question_types(self) -> list[str]:
        with self.engine.connect() as conn:
            return project_rows.question_types(conn)

    def answer_types(self) -> list[str]:
        """The answer types in use, sorted."""
        with self.engine.connect() as conn:
            return project_rows.answer_types(conn)

    def splits(self) -> list[str]:
        with self.engine.connect() as conn:
            return project_rows.splits(conn)

    # --- export -------------------------------------------------------------------------------------

    def export_rows(self, splits: Sequence[str] | None = None, kinds: Sequence[ItemKind | str] | None = None
                    ) -> Iterator[ExportQuestion]:
        """Every question (with its item, current answer, imported and human answers), by split and id."""
        with self.engine.connect() as conn:
            rows = project_rows.export_question_rows(conn, splits, kinds)
            imported = repo.imported_answers_many(conn)
            hist = history_rows.all_histories(conn)
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
        with self.engine.connect() as conn:
            rows = project_rows.export_item_rows(conn, splits)
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
