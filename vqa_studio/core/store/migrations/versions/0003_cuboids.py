"""3D cuboids, their edit history, and links from counting answers to the cuboids they count.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cuboids",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("item_id", sa.Integer, nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("cx", sa.Float, nullable=False),
        sa.Column("cy", sa.Float, nullable=False),
        sa.Column("cz", sa.Float, nullable=False),
        sa.Column("length", sa.Float, nullable=False),
        sa.Column("width", sa.Float, nullable=False),
        sa.Column("height", sa.Float, nullable=False),
        sa.Column("yaw", sa.Float, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("annotator", sa.String(64), nullable=True),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cuboids"),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name="fk_cuboids_item_id_items", ondelete="CASCADE"),
    )
    op.create_index("ix_cuboids_item_id", "cuboids", ["item_id"])
    op.create_table(
        "cuboid_edits",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("cuboid_id", sa.Integer, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("before", sa.JSON, nullable=True),
        sa.Column("after", sa.JSON, nullable=True),
        sa.Column("annotator", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cuboid_edits"),
        sa.ForeignKeyConstraint(
            ["cuboid_id"], ["cuboids.id"], name="fk_cuboid_edits_cuboid_id_cuboids", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_cuboid_edits_cuboid_id", "cuboid_edits", ["cuboid_id"])
    op.create_table(
        "question_cuboids",
        sa.Column("question_id", sa.Integer, nullable=False),
        sa.Column("cuboid_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("question_id", "cuboid_id", name="pk_question_cuboids"),
        sa.ForeignKeyConstraint(
            ["question_id"], ["questions.id"], name="fk_question_cuboids_question_id_questions", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["cuboid_id"], ["cuboids.id"], name="fk_question_cuboids_cuboid_id_cuboids", ondelete="CASCADE"
        ),
    )


def downgrade() -> None:
    for table in ("question_cuboids", "cuboid_edits", "cuboids"):
        op.drop_table(table)
