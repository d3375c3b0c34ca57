"""Training dynamics (dataset cartography, outlier scores) per model version, and the audit queue of
auto-accepted answers (issue 13).

Revision ID: 0004
Revises: 0005
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0005"  # chained after the team-review migration (both began from 0003)
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "training_dynamics",
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("question_id", sa.Integer, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("confidence", sa.Float, nullable=True),
        sa.Column("variability", sa.Float, nullable=True),
        sa.Column("category", sa.String(16), nullable=True),
        sa.Column("outlier_score", sa.Float, nullable=False),
        sa.Column("epochs", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("model_version", "question_id", name="pk_training_dynamics"),
        sa.ForeignKeyConstraint(["question_id"], ["questions.id"], name="fk_training_dynamics_question_id_questions",
                                ondelete="CASCADE"),
    )
    op.create_table(
        "audits",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("question_id", sa.Integer, nullable=False),
        sa.Column("model_version", sa.String(64), nullable=True),
        sa.Column("answer", sa.Text, nullable=True),
        sa.Column("confidence", sa.Float, nullable=True),
        sa.Column("threshold", sa.Float, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("decided_answer", sa.Text, nullable=True),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decided_at", sa.DateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audits"),
        sa.ForeignKeyConstraint(["question_id"], ["questions.id"], name="fk_audits_question_id_questions",
                                ondelete="CASCADE"),
    )
    op.create_index("ix_audits_question_id", "audits", ["question_id"])
    op.create_index("ix_audits_outcome", "audits", ["outcome"])


def downgrade() -> None:
    op.drop_index("ix_audits_outcome", table_name="audits")
    op.drop_index("ix_audits_question_id", table_name="audits")
    op.drop_table("audits")
    op.drop_table("training_dynamics")
