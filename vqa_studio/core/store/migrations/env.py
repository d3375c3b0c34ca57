"""Alembic environment for project databases.

VQA Studio runs migrations itself (``core.store.db.migrate``), always with an open connection passed
in ``config.attributes["connection"]``; there is no alembic.ini.
"""
from alembic import context

from vqa_studio.core.store.schema import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached when someone runs the alembic CLI by hand
    raise RuntimeError("run migrations through vqa_studio.core.store.db.migrate()")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    transaction_per_migration=False,
)
with context.begin_transaction():
    context.run_migrations()
