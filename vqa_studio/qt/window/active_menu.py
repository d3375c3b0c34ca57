"""Review menu entries of issue 13: the audit queue, label errors and the acquisition policy (the
auto-accept dialog with its guarantee is Review ▸ Auto-accept…, in ``menus``)."""
from __future__ import annotations

from PySide6.QtCore import Qt


def add_active_actions(win, menu) -> None:
    """Add the actions to ``menu`` (Review); they are enabled while a project is open."""
    win.act_audits = win._act("Audit queue…", lambda: audit_dialog(win))
    win.act_label_errors = win._act("Label errors…", lambda: label_errors_dialog(win))
    win.act_policy = win._act("Acquisition policy (outliers, diverse batches)…", lambda: policy_dialog(win))
    for a in (win.act_audits, win.act_label_errors, win.act_policy):
        a.setEnabled(False)
        menu.addAction(a)
        win.project_actions.append(a)


def _after_review(win) -> None:
    if win.model is not None:
        win.model.reload()
    win._refresh_counts()


def audit_dialog(win):
    if win.project is None:
        return None
    from ..dialogs.audits import AuditDialog

    dlg = AuditDialog(win.project, win.bg, win)
    dlg.setAttribute(Qt.WA_DeleteOnClose)
    dlg.decided.connect(lambda _qid, outcome: (_after_review(win), win._notify(f"audit {outcome}")))
    dlg.question_chosen.connect(win._open_question)
    win.audit_dialog_widget = dlg
    dlg.open()
    return dlg


def label_errors_dialog(win):
    if win.project is None:
        return None
    from ..dialogs.label_errors import LabelErrorsDialog

    dlg = LabelErrorsDialog(win.project, win)
    dlg.setAttribute(Qt.WA_DeleteOnClose)
    dlg.question_chosen.connect(win._open_question)
    win.label_errors_widget = dlg
    dlg.open()
    return dlg


def policy_dialog(win):
    if win.project is None:
        return None
    from ..dialogs.acquisition_policy import AcquisitionPolicyDialog

    dlg = AcquisitionPolicyDialog(win.project, win)
    dlg.setAttribute(Qt.WA_DeleteOnClose)
    dlg.saved.connect(lambda policy: (_after_review(win), win._notify(f"acquisition policy: {policy.describe()}")))
    win.policy_dialog_widget = dlg
    dlg.open()
    return dlg
