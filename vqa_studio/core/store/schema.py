"""The tables of a project database (SQLAlchemy 2.x Core).

This module describes the schema at the newest migration (``migrations/versions``). It is used
for queries; the tables themselves are only ever created by the Alembic migrations, so that an
old project and a new one end up with exactly the same schema.

Times are stored as naive UTC datetimes (``core.store.db.utcnow``), the same on every dialect.
"""
from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

def _first(context, column: str):
    """Insert default: the first element of another column's list (a prediction's top answer)."""
    values = context.get_current_parameters().get(column) or [None]
    return values[0]


NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

project_info = Table(
    "project_info",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=True),
)

items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(8), nullable=False),  # image | cloud
    Column("uri", Text, nullable=False),  # relative to the project folder, or absolute (external)
    Column("sha256", String(64), nullable=True),
    Column("split", String(16), nullable=False),
    Column("width", Integer, nullable=True),
    Column("height", Integer, nullable=True),
    Column("n_points", Integer, nullable=True),
    Column("external_id", String(128), nullable=True),
    Column("meta", JSON, nullable=True),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("uri"),
    Index("ix_items_split", "split"),
    Index("ix_items_external_id", "external_id"),
)

questions = Table(
    "questions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
    Column("text", Text, nullable=False),
    Column("question_type", String(64), nullable=False),
    Column("answer_type", String(16), nullable=False),
    Column("external_id", String(64), nullable=True),
    # current state, derived from the corrections history (kept in the same transaction)
    Column("status", String(16), nullable=False),
    Column("answer", Text, nullable=True),
    Column("note", Text, nullable=True),
    Column("meta", JSON, nullable=True),  # e.g. a CLEVR program and question family
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    # raised by every change of answer or status: a correction based on an older version is a
    # conflict (optimistic concurrency between annotators, see core.review)
    Column("version", Integer, nullable=False, default=0, server_default="0"),
    Index("ix_questions_item_id", "item_id"),
    Index("ix_questions_status", "status"),
    Index("ix_questions_external_id", "external_id"),
)

answers = Table(
    "answers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("question_id", Integer, ForeignKey("questions.id", ondelete="CASCADE"), nullable=False),
    Column("answer", Text, nullable=False),
    Column("source", String(16), nullable=False),  # import | human
    Column("annotator", String(64), nullable=True),
    Column("confidence", String(8), nullable=True),
    Column("external_id", String(64), nullable=True),
    # an import's several answers (VQA v2: ten) in one row: [[answer, confidence, answer_id], ...]
    Column("answer_list", JSON, nullable=True),
    Column("created_at", DateTime, nullable=False),
    Index("ix_answers_question_id", "question_id"),
)

corrections = Table(
    "corrections",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("question_id", Integer, ForeignKey("questions.id", ondelete="CASCADE"), nullable=False),
    Column("action", String(16), nullable=False),
    Column("before_answer", Text, nullable=True),
    Column("after_answer", Text, nullable=True),
    Column("before_status", String(16), nullable=False),
    Column("after_status", String(16), nullable=False),
    Column("annotator", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("model_version", String(64), nullable=True),
    Column("score", Float, nullable=True),
    Column("acquisition", String(32), nullable=True),
    Column("note", Text, nullable=True),
    Column("target_id", Integer, ForeignKey("corrections.id"), nullable=True),
    # the question's version the annotator saw (None: not checked); the row sets version + 1
    Column("base_version", Integer, nullable=True),
    Index("ix_corrections_question_id", "question_id"),
    Index("ix_corrections_created_at", "created_at"),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),  # train | score
    Column("status", String(16), nullable=False),  # running | done | cancelled | failed
    Column("config", JSON, nullable=True),
    Column("curves", JSON, nullable=True),
    Column("error", Text, nullable=True),
    Column("model_version", String(64), nullable=True),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime, nullable=True),
)

models = Table(
    "models",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", String(64), nullable=False),
    Column("parent", String(64), nullable=True),
    Column("path", Text, nullable=False),
    Column("arch", String(64), nullable=True),
    Column("metrics", JSON, nullable=True),
    Column("config", JSON, nullable=True),
    Column("snapshot", JSON, nullable=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=True),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("version"),
)

predictions = Table(
    "predictions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("question_id", Integer, ForeignKey("questions.id", ondelete="CASCADE"), nullable=False),
    Column("model_version", String(64), nullable=False),
    # the top answer and its probability (what the queue shows), taken from answers/probs when not given
    Column("answer", Text, nullable=True, default=lambda ctx: _first(ctx, "answers")),
    Column("confidence", Float, nullable=True, default=lambda ctx: _first(ctx, "probs")),
    Column("answers", JSON, nullable=False),  # top-k answers, best first
    Column("probs", JSON, nullable=False),
    Column("scores", JSON, nullable=True),  # {method: value}, for display
    Column("in_vocab", Boolean, nullable=False, default=True),
    Column("attention", LargeBinary, nullable=True),  # float16 [G, K] (+ shape header)
    Column("centres", LargeBinary, nullable=True),  # float32 [K, 3]: point-cloud region centres (file coordinates)
    Column("votes", LargeBinary, nullable=True),  # int16 [T]: answer index per sample / member
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("question_id", "model_version"),
    Index("ix_predictions_model_version", "model_version"),
)

# One row per (model version, acquisition method, question): what the queue sorts by.
prediction_scores = Table(
    "prediction_scores",
    metadata,
    Column("model_version", String(64), primary_key=True),
    Column("method", String(32), primary_key=True),
    Column("question_id", Integer, ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True),
    Column("value", Float, nullable=False),
    Index("ix_prediction_scores_rank", "model_version", "method", "value"),
)

cuboids = Table(
    "cuboids",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
    Column("label", String(64), nullable=False),
    Column("cx", Float, nullable=False),
    Column("cy", Float, nullable=False),
    Column("cz", Float, nullable=False),
    Column("length", Float, nullable=False),  # along the box's own x axis (after yaw)
    Column("width", Float, nullable=False),  # along its y axis
    Column("height", Float, nullable=False),  # along z (up)
    Column("yaw", Float, nullable=False),  # radians about +z, counter-clockwise from +x
    Column("source", String(16), nullable=False),  # import | human
    Column("annotator", String(64), nullable=True),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Index("ix_cuboids_item_id", "item_id"),
)

# every cuboid edit, with its before/after geometry (JSON), for history and undo
cuboid_edits = Table(
    "cuboid_edits",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("cuboid_id", Integer, ForeignKey("cuboids.id", ondelete="CASCADE"), nullable=False),
    Column("action", String(16), nullable=False),  # create | update | delete | undo | redo | link
    Column("before", JSON, nullable=True),
    Column("after", JSON, nullable=True),
    Column("annotator", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Index("ix_cuboid_edits_cuboid_id", "cuboid_id"),
)

# a counting answer linked to the cuboids it counts
question_cuboids = Table(
    "question_cuboids",
    metadata,
    Column("question_id", Integer, ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True),
    Column("cuboid_id", Integer, ForeignKey("cuboids.id", ondelete="CASCADE"), primary_key=True),
)

# who works on which question (team review): a claim is a lease that expires unless renewed;
# an expired one is taken over by the next annotator the queue hands the question to
claims = Table(
    "claims",
    metadata,
    Column("question_id", Integer, ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True),
    Column("annotator", String(64), nullable=False),
    Column("claimed_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Index("ix_claims_annotator", "annotator"),
    Index("ix_claims_expires_at", "expires_at"),
)

# dataset cartography of a model version (issue 13): per question, its training dynamics (mean and
# spread of p(true answer) over epochs) or, for a question it did not train on, an outlier score
# transferred from its labelled neighbours (source "neighbours"); see core.active.outliers
training_dynamics = Table(
    "training_dynamics",
    metadata,
    Column("model_version", String(64), primary_key=True),
    Column("question_id", Integer, ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True),
    Column("source", String(16), nullable=False),  # trained | neighbours
    Column("confidence", Float, nullable=True),
    Column("variability", Float, nullable=True),
    Column("category", String(16), nullable=True),  # easy | ambiguous | hard
    Column("outlier_score", Float, nullable=False),
    Column("epochs", Integer, nullable=False),
)

# a random share of auto-accepted answers, set aside for a person to check (issue 13): outcome None
# while pending, "confirmed" or "corrected" (a mistake of auto-accept) once decided
audits = Table(
    "audits",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("question_id", Integer, ForeignKey("questions.id", ondelete="CASCADE"), nullable=False),
    Column("model_version", String(64), nullable=True),
    Column("answer", Text, nullable=True),  # what auto-accept accepted
    Column("confidence", Float, nullable=True),
    Column("threshold", Float, nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("outcome", String(16), nullable=True),
    Column("decided_answer", Text, nullable=True),
    Column("decided_by", String(64), nullable=True),
    Column("decided_at", DateTime, nullable=True),
    Index("ix_audits_question_id", "question_id"),
    Index("ix_audits_outcome", "outcome"),
)
