"""What a training run reads: every question with its item, in one bulk query read in one pass
(``Snapshot.load``, which must stay fast for hundreds of thousands of questions), and the questions
corrected since a model's data snapshot (fine-tuning)."""
from __future__ import annotations

from typing import NamedTuple, Sequence

from sqlalchemy import Connection, func, select

from . import repository as repo
from . import schema as s


class SnapshotRows(NamedTuple):
    """``questions``: one row per question, ordered by id, each a tuple-like row ``(question id, item id,
    kind, split, text, question type, answer type, status, answer, item uri, item sha256)`` (stored values);
    ``imported``: question id -> its imported answer texts; ``max_correction_id``: 0 when none."""

    questions: Sequence[tuple]
    imported: dict[int, tuple[str, ...]]
    max_correction_id: int


def snapshot_rows(conn: Connection) -> SnapshotRows:
    """Every question, its item and its imported answers, read at one moment (one connection)."""
    q, i = s.questions, s.items
    rows = conn.execute(select(q.c.id, q.c.item_id, i.c.kind, i.c.split, q.c.text, q.c.question_type,
                               q.c.answer_type, q.c.status, q.c.answer, i.c.uri, i.c.sha256)
                        .select_from(q.join(i, i.c.id == q.c.item_id)).order_by(q.c.id)).all()
    imported = repo.imported_answer_texts(conn)
    max_cid = conn.execute(select(func.coalesce(func.max(s.corrections.c.id), 0))).scalar_one()
    return SnapshotRows(rows, imported, int(max_cid))


def corrected_since(conn: Connection, correction_id: int) -> set[int]:
    """Questions with a correction newer than ``correction_id``."""
    return set(conn.execute(select(s.corrections.c.question_id).where(s.corrections.c.id > correction_id)).scalars())
