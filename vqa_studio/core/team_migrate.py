"""Copy a project between SQLite and PostgreSQL (``vqa-studio migrate``): every table with its ids
(questions, answers, the whole correction history, cuboids and their edits, runs, models,
predictions and their scores, settings), the project's files (``media/`` copies, ``models/``,
``reports/``), then a check that every table has as many rows on both sides.

Each side is a project folder (``project.db``, or ``project.json`` naming a server) or a database URL.
A URL destination needs a folder for the team project's files (``project.json`` names the URL
there); a URL source without a folder copies the database only (model files are then reported
missing unless their paths are absolute).
"""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generator

from .errors import ProjectError
from .project import CONFIG_NAME, DB_NAME, Project
from .store import db as dbmod
from .store import transfer
from .types import Progress

FILE_FOLDERS = ("media", "models", "reports")


def is_url(target: str) -> bool:
    return "://" in str(target)


@dataclass
class MigrateReport:
    source: str
    destination: str
    folder: Path
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # table -> (source, destination)
    files_copied: int = 0
    missing_models: list[str] = field(default_factory=list)  # model files the destination cannot find

    @property
    def mismatches(self) -> list[str]:
        return [t for t, (a, b) in self.counts.items() if a != b]

    @property
    def ok(self) -> bool:
        return not self.mismatches and not self.missing_models

    def lines(self) -> list[str]:
        out = [f"{self.source} -> {self.destination}"]
        out += [f"{t}: {a} -> {b}{'' if a == b else '  MISMATCH'}" for t, (a, b) in self.counts.items()]
        out.append(f"files copied: {self.files_copied}")
        if self.missing_models:
            out.append(f"model files missing at the destination: {', '.join(self.missing_models)}")
        out.append("verified: every table has the same number of rows" if not self.mismatches
                   else f"MISMATCH in {', '.join(self.mismatches)}")
        return out


def _open_source(source: str) -> tuple[Project, Path | None]:
    if is_url(source):
        tmp = Path(tempfile.mkdtemp(prefix="vqa-migrate-src-"))
        try:
            return Project.open(tmp, url=source), tmp
        except Exception:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    folder = Path(source).expanduser()
    if not (folder / DB_NAME).exists() and not (folder / CONFIG_NAME).exists():
        raise ProjectError(f"{folder}: not a VQA Studio project (no {DB_NAME} or {CONFIG_NAME})")
    return Project.open(folder), None


def _create_destination(destination: str, folder: str | Path | None) -> Project:
    if is_url(destination):
        if folder is None:
            raise ProjectError(f"{dbmod.safe_url(destination)}: a database URL as the destination needs --folder, "
                               "the team project's folder (its project.json, models and media)")
        engine = dbmod.make_engine(destination)
        try:
            if transfer.holds_data(engine):
                raise ProjectError(f"{dbmod.safe_url(destination)}: the destination database is not empty; "
                                   "migrate copies into a new, empty database only")
        finally:
            engine.dispose()
        target = Path(folder).expanduser()
        if (target / DB_NAME).exists() or (target / CONFIG_NAME).exists():
            raise ProjectError(f"{target}: a project already exists here; choose a new folder")
        return Project.create(target, url=destination)
    target = Path(destination).expanduser()
    if (target / DB_NAME).exists() or (target / CONFIG_NAME).exists():
        raise ProjectError(f"{target}: a project already exists here; migrate copies into a new folder")
    return Project.create(target)


def _copy_files(src: Path, dst: Path) -> int:
    n = 0
    if src.resolve() == dst.resolve():
        return 0
    for sub in FILE_FOLDERS:
        root = src / sub
        if not root.is_dir():
            continue
        for path in root.rglob("*"):
            if path.is_file():
                out = dst / path.relative_to(src)
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, out)
                n += 1
    return n


def migrate(source: str, destination: str, folder: str | Path | None = None
            ) -> Generator[Progress, None, MigrateReport]:
    """Copy the project at ``source`` into a new project at ``destination`` (see the module). A
    generator of Progress; returns the report with both sides' counts. Closing it early (cancel)
    rolls the database copy back (it is one transaction)."""
    src, tmp = _open_source(source)
    try:
        new_folder = Path(folder if is_url(destination) else destination).expanduser() if (
            folder is not None or not is_url(destination)) else None
        made = new_folder is not None and not new_folder.exists()
        dst = _create_destination(destination, folder)
        try:
            report = MigrateReport(source, dbmod.safe_url(destination) if is_url(destination) else destination,
                                   dst.folder)
            yield from _copy_rows(src, dst)
            report.files_copied = _copy_files(src.folder, dst.folder) if tmp is None else 0
            yield Progress("files", 1, 1, f"{report.files_copied} files copied")
            with src.engine.connect() as a, dst.engine.connect() as b:
                before, after = transfer.counts(a), transfer.counts(b)
                paths = transfer.model_paths(b)
            report.counts = {t: (before[t], after.get(t, -1)) for t in before}
            report.missing_models = [p for p in paths if not dst.media_path(p).exists()]
            return report
        except BaseException:
            dst.close()
            if made:  # a cancelled or failed copy leaves no half project behind (a server's rows rolled back)
                shutil.rmtree(new_folder, ignore_errors=True)
            raise
        finally:
            dst.close()
    finally:
        src.close()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _copy_rows(src: Project, dst: Project) -> Generator[Progress, None, None]:
    with src.engine.connect() as a:
        totals = transfer.counts(a)
    total = sum(totals.values())
    done = 0
    with src.engine.connect() as a, dst.writer.begin() as b:
        transfer.clear_settings(b)
        for table in transfer.tables():
            base = done
            for n in transfer.copy_table(a, b, table):
                done = base + n
                yield Progress("copy", done, total, f"{table.name}: {n} of {totals[table.name]} rows")
        transfer.reset_sequences(b)
