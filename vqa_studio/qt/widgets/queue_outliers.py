"""The review queue's outlier column and filter (issue 13): each question's outlier score (dataset
cartography of the active model's training, transferred to the questions it did not train on; see
``core.active.outliers``), a flag where it marks a likely outlier, and Filters ▸ Outliers (all,
hide likely outliers, only likely outliers)."""
from __future__ import annotations

from PySide6.QtCore import QRect, QTimer, Qt
from PySide6.QtGui import QColor, QPainter

from ...core.active.outliers import DEFAULT_THRESHOLD as DEFAULT_OUTLIER_THRESHOLD
from ...core.active.outliers import outlier_scores
from ...core.active.selection import AcquisitionPolicy, arrange_queue
from ..style import COLORS

__all__ = ["DEFAULT_OUTLIER_THRESHOLD", "arrange_queue", "add_outlier_menu", "paint_outlier", "outlier_text",
           "outlier_tooltip", "set_outlier_filter"]

OUTLIER_FILTER_LABELS = [("all", "All questions"), ("hide", "Hide likely outliers"), ("only", "Only likely outliers")]


def outlier_text(score: float | None, threshold: float) -> str:
    if score is None:
        return ""
    return f"⚑ {score:.2f}" if score >= threshold else f"{score:.2f}"


def outlier_tooltip(score: float | None, threshold: float) -> str | None:
    if score is None:
        return "no outlier score: the active model was trained before outliers were recorded"
    what = "a likely outlier (hard to learn: unanswerable, ambiguous or mislabelled?)" if score >= threshold \
        else "not a likely outlier"
    return f"outlier score {score:.3f} (flag at {threshold:.2f}): {what}"


def paint_outlier(painter: QPainter, rect: QRect, score: float | None, threshold: float) -> None:
    if score is None:
        return
    flagged = score >= threshold
    painter.setPen(QColor(COLORS["warn"] if flagged else COLORS["muted"]))
    painter.drawText(rect.adjusted(4, 0, -8, 0), Qt.AlignVCenter | Qt.AlignRight, outlier_text(score, threshold))


def add_outlier_menu(dock, menu) -> None:
    """Filters ▸ Outliers: one of the three, checked; choosing one re-queries."""
    sub = menu.addMenu("Outliers")
    for value, label in OUTLIER_FILTER_LABELS:
        a = sub.addAction(label)
        a.setCheckable(True)
        a.setChecked(dock._outliers == value)
        a.triggered.connect(lambda _=False, v=value: set_outlier_filter(dock, v))


def set_outlier_filter(dock, value: str) -> None:
    dock._outliers = value
    QTimer.singleShot(0, dock, dock._build_menu)  # not while the menu's own action is being handled
    dock._update_more_label()
    dock._emit()


_SCORES: dict[tuple[str, str | None], dict[int, float]] = {}  # (project folder, model version) -> scores


def _outlier_state(project) -> tuple[dict[int, float], float]:
    """(outlier scores of the active model, the policy's threshold of a likely outlier): read in a
    worker; the scores of a version are read once (they are written with it and never change)."""
    key = (str(project.folder), project.active_model)
    scores = _SCORES.get(key)
    if scores is None:
        scores = outlier_scores(project)
        if scores:  # none yet: maybe being written by a training that just finished; read again next time
            _SCORES.clear()
            _SCORES[key] = scores
    return scores, AcquisitionPolicy.load(project).outlier_threshold
