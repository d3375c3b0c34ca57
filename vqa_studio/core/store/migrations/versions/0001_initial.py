"""Initial schema: items, questions, imported and human answers, the corrections history.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "project_info",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_project_info"),
    )
    op.create_table(
        "items",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("uri", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("split", sa.String(16), nullable=False),
        sa.Column("width", sa.Integer, nullable=True),
        sa.Column("height", sa.Integer, nullable=True),
        sa.Column("n_points", sa.Integer, nullable=True),
        sa.Column("external_id", sa.String(128), nullable=True),
        sa.Column("meta", sa.JSON, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_items"),
        sa.UniqueConstraint("uri", name="uq_items_uri"),
    )
    op.create_index("ix_items_split", "items", ["split"])
    op.create_index("ix_items_external_id", "items", ["external_id"])
    op.create_table(
        "questions",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("item_id", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("question_type", sa.String(64), nullable=False),
        sa.Column("answer_type", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("answer", sa.Text, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("meta", sa.JSON, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_questions"),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name="fk_questions_item_id_items", ondelete="CASCADE"),
    )
    op.create_index("ix_questions_item_id", "questions", ["item_id"])
    op.create_index("ix_questions_status", "questions", ["status"])
    op.create_index("ix_questions_external_id", "questions", ["external_id"])
    op.create_table(
        "answers",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("question_id", sa.Integer, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("annotator", sa.String(64), nullable=True),
        sa.Column("confidence", sa.String(8), nullable=True),
        sa.Column("external_id", sa.String(64), nullable=True),
        sa.Column("answer_list", sa.JSON, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_answers"),
        sa.ForeignKeyConstraint(
            ["question_id"], ["questions.id"], name="fk_answers_question_id_questions", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_answers_question_id", "answers", ["question_id"])
    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("question_id", sa.Integer, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("before_answer", sa.Text, nullable=True),
        sa.Column("after_answer", sa.Text, nullable=True),
        sa.Column("before_status", sa.String(16), nullable=False),
        sa.Column("after_status", sa.String(16), nullable=False),
        sa.Column("annotator", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("model_version", sa.String(64), nullable=True),
        sa.Column("score", sa.Float, nullable=True),
        sa.Column("acquisition", sa.String(32), nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("target_id", sa.Integer, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_corrections"),
        sa.ForeignKeyConstraint(
            ["question_id"], ["questions.id"], name="fk_corrections_question_id_questions", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["target_id"], ["corrections.id"], name="fk_corrections_target_id_corrections"),
    )
    op.create_index("ix_corrections_question_id", "corrections", ["question_id"])
    op.create_index("ix_corrections_created_at", "corrections", ["created_at"])


def downgrade() -> None:
    for table in ("corrections", "answers", "questions", "items", "project_info"):
        op.drop_table(table)
