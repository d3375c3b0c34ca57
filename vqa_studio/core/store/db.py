"""Database engine and schema migrations.

SQLite is the default (a file ``project.db`` in the project folder) with WAL journaling,
``synchronous=FULL`` (a committed correction survives a power cut) and foreign keys on. Any other
SQLAlchemy URL works the same way (PostgreSQL for teams); nothing here is SQLite-only except the
pragmas, which are applied only to SQLite connections.
"""
from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import re

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url

from ..errors import ProjectError, SchemaTooNewError

MIGRATIONS = Path(__file__).with_name("migrations")


def utcnow() -> datetime:
    """Naive UTC 'now', the one time format stored in every table."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def sqlite_url(path: str | Path) -> str:
    return f"sqlite:///{Path(path).resolve().as_posix()}"


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - trivial
    # the driver opens transactions itself unless told otherwise; SQLAlchemy handles BEGIN
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache
    cur.close()


def _sqlite_connect(dbapi_conn, record) -> None:  # pragma: no cover - trivial
    _sqlite_pragmas(dbapi_conn, record)
    # let SQLAlchemy, not the driver, decide where transactions begin (the driver would begin one only
    # before the first write, after the reads that decided what to write)
    dbapi_conn.isolation_level = None


def _sqlite_begin(conn) -> None:  # pragma: no cover - trivial
    # a write transaction takes the write lock at once (waiting up to busy_timeout for another
    # writer), so what it reads cannot change before it writes; reads take a consistent snapshot
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")


def _sqlite_read_only_connect(dbapi_conn, _record) -> None:  # pragma: no cover - trivial
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA query_only=ON")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()
    dbapi_conn.isolation_level = None


def make_engine(url: str, read_only: bool = False) -> Engine:
    """An engine for ``url``; SQLite gets its pragmas on every new connection and real transactions.
    ``read_only`` (SQLite): the file is opened read-only and immutable, so a project on a read-only
    folder or medium can be viewed (no journal or lock files are made beside it)."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite" and read_only and u.database:
        path = Path(u.database).resolve()
        wal = path.with_name(path.name + "-wal")
        # immutable: no lock or shared-memory files are needed; but then a journal left by a crash
        # (committed work not yet folded into the file) would not be read, so not when there is one
        flags = "mode=ro" + ("" if wal.exists() and wal.stat().st_size else "&immutable=1")
        engine = create_engine(f"sqlite:///file:{path.as_posix()}?{flags}&uri=true",
                               connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_read_only_connect)
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
    elif u.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    return engine


def writer(engine: Engine) -> Engine:
    """The same engine, for write transactions (``with writer(engine).begin() as conn``): on SQLite
    they begin IMMEDIATE; elsewhere rows are locked where a query asks (``FOR UPDATE``)."""
    return engine.execution_options(write=True)


def alembic_config():
    from alembic.config import Config  # alembic is imported only when a schema has to change

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


_REVISION = re.compile(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision\s*=\s*(?:['\"]([^'\"]+)['\"]|None)", re.M)


def _revisions() -> dict[str, str | None]:
    """revision -> down_revision, read from the migration scripts (cheap: opening a project needs
    only this, not alembic)."""
    out: dict[str, str | None] = {}
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        body = path.read_text(encoding="utf-8")
        rev, down = _REVISION.search(body), _DOWN.search(body)
        if rev:
            out[rev.group(1)] = down.group(1) if down else None
    return out


def head_revision() -> str:
    revs = _revisions()
    heads = set(revs) - {d for d in revs.values() if d}
    if len(heads) != 1:
        raise RuntimeError(f"the migration scripts have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


def known_revisions() -> list[str]:
    return list(_revisions())


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if "alembic_version" not in inspect(conn).get_table_names():
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def check_read_only(engine: Engine) -> str:
    """The schema revision of a project opened read-only: it must be this version's (nothing can be
    upgraded without writing)."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise ProjectError(f"{engine.url.render_as_string(hide_password=True)}: the project cannot be written here "
                           f"and its schema ({current or 'none'}) needs an upgrade to {head}; open it once from a "
                           "folder you can write to")
    return head


def check_and_migrate(engine: Engine, *, backup_dir: Path | None = None, create: bool = False) -> str:
    """Bring the database to the newest schema; refuse one made by a newer VQA Studio.

    An empty database is created only when ``create`` is true. Before an existing SQLite project is
    upgraded, its database file is copied to ``backup_dir`` so an upgrade can never lose work.
    Returns the schema revision the database is at afterwards.
    """
    current = current_revision(engine)
    head = head_revision()
    if current is None:
        tables = set(inspect(engine).get_table_names())
        if tables - {"alembic_version"}:
            raise ProjectError(
                f"{engine.url.render_as_string(hide_password=True)}: the database has tables "
                f"({', '.join(sorted(tables)[:5])}...) but no VQA Studio schema version; it is not a VQA Studio project"
            )
        if not create:
            raise ProjectError(f"{engine.url.render_as_string(hide_password=True)}: not a VQA Studio project (empty database)")
        upgrade(engine, "head")
        return head
    if current == head:
        return head
    if current not in known_revisions():
        from ... import __version__

        raise SchemaTooNewError(
            f"{engine.url.render_as_string(hide_password=True)}: this project was written by a newer VQA Studio "
            f"(schema {current}); this is VQA Studio {__version__}, which knows schemas up to {head}. "
            "Update VQA Studio to open it; the project was not changed."
        )
    url = engine.url
    if backup_dir is not None and url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        backup_dir.mkdir(parents=True, exist_ok=True)
        src = Path(url.database)
        stamp = utcnow().strftime("%Y%m%dT%H%M%S")
        dst = backup_dir / f"{src.stem}-schema{current}-{stamp}{src.suffix}"
        with engine.connect() as conn:  # fold the WAL into the main file so the copy is whole
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copy2(src, dst)
    upgrade(engine, "head")
    return head


def machine_fault(exc: BaseException) -> str | None:
    """What a fault of the machine (not of VQA Studio, not of the input) means for the user, or None:
    a database locked by another process for longer than the busy timeout, a full disk, a read-only
    file system. The caller reports it as a message (nothing is half written: every write is one
    transaction)."""
    import errno

    from sqlalchemy.exc import OperationalError

    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    text = str(getattr(exc, "orig", None) or exc).lower()
    if isinstance(exc, (ArgumentError, NoSuchModuleError)):
        return f"not a usable database URL: {exc}"
    if isinstance(exc, OperationalError) and "psycopg" in type(getattr(exc, "orig", exc)).__module__:
        first = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        return f"cannot use the database server ({first}); nothing was changed"
    if isinstance(exc, OperationalError) or "sqlite3" in type(getattr(exc, "orig", exc)).__module__:
        if "locked" in text or "busy" in text:
            return ("the project's database is locked by another program (another VQA Studio, a backup or sync "
                    "tool) and stayed locked past the 10 s wait; nothing was changed: try again when it is free")
        if "disk is full" in text or "disk i/o" in text:
            return "the disk is full (or failing): nothing was half written; free some space and try again"
        if "readonly" in text or "read-only" in text:
            return "the project's database cannot be written here (read-only): nothing was changed"
    if isinstance(exc, OSError):
        if exc.errno == errno.ENOSPC:
            return f"the disk is full ({exc.filename or 'writing'}): free some space and try again"
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return f"cannot write {exc.filename or 'here'} ({exc.strerror}): nothing was changed"
    return None


#: how long a review write waits for a write lock held by someone else (a long import, another
#: annotator's tool) before it gives up: a correction made meanwhile waits, it is not refused
REVIEW_LOCK_PATIENCE_S = 600.0


def is_locked(exc: BaseException) -> bool:
    """The database's write lock was held by someone else for longer than the busy timeout."""
    text = str(getattr(exc, "orig", None) or exc).lower()
    return "database is locked" in text or "database table is locked" in text


def when_unlocked(fn, patience_s: float = REVIEW_LOCK_PATIENCE_S):
    """``fn()`` (one whole transaction), begun again while the write lock is held elsewhere, for up
    to ``patience_s``: a transaction that could not take the lock did nothing, so trying it again
    is safe. Past the patience the lock error propagates (a message, see ``machine_fault``)."""
    import time

    deadline = time.monotonic() + patience_s
    while True:
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - only a lock is retried
            if not is_locked(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def safe_url(url: str) -> str:
    """A database URL as it may be shown (the password hidden)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - not a URL at all: say it as given
        return str(url)
