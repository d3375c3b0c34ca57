"""Team review in the app: an edit of a question someone changed meanwhile shows both answers (keep
mine / take theirs), the annotator's name from the settings, the team server dialog on a real
PostgreSQL server with claims, and the team statistics dialog."""
from __future__ import annotations

import pytest

from tests.core.team_fixtures import needs_pg, pg_url  # noqa: F401 - fixture
from tests.qt.conftest import open_and_wait
from vqa_studio.core.project import Project
from vqa_studio.core.types import Action


def _someone_else_edits(folder, qid, answer="purple"):
    other = Project.open(folder)
    try:
        return other.record(qid, Action.CORRECT, answer, annotator="bob")
    finally:
        other.close()


@pytest.mark.parametrize("choice", ["mine", "theirs"])
def test_a_conflicting_edit_shows_both_answers(qtbot, window, review_project, choice):
    c = open_and_wait(qtbot, window, review_project)
    qid = c.current.question.id
    assert c.current.revision == 0
    _someone_else_edits(review_project, qid)  # after this window read the question
    assert c.correct("green")
    qtbot.waitUntil(lambda: c.conflict_dialog is not None and c.conflict_dialog.isVisible(), timeout=10000)
    dlg = c.conflict_dialog
    assert "green" in dlg.mine_label.text() and "purple" in dlg.theirs_label.text() and "bob" in dlg.intro.text()
    (dlg.keep_button if choice == "mine" else dlg.take_button).click()
    c.wait_for_writes()
    qtbot.waitUntil(lambda: c.pending_writes == 0, timeout=10000)
    hist = window.project.history(qid)
    if choice == "mine":
        assert [(h.annotator, h.after_answer) for h in hist] == [("bob", "purple"), ("tester", "green")]
        assert window.project.question(qid).answer == "green"
    else:
        assert [(h.annotator, h.after_answer) for h in hist] == [("bob", "purple")]
        assert window.project.question(qid).answer == "purple"
    assert window.project.verify_history() == []


def test_own_quick_edits_are_not_conflicts(qtbot, window, review_project):
    c = open_and_wait(qtbot, window, review_project)
    c.auto_advance = False
    qid = c.current.question.id
    assert c.correct("green") and c.correct("blue")  # the second before the first is written
    c.wait_for_writes()
    qtbot.waitUntil(lambda: c.pending_writes == 0, timeout=10000)
    assert c.conflict_dialog is None
    assert [h.after_answer for h in window.project.history(qid)] == ["green", "blue"]


def test_the_annotator_name_comes_from_the_settings(qtbot, window, review_project, settings):
    settings.setValue("review/annotator", "carol")
    c = open_and_wait(qtbot, window, review_project)
    qid = c.current.question.id
    assert window.project.annotator == "carol"
    c.accept()
    c.wait_for_writes()
    qtbot.waitUntil(lambda: bool(window.project.history(qid)), timeout=10000)
    assert window.project.history(qid)[-1].annotator == "carol"


def test_team_statistics_dialog(qtbot, window, review_project):
    with Project.open(review_project) as p:
        qid = p.queue_ids(order_by="id")[0]
        p.record(qid, Action.CORRECT, "red", annotator="ann1")
        p.record(qid, Action.CORRECT, "red", annotator="ann2")
    open_and_wait(qtbot, window, review_project)
    window.act_team_stats.trigger()
    dlg = window.team_stats_dialog
    qtbot.waitUntil(lambda: dlg.stats is not None, timeout=10000)
    assert dlg.table.rowCount() == 2 and dlg.table.item(0, 0).text() == "ann1"
    assert "by two or more annotators: 1" in dlg.summary.text()
    dlg.close()
    menus = {a.text(): a for m in window.menuBar().actions() for a in m.menu().actions()}
    assert {"Open &team server…", "Team statistics…", "Annotator name…"} <= set(menus)


@needs_pg
@pytest.mark.postgres
def test_team_server_claims_the_question_on_screen(qtbot, window, review_project, pg_url, tmp_path):  # noqa: F811
    from vqa_studio.core.driver import drive
    from vqa_studio.core.team_migrate import migrate
    from vqa_studio.qt.dialogs.team import TeamServerDialog, open_team

    drive(migrate(str(review_project), pg_url, tmp_path / "team"))
    dlg = TeamServerDialog(window.settings, window)  # what the File menu's dialog keeps
    dlg.url.setText(pg_url)
    dlg.folder.setText(str(tmp_path / "team"))
    dlg.annotator.setText("tester")
    dlg._accept()
    assert window.settings.value("team/url") == pg_url and window.settings.value("review/annotator") == "tester"
    assert open_team(window, pg_url, str(tmp_path / "team"))
    qtbot.waitUntil(lambda: window.model is not None and not window.model.loading and window.controller.current
                    is not None, timeout=15000)
    c = window.controller
    assert window.project.engine.dialect.name == "postgresql" and c.claims is not None
    qid = c.current.question.id
    other = Project.open(tmp_path / "team")
    try:
        bob = other.team("bob", lease_s=60)
        qtbot.waitUntil(lambda: bob.holder(qid) is not None, timeout=10000)
        assert bob.holder(qid).annotator == "tester"
        assert qid not in bob.claim_next(50)  # the queue does not hand it to bob
        bob.release()
        # bob holds the next question to review: accepting this one passes it by
        nxt = window.model.question_id(window.model.next_row(c.current_row, c.advance_statuses))
        assert bob.claim(nxt).annotator == "bob"
        notices = []
        c.notice.connect(notices.append)
        c.accept()
        qtbot.waitUntil(lambda: c.current_qid not in (qid, nxt) and c.pending_writes == 0, timeout=15000)
        assert any(f"question {nxt} is being reviewed by bob" in n for n in notices)
        shown = c.current_qid
        qtbot.waitUntil(lambda: bob.holder(shown) is not None, timeout=10000)
        assert bob.holder(shown).annotator == "tester" and bob.holder(qid) is None  # moved on: released
        window.close_project()  # released on close
        assert bob.holder(shown) is None and bob.holder(nxt).annotator == "bob"
    finally:
        other.close()


def test_team_server_errors_are_messages(qtbot, window, monkeypatch):
    from vqa_studio.qt.dialogs import team

    shown = []
    monkeypatch.setattr(team, "show_error", lambda parent, title, text, details="": shown.append(text))
    assert not team.open_team(window, "postgresql+psycopg2://nobody@localhost:1/none")
    assert "cannot use the database server" in shown[0]
