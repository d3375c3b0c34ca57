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

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect
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


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets its pragmas on every new connection."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    return engine


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def known_revisions() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in script.walk_revisions()]


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


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
