"""Queries over the project tables. Functions take a SQLAlchemy ``Connection`` and return core types
(``core.types``), never ORM rows, so nothing above the core depends on SQLAlchemy.

Writes that belong together are grouped by the caller (``Project``) into one transaction.
"""
from __future__ import annotations

from typing import Any, Iterable, Sequence

from sqlalchemy import Connection, and_, exists, func, insert, literal_column, or_, select, update

from ..types import (
    Action,
    Correction,
    Item,
    ItemKind,
    ModelInfo,
    Prediction,
    Question,
    QueueFilter,
    QueueRow,
    Status,
)
from . import queue_plan
from . import schema as s
from .codec import decode_array
from .db import utcnow


# --- project info (key/value) ----------------------------------------------------------------------

def get_info(conn: Connection, key: str, default: str | None = None) -> str | None:
    value = conn.execute(select(s.project_info.c.value).where(s.project_info.c.key == key)).scalar()
    return default if value is None else value


def set_info(conn: Connection, key: str, value: str | None) -> None:
    updated = conn.execute(update(s.project_info).where(s.project_info.c.key == key).values(value=value)).rowcount
    if not updated:
        conn.execute(insert(s.project_info).values(key=key, value=value))


def all_info(conn: Connection) -> dict[str, str | None]:
    return dict(conn.execute(select(s.project_info.c.key, s.project_info.c.value)).all())


# --- row -> type ----------------------------------------------------------------------------------

def _item(row) -> Item:
    return Item(
        id=row.id, kind=ItemKind(row.kind), uri=row.uri, sha256=row.sha256, split=row.split,
        width=row.width, height=row.height, n_points=row.n_points, external_id=row.external_id,
        meta=row.meta or {},
    )


def _question(row) -> Question:
    return Question(
        id=row.id, item_id=row.item_id, text=row.text, question_type=row.question_type,
        answer_type=row.answer_type, answer=row.answer, status=Status(row.status),
        external_id=row.external_id, note=row.note,
    )


def _correction(row) -> Correction:
    return Correction(
        id=row.id, question_id=row.question_id, action=Action(row.action), before_answer=row.before_answer,
        after_answer=row.after_answer, before_status=Status(row.before_status), after_status=Status(row.after_status),
        annotator=row.annotator, created_at=row.created_at, model_version=row.model_version, score=row.score,
        acquisition=row.acquisition, note=row.note, target_id=row.target_id,
    )


def _prediction(row) -> Prediction:
    return Prediction(
        question_id=row.question_id, model_version=row.model_version, answers=list(row.answers),
        probs=[float(p) for p in row.probs], scores=dict(row.scores or {}), in_vocab=bool(row.in_vocab),
        attention=decode_array(row.attention), votes=decode_array(row.votes), created_at=row.created_at,
        centres=decode_array(row.centres),
    )


# --- items and questions ------------------------------------------------------------------------------

def get_item(conn: Connection, item_id: int) -> Item | None:
    row = conn.execute(select(s.items).where(s.items.c.id == item_id)).first()
    return _item(row) if row else None


def get_items(conn: Connection, item_ids: Sequence[int]) -> dict[int, Item]:
    out: dict[int, Item] = {}
    for chunk in _chunks(list(item_ids), 900):
        for row in conn.execute(select(s.items).where(s.items.c.id.in_(chunk))):
            out[row.id] = _item(row)
    return out


def get_question(conn: Connection, question_id: int, for_update: bool = False) -> Question | None:
    stmt = select(s.questions).where(s.questions.c.id == question_id)
    if for_update:  # another annotator's edit of the same question waits for ours (PostgreSQL)
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    return _question(row) if row else None


def question_version(conn: Connection, question_id: int) -> int | None:
    """The question's version (raised by every change of its answer or status), None if no such question."""
    return conn.execute(select(s.questions.c.version).where(s.questions.c.id == question_id)).scalar()


def last_change(conn: Connection, question_id: int) -> Correction | None:
    """The question's newest history row (who changed it last, and to what)."""
    row = conn.execute(select(s.corrections).where(s.corrections.c.question_id == question_id)
                       .order_by(s.corrections.c.id.desc()).limit(1)).first()
    return _correction(row) if row else None


def get_questions(conn: Connection, question_ids: Sequence[int]) -> dict[int, Question]:
    out: dict[int, Question] = {}
    for chunk in _chunks(list(question_ids), 900):
        for row in conn.execute(select(s.questions).where(s.questions.c.id.in_(chunk))):
            out[row.id] = _question(row)
    return out


def questions_of_item(conn: Connection, item_id: int) -> list[Question]:
    rows = conn.execute(select(s.questions).where(s.questions.c.item_id == item_id).order_by(s.questions.c.id))
    return [_question(r) for r in rows]


def imported_answers(conn: Connection, question_id: int) -> list[dict[str, Any]]:
    """The answers that came with the import: [{answer, confidence, answer_id}], in their order."""
    row = conn.execute(
        select(s.answers.c.answer, s.answers.c.confidence, s.answers.c.external_id, s.answers.c.answer_list)
        .where(s.answers.c.question_id == question_id, s.answers.c.source == "import")
        .order_by(s.answers.c.id)
    ).all()
    return [decoded for r in row for decoded in decode_answer_row(r.answer, r.confidence, r.external_id, r.answer_list)]


def imported_answers_many(conn: Connection, question_ids: Sequence[int] | None = None) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    stmt = select(s.answers.c.question_id, s.answers.c.answer, s.answers.c.confidence, s.answers.c.external_id,
                  s.answers.c.answer_list).where(
        s.answers.c.source == "import"
    ).order_by(s.answers.c.id)
    if question_ids is None:
        rows: Iterable = conn.execute(stmt)
    else:
        rows = (r for chunk in _chunks(list(question_ids), 900) for r in conn.execute(stmt.where(s.answers.c.question_id.in_(chunk))))
    for r in rows:
        out.setdefault(r.question_id, []).extend(decode_answer_row(r.answer, r.confidence, r.external_id, r.answer_list))
    return out


def imported_answer_texts(conn: Connection) -> dict[int, tuple[str, ...]]:
    """question id -> the texts of its imported answers, for every question that has some: what
    training needs of :func:`imported_answers_many`, without building a dict per answer (a snapshot
    of a 240,000-question project reads them in a fraction of the time)."""
    out: dict[int, tuple[str, ...]] = {}
    stmt = select(s.answers.c.question_id, s.answers.c.answer, s.answers.c.answer_list).where(
        s.answers.c.source == "import").order_by(s.answers.c.id)
    for qid, answer, answer_list in conn.execute(stmt):
        texts = tuple(a for a, _, _ in answer_list) if answer_list else (answer,)
        prev = out.get(qid)
        out[qid] = prev + texts if prev else texts
    return out


# An import's answers (VQA v2: ten per question) are stored as ONE row per question: `answer` holds the
# representative (majority) answer, `answer_list` the [answer, confidence, answer_id] triples. One row
# instead of ten keeps a 100,000-question import within seconds. A single answer fills the plain columns.

def encode_answer_rows(answers: Sequence[tuple[str, str | None, int | None]], representative: str) -> dict[str, Any]:
    if len(answers) == 1:
        a, conf, aid = answers[0]
        return {"answer": a, "confidence": conf, "external_id": None if aid is None else str(aid), "answer_list": None}
    return {"answer": representative, "confidence": None, "external_id": None, "answer_list": list(answers)}


def decode_answer_row(answer: str, confidence: str | None, external_id: str | None,
                      answer_list: list | None = None) -> list[dict[str, Any]]:
    if answer_list:
        return [{"answer": a, "confidence": c, "answer_id": i} for a, c, i in answer_list]
    aid = int(external_id) if external_id and external_id.isdigit() else None
    return [{"answer": answer, "confidence": confidence, "answer_id": aid}]


# --- corrections ---------------------------------------------------------------------------------

def insert_correction(conn: Connection, **values: Any) -> Correction:
    values.setdefault("created_at", utcnow())
    cid = conn.execute(insert(s.corrections).values(**values).returning(s.corrections.c.id)).scalar_one()
    return Correction(
        id=cid, question_id=values["question_id"], action=Action(values["action"]),
        before_answer=values.get("before_answer"), after_answer=values.get("after_answer"),
        before_status=Status(values["before_status"]), after_status=Status(values["after_status"]),
        annotator=values["annotator"], created_at=values["created_at"], model_version=values.get("model_version"),
        score=values.get("score"), acquisition=values.get("acquisition"), note=values.get("note"),
        target_id=values.get("target_id"),
    )


def get_infos(conn: Connection, *keys: str) -> list[str | None]:
    rows = dict(conn.execute(select(s.project_info.c.key, s.project_info.c.value).where(s.project_info.c.key.in_(keys))).all())
    return [rows.get(k) for k in keys]


def proposal_and_score(conn: Connection, question_id: int, model_version: str, method: str
                       ) -> tuple[list[str] | None, float | None]:
    """The model's proposed answers (best first) and the question's score by ``method``, in one query."""
    p, ps = s.predictions, s.prediction_scores
    row = conn.execute(
        select(p.c.answers, ps.c.value).select_from(p.outerjoin(ps, and_(
            ps.c.question_id == p.c.question_id, ps.c.model_version == p.c.model_version, ps.c.method == method)))
        .where(p.c.question_id == question_id, p.c.model_version == model_version)
    ).first()
    if row is None:
        return None, None
    return list(row[0]), row[1]


def get_correction(conn: Connection, correction_id: int) -> Correction | None:
    row = conn.execute(select(s.corrections).where(s.corrections.c.id == correction_id)).first()
    return _correction(row) if row else None


def history(conn: Connection, question_id: int) -> list[Correction]:
    rows = conn.execute(
        select(s.corrections).where(s.corrections.c.question_id == question_id).order_by(s.corrections.c.id)
    )
    return [_correction(r) for r in rows]


def recent_corrections(conn: Connection, limit: int = 100, annotator: str | None = None) -> list[Correction]:
    stmt = select(s.corrections).order_by(s.corrections.c.id.desc()).limit(limit)
    if annotator:
        stmt = stmt.where(s.corrections.c.annotator == annotator)
    return [_correction(r) for r in conn.execute(stmt)]


def set_question_state(conn: Connection, question_id: int, answer: str | None, status: Status, note: str | None = None,
                       keep_note: bool = True) -> None:
    # every change of state raises the question's version (optimistic concurrency, core.review)
    values: dict[str, Any] = {"answer": answer, "status": status.value, "updated_at": utcnow(),
                              "version": s.questions.c.version + 1}
    if not keep_note:
        values["note"] = note
    conn.execute(update(s.questions).where(s.questions.c.id == question_id).values(**values))


# --- predictions ---------------------------------------------------------------------------------

def get_prediction(conn: Connection, question_id: int, model_version: str) -> Prediction | None:
    row = conn.execute(
        select(s.predictions).where(s.predictions.c.question_id == question_id, s.predictions.c.model_version == model_version)
    ).first()
    return _prediction(row) if row else None


def get_predictions(conn: Connection, question_ids: Sequence[int], model_version: str) -> dict[int, Prediction]:
    out: dict[int, Prediction] = {}
    for chunk in _chunks(list(question_ids), 900):
        rows = conn.execute(
            select(s.predictions).where(s.predictions.c.model_version == model_version, s.predictions.c.question_id.in_(chunk))
        )
        for r in rows:
            out[r.question_id] = _prediction(r)
    return out


def get_score(conn: Connection, question_id: int, model_version: str, method: str) -> float | None:
    return conn.execute(
        select(s.prediction_scores.c.value).where(
            s.prediction_scores.c.question_id == question_id,
            s.prediction_scores.c.model_version == model_version,
            s.prediction_scores.c.method == method,
        )
    ).scalar()


def scored_methods(conn: Connection, model_version: str) -> list[str]:
    rows = conn.execute(
        select(s.prediction_scores.c.method).where(s.prediction_scores.c.model_version == model_version).distinct()
    )
    return sorted(r[0] for r in rows)


# --- models ---------------------------------------------------------------------------------

def _model(row, active: str | None) -> ModelInfo:
    return ModelInfo(
        version=row.version, parent=row.parent, path=row.path, created_at=row.created_at, metrics=row.metrics or {},
        config=row.config or {}, snapshot=row.snapshot or {}, run_id=row.run_id, active=row.version == active,
    )


def list_models(conn: Connection) -> list[ModelInfo]:
    active = get_info(conn, "active_model")
    return [_model(r, active) for r in conn.execute(select(s.models).order_by(s.models.c.id))]


def get_model(conn: Connection, version: str) -> ModelInfo | None:
    active = get_info(conn, "active_model")
    row = conn.execute(select(s.models).where(s.models.c.version == version)).first()
    return _model(row, active) if row else None


# --- the review queue -----------------------------------------------------------------------------

def _apply_filters(stmt, filt: QueueFilter):
    q, i = s.questions, s.items
    if filt.statuses:
        stmt = stmt.where(q.c.status.in_([Status(x).value for x in filt.statuses]))
    if filt.splits:
        stmt = stmt.where(i.c.split.in_(list(filt.splits)))
    if filt.question_types:
        stmt = stmt.where(q.c.question_type.in_(list(filt.question_types)))
    if filt.answer_types:
        stmt = stmt.where(q.c.answer_type.in_(list(filt.answer_types)))
    if filt.item_kinds:
        stmt = stmt.where(i.c.kind.in_([ItemKind(k).value for k in filt.item_kinds]))
    if filt.search:
        pattern = f"%{filt.search.strip()}%"
        stmt = stmt.where(or_(q.c.text.ilike(pattern), q.c.answer.ilike(pattern)))
    return stmt


def queue_ids(conn: Connection, order_by: str, filt: QueueFilter, version: str | None, descending: bool = True,
              limit: int | None = None, offset: int = 0) -> list[int]:
    """Question ids in review order: scored questions by score (most informative first), then the
    unscored ones by id. ``order_by`` is an acquisition method name or ``"id"``."""
    few = queue_plan.selective_queue_ids(conn, order_by, filt, version, descending, limit, offset, _apply_filters)
    if few is not None:  # few questions of the filter's statuses: from them, not down the score index
        return few
    q, i, ps = s.questions, s.items, s.prediction_scores
    ids: list[int] = []
    n_scored_total = None
    if version and order_by != "id":
        stmt = (
            select(q.c.id)
            .select_from(ps.join(q, q.c.id == ps.c.question_id).join(i, i.c.id == q.c.item_id))
            .where(ps.c.model_version == version, ps.c.method == order_by)
            .order_by(ps.c.value.desc() if descending else ps.c.value.asc(), ps.c.question_id)
        )
        stmt = _apply_filters(stmt, filt)
        page = stmt.offset(offset)
        if limit is not None:
            page = page.limit(limit)
        ids = list(conn.execute(page).scalars())
        if limit is not None and len(ids) == limit:
            return ids
        if ids or offset == 0:
            n_scored_total = offset + len(ids)
        else:  # the page starts past the scored rows: count them to place the offset in the rest
            n_scored_total = conn.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
        scored = exists().where(ps.c.question_id == q.c.id, ps.c.model_version == version, ps.c.method == order_by)
        rest = select(q.c.id).select_from(q.join(i, i.c.id == q.c.item_id)).where(~scored).order_by(q.c.id)
    else:
        rest = select(q.c.id).select_from(q.join(i, i.c.id == q.c.item_id)).order_by(q.c.id)
        n_scored_total = 0
    rest = _apply_filters(rest, filt).offset(max(0, offset - n_scored_total))
    if limit is not None:
        rest = rest.limit(limit - len(ids))
    ids.extend(conn.execute(rest).scalars())
    return ids


_KINDS = {k.value: k for k in ItemKind}
_STATUSES = {st.value: st for st in Status}


def queue_count(conn: Connection, filt: QueueFilter) -> int:
    q, i = s.questions, s.items
    stmt = select(func.count()).select_from(q.join(i, i.c.id == q.c.item_id))
    return conn.execute(_apply_filters(stmt, filt)).scalar_one()


def queue_rows(conn: Connection, question_ids: Sequence[int], version: str | None, order_by: str) -> list[QueueRow]:
    """Rows for the given question ids, in the given order."""
    if not question_ids:
        return []
    q, i, p, ps = s.questions, s.items, s.predictions, s.prediction_scores
    cols = [q.c.id, q.c.item_id, i.c.uri, i.c.kind, i.c.split, q.c.text, q.c.question_type, q.c.answer_type,
            q.c.status, q.c.answer]
    by_id: dict[int, QueueRow] = {}
    for chunk in _chunks(list(question_ids), 900):
        if version:
            stmt = (
                select(*cols, p.c.answer.label("proposed"), p.c.confidence, ps.c.value)
                .select_from(
                    q.join(i, i.c.id == q.c.item_id)
                    .outerjoin(p, and_(p.c.question_id == q.c.id, p.c.model_version == version))
                    .outerjoin(ps, and_(ps.c.question_id == q.c.id, ps.c.model_version == version, ps.c.method == order_by))
                )
                .where(q.c.id.in_(chunk))
            )
        else:
            stmt = select(*cols, literal_column("NULL").label("proposed"), literal_column("NULL").label("confidence"),
                          literal_column("NULL").label("value")).select_from(q.join(i, i.c.id == q.c.item_id)).where(q.c.id.in_(chunk))
        for (qid, item_id, uri, kind, split, text, qtype, atype, status, answer, proposed, conf,
             value) in conn.execute(stmt):
            by_id[qid] = QueueRow(
                question_id=qid, item_id=item_id, item_uri=uri, item_kind=_KINDS.get(kind) or ItemKind(kind), split=split, text=text,
                question_type=qtype, answer_type=atype, status=_STATUSES[status], answer=answer, proposed=proposed,
                confidence=conf, score=value,
            )
    return [by_id[qid] for qid in question_ids if qid in by_id]


# --- stats -----------------------------------------------------------------------------------------

def count_by(conn: Connection, column, join_items: bool = False) -> dict[str, int]:
    q, i = s.questions, s.items
    src = q.join(i, i.c.id == q.c.item_id) if join_items else column.table
    rows = conn.execute(select(column, func.count()).select_from(src).group_by(column))
    return {str(k): int(v) for k, v in rows}


def _chunks(seq: list, n: int):
    for k in range(0, len(seq), n):
        yield seq[k:k + n]
