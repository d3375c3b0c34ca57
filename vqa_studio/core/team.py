"""Team review on one shared database: claims with a lease, and edits checked against the version
the annotator saw.

* ``Team.claim_next(n)`` hands out the next ``n`` questions of the queue that nobody else holds and
  claims them for ``lease_s`` seconds (the project setting ``lease_minutes``, default 10 minutes).
  ``renew`` extends the claims while the questions are open, ``release`` drops them on close; a
  lease that expired is taken over by whoever the queue hands the question to next. Two annotators
  never get the same question from the queue (``core.store.leases`` says how). Lease times come from
  the server's clock on PostgreSQL, so annotators' machines need not agree on the time.
* ``VersionedReviewCommand`` is a review command that carries the question's version it was based
  on; if someone else changed the question first, ``EditConflictError`` carries both answers and
  nothing is written (``core.review.record``).

Both work the same on PostgreSQL (a team server) and on SQLite (one file, one writer at a time).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from .commands import ReviewCommand
from .errors import ProjectError
from .review import DEFAULT_ACQUISITION
from .store import leases
from .store import repository as repo
from .store.db import utcnow, when_unlocked
from .types import Correction, QueueFilter

if TYPE_CHECKING:  # pragma: no cover
    from .project import Project

DEFAULT_LEASE_MINUTES = 10.0
LEASE_SETTING = "lease_minutes"


@dataclass(frozen=True)
class Claim:
    """Who holds a question, and until when (naive UTC)."""

    question_id: int
    annotator: str
    claimed_at: datetime
    expires_at: datetime

    def live(self, now: datetime | None = None) -> bool:
        return self.expires_at > (now or utcnow())


def _claim(row: leases.ClaimRow | None) -> Claim | None:
    return Claim(*row) if row is not None else None


def lease_seconds(project: "Project") -> float:
    """The project's lease length (setting ``lease_minutes``), in seconds."""
    value = project.setting(LEASE_SETTING)
    try:
        minutes = float(value) if value else DEFAULT_LEASE_MINUTES
    except ValueError:
        raise ProjectError(f"the project setting {LEASE_SETTING}={value!r} is not a number of minutes") from None
    if not minutes > 0:
        raise ProjectError(f"the project setting {LEASE_SETTING}={value!r} must be more than 0 minutes")
    return minutes * 60.0


class Team:
    """One annotator's claims on a project. Every method is its own transaction."""

    def __init__(self, project: "Project", annotator: str | None = None, lease_s: float | None = None):
        self.project = project
        self.annotator = annotator or project.annotator
        self.lease_s = float(lease_s) if lease_s is not None else lease_seconds(project)

    def claim_next(self, n: int = 1, *, order_by: str | None = None, filters: QueueFilter | None = None,
                   descending: bool = True, release: Sequence[int] = ()) -> list[int]:
        """Claim the next ``n`` questions of the queue (by default those still to review, most
        informative first) that nobody else holds; questions this annotator already holds come too
        (their lease is renewed). Returns their ids in queue order (fewer when the queue runs dry).
        ``release``: questions this annotator is done with, released in the same transaction."""
        filt = leases.to_review_filter(filters)
        return when_unlocked(lambda: self._claim_next(n, order_by, filt, descending, list(release)))

    def _claim_next(self, n: int, order_by: str | None, filt: QueueFilter, descending: bool,
                    release: list[int]) -> list[int]:
        got: list[int] = []
        with self.project.writer.begin() as conn:
            if release:
                leases.release(conn, release, self.annotator)
            active, acquisition = repo.get_infos(conn, "active_model", "acquisition")
            version = filt.model_version or active
            order = order_by or acquisition or DEFAULT_ACQUISITION
            now = leases.db_now(conn)
            expires = leases.lease_end(now, self.lease_s)
            for _ in range(4):  # a candidate claimed by someone since our snapshot is passed over
                ids = leases.candidates(conn, annotator=self.annotator, now=now, order_by=order, version=version,
                                        filt=filt, limit=(n - len(got)) * 2 + len(got), descending=descending)
                fresh = [qid for qid in ids if qid not in got]
                if not fresh:
                    break
                for qid in fresh:
                    if leases.take(conn, qid, self.annotator, now, expires):
                        got.append(qid)
                        if len(got) == n:
                            return got
        return got

    def claim(self, question_id: int) -> Claim:
        """Claim one question (the annotator opened it); returns who holds it afterwards: this
        annotator, or the one whose live lease stands (nothing is taken from them)."""
        def work() -> Claim:
            with self.project.writer.begin() as conn:
                now = leases.db_now(conn)
                if repo.question_version(conn, question_id) is None:
                    raise ProjectError(f"no question {question_id} in this project")
                leases.take(conn, question_id, self.annotator, now, leases.lease_end(now, self.lease_s))
                return _claim(leases.holder(conn, question_id))
        return when_unlocked(work)

    def renew(self, question_ids: Sequence[int]) -> list[int]:
        """Extend this annotator's leases on these questions (they are still open); returns those still
        held (a lease someone took over after it expired is theirs now)."""
        def work() -> list[int]:
            with self.project.writer.begin() as conn:
                return leases.renew(conn, question_ids, self.annotator,
                                    leases.lease_end(leases.db_now(conn), self.lease_s))
        return when_unlocked(work)

    def release(self, question_ids: Sequence[int] | None = None) -> int:
        """Drop this annotator's claims on these questions (all of them with None); returns how many."""
        def work() -> int:
            with self.project.writer.begin() as conn:
                return leases.release(conn, question_ids, self.annotator)
        return when_unlocked(work)

    def holder(self, question_id: int) -> Claim | None:
        """The live claim on a question, or None."""
        with self.project.engine.connect() as conn:
            c = _claim(leases.holder(conn, question_id))
            now = leases.db_now(conn)
        return c if c is not None and c.live(now) else None

    def claims(self, everyone: bool = False) -> list[Claim]:
        """The live claims of this annotator (of everyone with ``everyone``)."""
        with self.project.engine.connect() as conn:
            rows = leases.live_claims(conn, leases.db_now(conn), None if everyone else self.annotator)
        return [Claim(*r) for r in rows]


@dataclass
class VersionedReviewCommand(ReviewCommand):
    """A review command based on the question's version the annotator saw (``ReviewRecord.revision``):
    its ``do`` raises ``EditConflictError`` (both answers) if someone else changed the question since."""

    base_version: int | None = None

    def _do(self, project: "Project") -> Correction:
        row = project.record(self.question_id, self.action, self.answer, pick=self.pick, note=self.note,
                             annotator=self.annotator, acquisition=self.acquisition, base_version=self.base_version)
        self.rows.append(row)
        return row


def keep_mine(project: "Project", conflict, annotator: str | None = None) -> Correction:
    """Resolve an ``EditConflictError`` by storing the annotator's answer again, as a new correction
    based on the version now in place (checked again: a third edit meanwhile is another conflict)."""
    from .types import Action

    action = Action(conflict.action)
    if action in (Action.ACCEPT, Action.PICK, Action.AUTO_ACCEPT, Action.CORRECT):
        return project.record(conflict.question_id, Action.CORRECT, conflict.mine, annotator=annotator,
                              base_version=conflict.current_version)
    return project.record(conflict.question_id, action, annotator=annotator, base_version=conflict.current_version)


# --- opening a team server ------------------------------------------------------------------------------

def team_folder(url: str) -> Path:
    """The local folder a team database gets when none is named (its project.json, models trained
    here, reports): under the user's data folder, one per server and database."""
    from .paths import user_data_dir
    from .store.db import safe_url

    name = re.sub(r"[^A-Za-z0-9._-]+", "_", safe_url(url).split("://", 1)[-1]).strip("_")[:100] or "team"
    return user_data_dir() / "team" / name


def connect(url: str, folder: str | Path | None = None, create: bool = False, name: str | None = None) -> "Project":
    """Open the team project on the database at ``url`` (``project.json`` in ``folder`` names it, so the
    folder reopens it later). An empty database becomes a new project only with ``create``."""
    import json

    from .project import CONFIG_NAME, DB_NAME, Project
    from .store.db import safe_url

    if "://" not in url:
        raise ProjectError(f"{url}: not a database URL (e.g. postgresql://user@host/database)")
    target = Path(folder).expanduser().resolve() if folder else team_folder(url)
    if (target / DB_NAME).exists():
        raise ProjectError(f"{target}: holds a SQLite project; choose another folder for the team project")
    cfg = target / CONFIG_NAME
    if cfg.exists():
        try:
            known = json.loads(cfg.read_text(encoding="utf-8")).get("database_url")
        except (OSError, ValueError, AttributeError) as exc:
            raise ProjectError(f"{cfg}: cannot read the project settings ({exc})") from None
        if known and known != url:
            raise ProjectError(f"{target}: is the folder of another team database ({safe_url(known)}); "
                               "choose another folder")
    target.mkdir(parents=True, exist_ok=True)
    project = Project.open(target, url=url, create=create)
    try:
        if project.setting("name") is None:
            project.set_setting("name", name or target.name)
        if not cfg.exists():
            cfg.write_text(json.dumps({"database_url": url}, indent=2), encoding="utf-8")
    except Exception:
        project.close()
        raise
    return project


def is_shared(project: "Project") -> bool:
    """Whether the project lives on a database server others may use at once (then the GUI claims the
    questions it shows); a SQLite file is one annotator's."""
    return project.engine.dialect.name != "sqlite"
