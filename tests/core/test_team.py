"""Team review on SQLite and on a real PostgreSQL server: claims with a lease (expiry, takeover,
renewal, release), two claimers never getting the same question, and the optimistic-concurrency
conflict path."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import create_engine, text

from tests.core.team_fixtures import pg_url, team_project  # noqa: F401 - fixtures
from vqa_studio.core.errors import ConflictError, EditConflictError, ProjectError
from vqa_studio.core.project import Project
from vqa_studio.core.store import db as dbmod
from vqa_studio.core.team import VersionedReviewCommand, keep_mine
from vqa_studio.core.types import Action, Status


def test_claims_are_disjoint_and_in_queue_order(team_project):
    p = team_project
    alice, bob = p.team("alice", lease_s=60), p.team("bob", lease_s=60)
    a = alice.claim_next(5)
    b = bob.claim_next(5)
    assert a == p.queue_ids(order_by="id")[:5] and len(b) == 5 and not set(a) & set(b)
    # asking again hands alice her own questions first (renewed), never bob's
    assert alice.claim_next(5) == a
    assert {c.question_id for c in alice.claims()} == set(a)
    assert {c.question_id for c in bob.claims(everyone=True)} == set(a) | set(b)
    # opening one of alice's questions does not take it from her
    held = bob.claim(a[0])
    assert held.annotator == "alice" and held.live()
    with pytest.raises(ProjectError):
        bob.claim(999_999)


def test_expired_lease_is_taken_over_and_renewal_tells_who_lost(team_project):
    p = team_project
    alice, bob = p.team("alice", lease_s=0.6), p.team("bob", lease_s=30)
    a = alice.claim_next(3)
    assert not set(bob.claim_next(18)) & set(a)  # all the others, none of alice's
    assert bob.claim_next(1) == [bob.claim_next(20)[0]]
    assert alice.renew(a) == sorted(a)  # still open: renewed
    time.sleep(0.8)
    # the lease ran out: the next claimer takes it over (bob already holds the rest)
    carol = p.team("carol", lease_s=30)
    taken = carol.claim_next(2)
    assert set(taken) <= set(a) and len(taken) == 2
    assert sorted(alice.renew(a)) == sorted(set(a) - set(taken))  # alice learns which she lost
    assert alice.holder(taken[0]).annotator == "carol"


def test_released_questions_go_to_the_next_claimer(team_project):
    p = team_project
    alice, bob = p.team("alice", lease_s=60), p.team("bob", lease_s=60)
    everything = alice.claim_next(100)
    assert len(everything) == 18 and bob.claim_next(1) == []
    assert alice.release(everything[:2]) == 2
    assert bob.claim_next(5) == everything[:2]
    assert alice.release() == 16 and alice.claims() == []
    # done with one (answered), on to the next: the release is part of the next claim's transaction
    first = bob.claims()[0].question_id
    p.record(first, Action.CORRECT, "red", annotator="bob")
    nxt = bob.claim_next(2, release=[first])
    assert first not in nxt and bob.holder(first) is None and len(nxt) == 2


def test_answered_questions_leave_the_queue(team_project):
    p = team_project
    alice = p.team("alice", lease_s=60)
    first = alice.claim_next(1)[0]
    p.record(first, Action.CORRECT, "red", annotator="alice")
    alice.release([first])
    assert first not in alice.claim_next(18)


def test_two_claimers_at_once_never_get_the_same_question(team_project):
    p = team_project
    results: dict[str, list[int]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def claimer(name: str) -> None:
        team = p.team(name, lease_s=60)
        try:
            start.wait()
            got: list[int] = []
            while True:  # as an annotator works: claim, answer, release, next
                ids = team.claim_next(1)
                if not ids:
                    break
                got.extend(ids)
                p.record(ids[0], Action.SKIP, annotator=name)
                team.release(ids)
            results[name] = got
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=claimer, args=(f"ann{k}",)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    claimed = [qid for ids in results.values() for qid in ids]
    assert len(claimed) == len(set(claimed)) == 18


def test_a_stale_edit_is_a_conflict_with_both_answers(team_project):
    p = team_project
    qid = p.queue_ids(order_by="id")[0]
    seen_by_alice = p.review_record(qid).revision
    seen_by_bob = p.review_record(qid).revision
    assert seen_by_alice == seen_by_bob == 0
    p.record(qid, Action.CORRECT, "red", annotator="bob", base_version=seen_by_bob)
    before = p.history(qid)
    with pytest.raises(EditConflictError) as err:
        p.record(qid, Action.CORRECT, "green", annotator="alice", base_version=seen_by_alice)
    c = err.value
    assert isinstance(c, ConflictError)
    assert (c.mine, c.theirs, c.their_annotator, c.base_version, c.current_version) == ("green", "red", "bob", 0, 1)
    assert p.history(qid) == before and p.question(qid).answer == "red"  # nothing overwritten
    # alice keeps hers: a new correction on the new version, recorded with that version
    row = keep_mine(p, c, annotator="alice")
    assert row.after_answer == "green" and row.before_answer == "red"
    assert p.review_record(qid).revision == 2 and p.verify_history() == []
    # a command based on the old version meets the conflict too; taking theirs writes nothing
    cmd = VersionedReviewCommand(qid, Action.SKIP, annotator="carol", base_version=1)
    with pytest.raises(EditConflictError):
        cmd.do(p)
    assert cmd.state == "new" and len(p.history(qid)) == 2
    ok = VersionedReviewCommand(qid, Action.SKIP, annotator="carol", base_version=2)
    assert ok.do(p).after_status is Status.SKIPPED
    ok.undo(p)  # undo and redo raise the version as well
    assert p.review_record(qid).revision == 4


def test_edits_without_a_base_version_are_not_checked(team_project):
    p = team_project
    qid = p.queue_ids(order_by="id")[1]
    p.record(qid, Action.CORRECT, "red", annotator="bob")
    p.record(qid, Action.CORRECT, "blue", annotator="alice")
    assert p.question(qid).answer == "blue"
    assert [(c.annotator, c.after_answer) for c in p.history(qid)] == [("bob", "red"), ("alice", "blue")]


def test_concurrent_edits_of_one_question_one_wins_one_conflicts(team_project):
    p = team_project
    qid = p.queue_ids(order_by="id")[2]
    base = p.review_record(qid).revision
    outcome: dict[str, object] = {}
    start = threading.Barrier(2)

    def edit(name: str, answer: str) -> None:
        start.wait()
        try:
            outcome[name] = p.record(qid, Action.CORRECT, answer, annotator=name, base_version=base)
        except EditConflictError as exc:
            outcome[name] = exc

    threads = [threading.Thread(target=edit, args=(n, a)) for n, a in (("alice", "red"), ("bob", "blue"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    kinds = sorted(type(v).__name__ for v in outcome.values())
    assert kinds == ["Correction", "EditConflictError"]
    loser = next(v for v in outcome.values() if isinstance(v, EditConflictError))
    assert loser.theirs == p.question(qid).answer and loser.mine != loser.theirs
    assert len(p.history(qid)) == 1


def test_an_existing_project_file_is_upgraded_to_the_team_schema(tmp_path):
    folder = tmp_path / "old"
    folder.mkdir()
    engine = dbmod.make_engine(dbmod.sqlite_url(folder / "project.db"))
    dbmod.upgrade(engine, "0003")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO items (id, kind, uri, split, created_at) VALUES (1, 'image', 'a.png', 'train', '2026-01-01')"))
        conn.execute(text("INSERT INTO questions (id, item_id, text, question_type, answer_type, status, answer, "
                          "created_at, updated_at) VALUES (1, 1, 'What?', 'what', 'other', 'new', NULL, "
                          "'2026-01-01', '2026-01-01')"))
    engine.dispose()
    p = Project.open(folder)
    try:
        assert p.review_record(1).revision == 0
        assert p.team("alice", lease_s=5).claim_next(1) == [1]
        p.record(1, Action.CORRECT, "red", annotator="alice", base_version=0)
        assert p.review_record(1).revision == 1
        assert list((folder / "backups").glob("*.db"))  # the file was backed up before the upgrade
    finally:
        p.close()


def test_lease_setting_is_checked(project):
    project.set_setting("lease_minutes", "soon")
    with pytest.raises(ProjectError, match="lease_minutes"):
        project.team()
    project.set_setting("lease_minutes", "0.5")
    assert project.team().lease_s == 30.0


def test_team_project_on_postgres_opens_by_url(pg_url, tmp_path):  # noqa: F811 - fixture
    p = Project.create(tmp_path / "team", url=pg_url)
    p.close()
    eng = create_engine(pg_url)
    with eng.connect() as conn:
        cols = {r[0] for r in conn.execute(text(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'questions'"))}
        assert "version" in cols
        assert conn.execute(text("SELECT count(*) FROM claims")).scalar() == 0
    eng.dispose()


def test_on_a_server_leases_follow_the_servers_clock(pg_url, tmp_path, monkeypatch):  # noqa: F811 - fixture
    from datetime import timedelta

    from tests.core.team_fixtures import filled
    from vqa_studio.core.store import leases

    p = filled(tmp_path / "team", pg_url)
    try:
        a = p.team("alice", lease_s=60).claim_next(3)
        real = leases.utcnow
        monkeypatch.setattr(leases, "utcnow", lambda: real() + timedelta(days=1))  # bob's clock is a day ahead
        assert not set(p.team("bob", lease_s=60).claim_next(18)) & set(a)
    finally:
        p.close()
