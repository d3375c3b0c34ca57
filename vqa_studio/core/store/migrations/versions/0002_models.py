"""Models, training runs, predictions and their uncertainty scores.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("config", sa.JSON, nullable=True),
        sa.Column("curves", sa.JSON, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("model_version", sa.String(64), nullable=True),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
    )
    op.create_table(
        "models",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("parent", sa.String(64), nullable=True),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("arch", sa.String(64), nullable=True),
        sa.Column("metrics", sa.JSON, nullable=True),
        sa.Column("config", sa.JSON, nullable=True),
        sa.Column("snapshot", sa.JSON, nullable=True),
        sa.Column("run_id", sa.Integer, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_models"),
        sa.UniqueConstraint("version", name="uq_models_version"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_models_run_id_runs"),
    )
    op.create_table(
        "predictions",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("question_id", sa.Integer, nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("answer", sa.Text, nullable=True),
        sa.Column("confidence", sa.Float, nullable=True),
        sa.Column("answers", sa.JSON, nullable=False),
        sa.Column("probs", sa.JSON, nullable=False),
        sa.Column("scores", sa.JSON, nullable=True),
        sa.Column("in_vocab", sa.Boolean, nullable=False),
        sa.Column("attention", sa.LargeBinary, nullable=True),
        sa.Column("centres", sa.LargeBinary, nullable=True),
        sa.Column("votes", sa.LargeBinary, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_predictions"),
        sa.UniqueConstraint("question_id", "model_version", name="uq_predictions_question_id_model_version"),
        sa.ForeignKeyConstraint(
            ["question_id"], ["questions.id"], name="fk_predictions_question_id_questions", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_predictions_model_version", "predictions", ["model_version"])
    op.create_table(
        "prediction_scores",
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("question_id", sa.Integer, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("model_version", "method", "question_id", name="pk_prediction_scores"),
        sa.ForeignKeyConstraint(
            ["question_id"], ["questions.id"], name="fk_prediction_scores_question_id_questions", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_prediction_scores_rank", "prediction_scores", ["model_version", "method", "value"])


def downgrade() -> None:
    for table in ("prediction_scores", "predictions", "models", "runs"):
        op.drop_table(table)
