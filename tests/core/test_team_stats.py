"""Per-annotator statistics and agreement between annotators, on a case computed by hand."""
from __future__ import annotations

import pytest

from tests.core.team_fixtures import filled
from vqa_studio.core.team_stats import krippendorff_alpha, soft_scores, team_stats
from vqa_studio.core.types import Action


@pytest.fixture
def answered(tmp_path):
    """Four questions answered by A, B, C (C leaves the third out):
    q1 red/red/red, q2 blue/blue/red, q3 yes/no/-, q4 2/2/2; plus answers that must not count."""
    p = filled(tmp_path / "p")
    q1, q2, q3, q4, q5 = p.queue_ids(order_by="id")[:5]
    table = {q1: ("red", "Red", "red."), q2: ("blue", "blue", "red"), q3: ("yes", "no", None), q4: ("2", "two", "2")}
    for qid, answers in table.items():
        for who, ans in zip("ABC", answers):
            if ans is not None:
                p.record(qid, Action.CORRECT, ans, annotator=who)
    wrong = p.record(q3, Action.CORRECT, "maybe", annotator="C")
    p.undo(wrong.id, annotator="C")  # undone: C did not answer q3
    p.record(q5, Action.CORRECT, "green", annotator="A")  # one annotator only: no agreement
    p.record(q5, Action.SKIP, annotator="B")  # not an answer
    yield p
    p.close()


def test_alpha_soft_score_and_pairwise_agreement_match_the_hand_computation(answered):
    st = team_stats(answered)
    # coincidences: red-red 3, blue-blue 1, blue-red 1+1, yes-no 1+1, 2-2 3; n_c: red 4, blue 2, yes 1,
    # no 1, "2" 3 (n = 11). D_o = 4/11, D_e = (121 - 31) / 110, alpha = 1 - D_o / D_e = 5/9
    assert st.alpha == pytest.approx(5 / 9, abs=1e-9)
    # soft scores: q1 2/3 x3, q2 1/3 1/3 0, q3 0 0, q4 2/3 x3 -> 14/3 over 11 answers
    assert st.soft_score == pytest.approx(14 / 33)
    assert st.pairwise == pytest.approx(7 / 10)
    assert (st.questions_answered, st.multi_answered) == (5, 4)
    by = {a.annotator: a for a in st.annotators}
    assert by["A"].soft_score == pytest.approx(5 / 12) and by["C"].soft_score == pytest.approx(4 / 9)
    assert (by["A"].questions, by["A"].shared, by["C"].shared) == (5, 4, 3)
    assert by["C"].by_action == {"correct": 4, "undo": 1} and by["B"].by_action == {"correct": 4, "skip": 1}
    assert by["A"].agreement == pytest.approx((1 + 0.5 + 0 + 1) / 4)
    text = "\n".join(st.lines())
    assert "krippendorff alpha (nominal): 0.5556" in text and "  C: 5 corrections" in text


def test_alpha_edge_cases():
    assert krippendorff_alpha([{"a": "x"}]) is None  # nobody to compare with
    assert krippendorff_alpha([{"a": "x", "b": "x"}, {"a": "x", "b": "x"}]) is None  # one value: undefined
    assert krippendorff_alpha([{"a": "x", "b": "x"}, {"a": "y", "b": "y"}]) == pytest.approx(1.0)
    assert soft_scores({"a": "x", "b": "x", "c": "x", "d": "x", "e": "y"}) == {
        "a": 1.0, "b": 1.0, "c": 1.0, "d": 1.0, "e": 0.0}


def test_no_answers_no_agreement(project):
    st = team_stats(project)
    assert st.annotators == [] and st.alpha is None and st.soft_score is None
