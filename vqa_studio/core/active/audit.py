"""The audit queue: a random share of auto-accepted answers (``policy.apply_auto_accept(...,
audit_share=0.02)``, Review ▸ Auto-accept…, ``vqa-studio auto-accept --audit``) is set aside for a
person to check. Confirming one records an ``accept`` (it becomes a human label); correcting one
records the ``correct``ion and counts as a mistake of auto-accept. The decided audits are reported
(``audit_report``: the observed precision of what auto-accept took and its Clopper-Pearson lower
bound) and join the held-out set the next threshold is chosen on (``policy.load_auto_accept_data``),
so mistakes found in audits make the next threshold stricter.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..data.vocab import normalize_answer
from ..errors import ConflictError, VQAStudioError
from ..store import dynamics_rows
from ..types import Action, Status
from .guarantee import AuditReport

CONFIRMED, CORRECTED = "confirmed", "corrected"


@dataclass(frozen=True)
class Audit:
    id: int
    question_id: int
    text: str
    answer: str | None  # what auto-accept accepted
    confidence: float | None
    threshold: float | None
    model_version: str | None
    created_at: datetime
    outcome: str | None  # None (pending) | confirmed | corrected
    decided_answer: str | None
    decided_by: str | None
    status: Status  # the question's status now
    current_answer: str | None


def audits(project, *, pending: bool | None = True, limit: int | None = None) -> list[Audit]:
    """The audits (default: the pending ones), oldest first."""
    with project.engine.connect() as conn:
        rows = dynamics_rows.audits(conn, pending=pending, limit=limit)
    return [Audit(r.id, r.question_id, r.text, r.answer, r.confidence, r.threshold, r.model_version, r.created_at,
                  r.outcome, r.decided_answer, r.decided_by, Status(r.status), r.current_answer) for r in rows]


def decide(project, audit_id: int, answer: str | None = None, *, annotator: str | None = None) -> str:
    """Decide an audit: ``answer`` None (or the auto-accepted answer itself) confirms it, any other
    answer corrects it. Records the review action (accept / correct) and the outcome; -> the outcome.
    An audit already decided (by someone else meanwhile) raises ``ConflictError``."""
    found = [a for a in audits(project, pending=None) if a.id == audit_id]
    if not found:
        raise VQAStudioError(f"there is no audit {audit_id}")
    audit = found[0]
    if audit.outcome is not None:
        raise ConflictError(f"audit {audit_id} was decided already ({audit.outcome} by {audit.decided_by})")
    same = answer is None or (audit.answer is not None and normalize_answer(answer) == normalize_answer(audit.answer))
    who = annotator or project.annotator
    if same:
        if audit.status is Status.AUTO_ACCEPTED:
            project.record(audit.question_id, Action.ACCEPT, annotator=who, acquisition="audit")
        outcome, stored = CONFIRMED, audit.answer
    else:
        project.record(audit.question_id, Action.CORRECT, answer, annotator=who, acquisition="audit")
        outcome, stored = CORRECTED, answer
    with project.writer.begin() as conn:
        if not dynamics_rows.decide_audit(conn, audit_id, outcome, stored, who):
            raise ConflictError(f"audit {audit_id} was decided by someone else meanwhile")
    return outcome


def audit_report(project) -> AuditReport:
    """Audited, mistakes found (corrected), pending."""
    with project.engine.connect() as conn:
        counts = dynamics_rows.audit_counts(conn)
    decided = counts.get(CONFIRMED, 0) + counts.get(CORRECTED, 0)
    return AuditReport(decided, counts.get(CORRECTED, 0), counts.get(None, 0))
