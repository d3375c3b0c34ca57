"""The review history: each review action (accept, pick, correct, flag, skip, auto-accept) and each
undo / redo is its own committed transaction that appends one row to ``corrections`` and sets the
question's current answer and status in the same transaction. The current state is the ``after`` of
the question's last history row; what people answered is what ``effective_answers`` finds still in
effect after the undos and redos.

``Project`` calls these (``Project.record``, ``undo``, ``redo``...); they take the project for its
connections and its annotator.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generator, Sequence

from .data import vocab
from .errors import ConflictError, EditConflictError, ProjectError
from .store import history as history_rows
from .store.db import when_unlocked
from .store import repository as repo
from .types import Action, Correction, Item, Prediction, Progress, Question, Status

if TYPE_CHECKING:  # pragma: no cover
    from .project import Project

DEFAULT_ACQUISITION = "entropy"

# what each answering action leaves as the question's status
_ANSWER_ACTIONS = (Action.ACCEPT, Action.PICK, Action.CORRECT, Action.AUTO_ACCEPT)


@dataclass(frozen=True)
class ReviewRecord:
    """Everything the review shows about one question, read on one connection."""

    question: Question
    item: Item
    prediction: Prediction | None  # under ``version``; None without a version or a prediction
    history: list[Correction]  # oldest first
    human_answers: list[tuple[str, str]]  # (annotator, answer) still in effect, see effective_answers
    imported: list[dict[str, Any]]  # [{answer, confidence, answer_id}] that came with the import
    version: str | None
    revision: int = 0  # the question's version when read: an edit based on it is checked against it


def review_record(project: "Project", question_id: int, version: str | None) -> ReviewRecord | None:
    """The question, its item, its prediction under ``version``, its history and imported answers,
    read on one connection; None when there is no such question."""
    with project.engine.connect() as conn:
        q = repo.get_question(conn, question_id)
        if q is None:
            return None
        item = repo.get_item(conn, q.item_id)
        pred = repo.get_prediction(conn, question_id, version) if version else None
        hist = repo.history(conn, question_id)
        imported = repo.imported_answers(conn, question_id)
        revision = repo.question_version(conn, question_id) or 0
    return ReviewRecord(q, item, pred, hist, effective_answers(hist), imported, version, revision)


# --- actions -------------------------------------------------------------------------------------------

def after_state(q: Question, proposals: Sequence[str] | None, action: Action, answer: str | None,
                pick: int | None) -> tuple[str | None, Status]:
    """The answer and status ``action`` leaves on question ``q`` (``proposals``: the model's, best first)."""
    top = proposals[0] if proposals else None
    if action is Action.ACCEPT:
        if top is not None:
            return top, Status.ACCEPTED
        if q.answer is not None:
            return q.answer, Status.ACCEPTED
        raise ConflictError(f"question {q.id} has no proposal and no answer to accept; type an answer instead")
    if action is Action.AUTO_ACCEPT:
        if top is None:
            raise ConflictError(f"question {q.id} has no proposal to auto-accept")
        return top, Status.AUTO_ACCEPTED
    if action is Action.PICK:
        if not proposals or not pick or not 1 <= pick <= len(proposals):
            n = len(proposals) if proposals else 0
            raise ConflictError(f"question {q.id}: no proposal number {pick} (the model proposed {n})")
        chosen = proposals[pick - 1]
        return chosen, Status.ACCEPTED if pick == 1 else Status.CORRECTED
    if action is Action.CORRECT:
        if answer is None or not answer.strip():
            raise ValueError("a correction needs an answer")
        typed = " ".join(answer.split())
        same_as_model = top is not None and vocab.normalize_answer(typed) == vocab.normalize_answer(top)
        return typed, Status.ACCEPTED if same_as_model else Status.CORRECTED
    if action is Action.FLAG:
        return q.answer, Status.FLAGGED
    if action is Action.SKIP:
        return q.answer, Status.SKIPPED
    raise ValueError(f"unknown action {action}")


def _apply(conn, q: Question, action: Action, answer: str | None, pick: int | None, note: str | None,
           annotator: str, version: str | None, acq: str, set_note: bool, base_version: int | None = None) -> Correction:
    """Write one action on ``q`` (history row and current state) in the caller's transaction; with
    ``set_note`` the question's note becomes ``note`` (a flag), else it is kept."""
    proposals, score = repo.proposal_and_score(conn, q.id, version, acq) if version else (None, None)
    after_answer, after_status = after_state(q, proposals, action, answer, pick)
    c = repo.insert_correction(
        conn, question_id=q.id, action=action.value, before_answer=q.answer, after_answer=after_answer,
        before_status=q.status.value, after_status=after_status.value, annotator=annotator,
        model_version=version, score=score, acquisition=acq, note=note, base_version=base_version,
    )
    if set_note:
        repo.set_question_state(conn, q.id, after_answer, after_status, note, keep_note=False)
    else:
        repo.set_question_state(conn, q.id, after_answer, after_status)
    return c


def _conflict(conn, q: Question, action: Action, answer: str | None, pick: int | None, version: str | None,
              acq: str, base_version: int, current: int) -> EditConflictError:
    """What the annotator tried and what is in place now, for an edit based on an older version."""
    proposals = repo.proposal_and_score(conn, q.id, version, acq)[0] if version else None
    try:
        mine = after_state(q, proposals, action, answer, pick)[0] if action in _ANSWER_ACTIONS else None
    except (ConflictError, ValueError):
        mine = answer
    last = repo.last_change(conn, q.id)
    return EditConflictError(q.id, mine=mine, action=action.value, theirs=q.answer, their_status=q.status.value,
                             their_annotator=last.annotator if last else None, base_version=base_version,
                             current_version=current)


def _record(project: "Project", question_id: int, action: Action | str, answer: str | None = None, *,
           pick: int | None = None, note: str | None = None, annotator: str | None = None,
           acquisition: str | None = None, expect_status: Status | None = None,
           base_version: int | None = None) -> Correction:
    """One review action as its own committed transaction (see ``Project.record``)."""
    action = Action(action)
    if action in (Action.UNDO, Action.REDO):
        raise ValueError("use Project.undo / Project.redo")
    annotator = annotator or (project.annotator if action is not Action.AUTO_ACCEPT else "auto")
    with project.writer.begin() as conn:
        q = repo.get_question(conn, question_id, for_update=True)
        if q is None:
            raise ProjectError(f"no question {question_id} in this project")
        if expect_status is not None and q.status is not expect_status:
            raise ConflictError(f"question {question_id} is now {q.status.value}, not {expect_status.value}")
        version, acq_setting = repo.get_infos(conn, "active_model", "acquisition")
        acq = acquisition or acq_setting or DEFAULT_ACQUISITION
        if base_version is not None:
            current = repo.question_version(conn, question_id)
            if current != base_version:  # someone else's edit came first: tell, never overwrite
                raise _conflict(conn, q, action, answer, pick, version, acq, base_version, current)
        return _apply(conn, q, action, answer, pick, note, annotator, version, acq,
                      set_note=action is Action.FLAG, base_version=base_version)


def record_many(project: "Project", question_ids: Sequence[int], action: Action | str, *,
                annotator: str | None = None, expect_status: Status | Sequence[Status] | None = None,
                chunk: int = 500, acquisition: str | None = None) -> Generator[Progress, None, list[Correction]]:
    """The same action for many questions, ``chunk`` per transaction (see ``Project.record_many``)."""
    action = Action(action)
    if action not in (Action.ACCEPT, Action.AUTO_ACCEPT, Action.SKIP, Action.FLAG):
        raise ValueError(f"record_many takes accept, auto_accept, skip or flag, not {action.value}")
    expected = None if expect_status is None else (
        {Status(expect_status)} if isinstance(expect_status, (Status, str)) else {Status(x) for x in expect_status})
    annotator = annotator or (project.annotator if action is not Action.AUTO_ACCEPT else "auto")
    done: list[Correction] = []
    ids = list(question_ids)
    for k in range(0, len(ids), chunk):
        with project.writer.begin() as conn:
            version, acq_setting = repo.get_infos(conn, "active_model", "acquisition")
            acq = acquisition or acq_setting or DEFAULT_ACQUISITION
            for qid in ids[k:k + chunk]:
                q = repo.get_question(conn, qid, for_update=True)
                if q is None or (expected is not None and q.status not in expected):
                    continue
                try:
                    done.append(_apply(conn, q, action, None, None, None, annotator, version, acq, set_note=False))
                except ConflictError:
                    continue
        yield Progress(action.value, min(k + chunk, len(ids)), len(ids), f"{len(done)} recorded")
    return done


def _undo(project: "Project", correction_id: int, annotator: str | None = None) -> Correction:
    """Revert one history row in its own transaction (see ``Project.undo``)."""
    with project.writer.begin() as conn:
        target = repo.get_correction(conn, correction_id)
        if target is None:
            raise ProjectError(f"no correction {correction_id} in this project")
        q = repo.get_question(conn, target.question_id, for_update=True)
        if (q.answer, q.status) != (target.after_answer, target.after_status):
            raise ConflictError(
                f"question {q.id} changed after that edit (now '{q.answer}', {q.status.value}); not undone"
            )
        c = repo.insert_correction(
            conn, question_id=q.id, action=Action.UNDO.value, before_answer=q.answer,
            after_answer=target.before_answer, before_status=q.status.value,
            after_status=target.before_status.value, annotator=annotator or project.annotator,
            model_version=target.model_version, score=target.score, acquisition=target.acquisition,
            target_id=target.id,
        )
        repo.set_question_state(conn, q.id, target.before_answer, target.before_status)
    return c


def _redo(project: "Project", undo_id: int, annotator: str | None = None) -> Correction:
    """Re-apply what the ``undo`` row ``undo_id`` reverted (see ``Project.redo``)."""
    with project.writer.begin() as conn:
        u = repo.get_correction(conn, undo_id)
        if u is None or u.action is not Action.UNDO:
            raise ProjectError(f"correction {undo_id} is not an undo")
        q = repo.get_question(conn, u.question_id, for_update=True)
        if (q.answer, q.status) != (u.after_answer, u.after_status):
            raise ConflictError(f"question {q.id} changed after the undo; not redone")
        c = repo.insert_correction(
            conn, question_id=q.id, action=Action.REDO.value, before_answer=q.answer, after_answer=u.before_answer,
            before_status=q.status.value, after_status=u.before_status.value,
            annotator=annotator or project.annotator, model_version=u.model_version, score=u.score,
            acquisition=u.acquisition, target_id=u.id,
        )
        repo.set_question_state(conn, q.id, u.before_answer, u.before_status)
    return c


# --- reading the history ----------------------------------------------------------------------------

def derived_state(project: "Project", question_id: int) -> tuple[str | None, Status]:
    """The question's answer and status as its history says (the last row's 'after')."""
    with project.engine.connect() as conn:
        hist = repo.history(conn, question_id)
        q = repo.get_question(conn, question_id)
    if not hist:
        return q.answer, q.status
    return hist[-1].after_answer, hist[-1].after_status


def verify_history(project: "Project") -> list[str]:
    """Problems found checking that every question's history is an unbroken chain ending in its
    current state (empty when all is consistent)."""
    problems: list[str] = []
    with project.engine.connect() as conn:
        current = history_rows.question_states(conn)
        changes = history_rows.state_changes(conn)
    prev: dict[int, tuple[str | None, str]] = {}
    for r in changes:
        if r.question_id in prev and prev[r.question_id] != (r.before_answer, r.before_status):
            problems.append(f"correction {r.id}: 'before' does not match the previous row of question {r.question_id}")
        prev[r.question_id] = (r.after_answer, r.after_status)
    for qid, state in prev.items():
        if current.get(qid) != state:
            problems.append(f"question {qid}: current state {current.get(qid)} differs from its history {state}")
    return problems


def effective_answers(hist: Sequence[Correction]) -> list[tuple[str, str]]:
    """Answering rows still in effect after undo/redo, as (annotator, answer), in time order."""
    by_id = {c.id: c for c in hist}

    def origin(c: Correction) -> Correction:
        # a redo re-applies the row its undo reverted
        while c.action is Action.REDO and c.target_id in by_id:
            u = by_id[c.target_id]
            c = by_id.get(u.target_id, u)
        return c

    live: dict[int, Correction] = {}
    for c in hist:
        if c.action in _ANSWER_ACTIONS:
            live[c.id] = c
        elif c.action is Action.UNDO and c.target_id in by_id:
            live.pop(origin(by_id[c.target_id]).id, None)
        elif c.action is Action.REDO:
            o = origin(c)
            if o.action in _ANSWER_ACTIONS:
                live[o.id] = o
    return [(c.annotator, c.after_answer) for c in sorted(live.values(), key=lambda c: c.id) if c.after_answer]


def record(project: "Project", question_id: int, action: Action | str, answer: str | None = None, *,
           pick: int | None = None, note: str | None = None, annotator: str | None = None,
           acquisition: str | None = None, expect_status: Status | None = None,
           base_version: int | None = None) -> Correction:
    """One review action as its own committed transaction (see ``Project.record``); while another
    program holds the write lock (a long import), it waits for it instead of failing.

    ``base_version``: the question's version the annotator saw (``ReviewRecord.revision``); if the
    question changed since, ``EditConflictError`` (with both answers) is raised and nothing is written."""
    return when_unlocked(lambda: _record(project, question_id, action, answer, pick=pick, note=note,
                                         annotator=annotator, acquisition=acquisition, expect_status=expect_status,
                                         base_version=base_version))


def undo(project: "Project", correction_id: int, annotator: str | None = None) -> Correction:
    return when_unlocked(lambda: _undo(project, correction_id, annotator))


def redo(project: "Project", undo_id: int, annotator: str | None = None) -> Correction:
    return when_unlocked(lambda: _redo(project, undo_id, annotator))
