"""Team review: a version per question (optimistic concurrency), the version each correction was
based on, and claims (leases on questions handed out by the queue).

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("questions") as batch:
        batch.add_column(sa.Column("version", sa.Integer, nullable=False, server_default="0"))
    with op.batch_alter_table("corrections") as batch:
        batch.add_column(sa.Column("base_version", sa.Integer, nullable=True))
    op.create_table(
        "claims",
        sa.Column("question_id", sa.Integer, nullable=False),
        sa.Column("annotator", sa.String(64), nullable=False),
        sa.Column("claimed_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("question_id", name="pk_claims"),
        sa.ForeignKeyConstraint(["question_id"], ["questions.id"], name="fk_claims_question_id_questions",
                                ondelete="CASCADE"),
    )
    op.create_index("ix_claims_annotator", "claims", ["annotator"])
    op.create_index("ix_claims_expires_at", "claims", ["expires_at"])


def downgrade() -> None:
    op.drop_table("claims")
    with op.batch_alter_table("corrections") as batch:
        batch.drop_column("base_version")
    with op.batch_alter_table("questions") as batch:
        batch.drop_column("version")
