"""A whole review session with the keyboard only, then the database: exactly those edits, with history."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from tests.qt.conftest import open_and_wait
from vqa_studio.core.project import Project
from vqa_studio.core.types import Action, Status


def _key(qtbot, win, key, modifier=Qt.NoModifier):
    target = QApplication.focusWidget() or win.focusWidget() or win
    qtbot.keyClick(target, key, modifier)


def test_keyboard_review_session(qtbot, window, review_project):
    win = window
    c = open_and_wait(qtbot, win, review_project)
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=5000)
    # on opening, the keyboard is on the review: Enter accepts at once
    assert win.focusWidget() is win.image_page.view
    seen = []

    def current():
        seen.append(c.current_qid)
        return c.current_qid

    q_accept = current()
    proposal = c.current.prediction.answers[0]
    _key(qtbot, win, Qt.Key_Return)                       # accept the top proposal
    assert c.current_qid != q_accept                      # auto-advanced to the next item

    q_pick = current()
    second = c.current.prediction.answers[1]
    _key(qtbot, win, Qt.Key_2)                            # pick proposal 2

    q_new = current()
    _key(qtbot, win, Qt.Key_V)                            # typing starts a correction
    corr = win.answer_panel.correction
    assert QApplication.focusWidget() is corr and corr.text() == "v"
    qtbot.keyClicks(corr, "iolet")
    qtbot.keyClick(corr, Qt.Key_Return)                   # a new answer asks for confirmation
    qtbot.waitUntil(lambda: getattr(win, "confirm_box", None) is not None and win.confirm_box.isVisible())
    assert "violet" in win.confirm_box.text()
    qtbot.keyClick(win.confirm_box, Qt.Key_Return)        # default button: add the new answer
    qtbot.waitUntil(lambda: c.current_qid != q_new)

    q_known = current()
    _key(qtbot, win, Qt.Key_Y)                            # a known answer: no confirmation
    qtbot.keyClicks(corr, "ellow")
    qtbot.keyClick(corr, Qt.Key_Return)
    qtbot.waitUntil(lambda: c.current_qid != q_known)
    assert getattr(win, "confirm_box", None) is None

    q_flag = current()
    _key(qtbot, win, Qt.Key_F)                            # flag with a note
    qtbot.waitUntil(lambda: getattr(win, "note_dialog", None) is not None and win.note_dialog.isVisible())
    qtbot.keyClicks(win.note_dialog.note, "blurry image")
    qtbot.keyClick(win.note_dialog.note, Qt.Key_Return)
    qtbot.waitUntil(lambda: c.current_qid != q_flag)

    q_skip = current()
    _key(qtbot, win, Qt.Key_S)                            # skip
    qtbot.waitUntil(lambda: c.current_qid != q_skip)

    # navigation: K back, J forward
    here = c.current_row
    _key(qtbot, win, Qt.Key_K)
    assert c.current_row == here - 1
    _key(qtbot, win, Qt.Key_J)
    assert c.current_row == here

    _key(qtbot, win, Qt.Key_Z, Qt.ControlModifier)        # undo the skip
    _key(qtbot, win, Qt.Key_Z, Qt.ControlModifier)        # undo the flag: the view goes back to it
    qtbot.waitUntil(lambda: c.current_qid == q_flag)
    _key(qtbot, win, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)   # redo the flag
    qtbot.waitUntil(lambda: c.pending_writes == 0, timeout=10000)
    assert c.wait_for_writes()
    qtbot.waitUntil(lambda: c.pending_writes == 0)
    assert win.undo_stack.index() == 5 and win.undo_stack.count() == 6

    with Project.open(review_project) as p:
        def hist(q):
            return [h.action for h in p.history(q)]

        assert hist(q_accept) == [Action.ACCEPT]
        assert p.question(q_accept).answer == proposal and p.question(q_accept).status is Status.ACCEPTED
        assert hist(q_pick) == [Action.PICK] and p.question(q_pick).answer == second
        assert p.question(q_pick).status is Status.CORRECTED
        assert hist(q_new) == [Action.CORRECT] and p.question(q_new).answer == "violet"
        assert hist(q_known) == [Action.CORRECT] and p.question(q_known).answer == "yellow"
        assert hist(q_flag) == [Action.FLAG, Action.UNDO, Action.REDO]
        assert p.question(q_flag).status is Status.FLAGGED and p.question(q_flag).note == "blurry image"
        assert hist(q_skip) == [Action.SKIP, Action.UNDO] and p.question(q_skip).status is Status.NEW
        assert p.stats().n_corrections == 9  # exactly those edits, nothing else
        assert p.human_answers(q_new) == [("tester", "violet")]
        assert p.verify_history() == []
        all_rows = p.recent_corrections(100)
        assert {r.question_id for r in all_rows} == {q_accept, q_pick, q_new, q_known, q_flag, q_skip}
    assert len(set(seen)) == len(seen)


def test_accept_without_proposal_says_so(qtbot, window, tmp_path):
    from tests.qt.conftest import build_review_project

    project = build_review_project(tmp_path / "np", n_images=2, with_model=False)
    folder = project.folder
    project.close()
    win = window
    c = open_and_wait(qtbot, win, folder)
    q = c.current_qid
    with qtbot.waitSignal(c.notice, timeout=2000) as sig:
        qtbot.keyClick(win.image_page.view, Qt.Key_Return)
    assert "no proposal" in sig.args[0]
    assert c.current_qid == q and win.undo_stack.count() == 0
    assert QMessageBox  # the message goes to the status bar: nothing blocks the keyboard
