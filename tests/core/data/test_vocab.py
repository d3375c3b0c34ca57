import math

import pytest

from vqa_studio.core.data import vocab


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Two", "2"),
        ("the red ball.", "red ball"),
        ("Yes!", "yes"),
        ("black-and-white", "black and white"),  # a mark inside a word becomes a space
        ("red , white", "red white"),  # a mark next to a space is deleted
        ("1,000", "1000"),  # digit,digit: all marks deleted
        ("dont", "don't"),
        ("An Apple", "apple"),
        ("3.5", "3.5"),  # a decimal point stays
        ("Ten dogs", "10 dogs"),
        ("  red \n", "red"),
        ("none", "0"),
        ("whats up?", "what's up"),
    ],
)
def test_normalize_answer_worked_examples(raw, expected):
    assert vocab.normalize_answer(raw) == expected


def test_accuracy_all_agree():
    assert vocab.vqa_accuracy("yes", ["yes"] * 10) == 1.0


@pytest.mark.parametrize(
    "n_match, expected",
    [
        # worked by hand: leave each of the 10 answers out, min(1, matches among the other 9 / 3), mean
        (3, (3 * (2 / 3) + 7 * 1) / 10),  # 0.9
        (2, (2 * (1 / 3) + 8 * (2 / 3)) / 10),  # 0.6
        (1, (1 * 0 + 9 * (1 / 3)) / 10),  # 0.3
        (0, 0.0),
        (4, 1.0),
    ],
)
def test_accuracy_leave_one_out(n_match, expected):
    answers = ["yes"] * n_match + ["no"] * (10 - n_match)
    assert math.isclose(vocab.vqa_accuracy("yes", answers), expected, rel_tol=1e-12)


def test_accuracy_values_by_hand():
    assert math.isclose(vocab.vqa_accuracy("yes", ["yes"] * 3 + ["no"] * 7), 0.9)
    assert math.isclose(vocab.vqa_accuracy("yes", ["yes"] * 2 + ["no"] * 8), 0.6)
    assert math.isclose(vocab.vqa_accuracy("yes", ["yes"] * 1 + ["no"] * 9), 0.3)


def test_accuracy_normalises_both_sides():
    assert vocab.vqa_accuracy("Two.", ["2"] * 4 + ["3"] * 6) == 1.0
    assert vocab.vqa_accuracy("the dog", ["dog", "Dog", "a dog"] + ["cat"] * 7) == pytest.approx(0.9)


def test_accuracy_single_answer_is_exact_match():
    assert vocab.vqa_accuracy("red", ["Red"]) == 1.0
    assert vocab.vqa_accuracy("red", ["blue"]) == 0.0
    with pytest.raises(ValueError):
        vocab.vqa_accuracy("red", [])


@pytest.mark.parametrize(
    "question, qtype",
    [
        ("What color is the car?", "what color is the"),
        ("How many people are in the room?", "how many people are in"),
        ("How many dogs?", "how many"),
        ("Is this a cat?", "is this a"),
        ("Is this an apple?", "is this an"),
        ("Why?", "why"),
        ("What is the man holding?", "what is the man"),
        ("Name the animal.", "none of the above"),
        ("Whatever is that?", "none of the above"),  # whole words only: 'whatever' is not 'what'
    ],
)
def test_question_type(question, qtype):
    assert vocab.question_type(question) == qtype


def test_the_65_question_types():
    # 64 prefixes plus "none of the above" for questions that start with none of them
    types = set(vocab.VQA_QUESTION_TYPES) | {vocab.NO_QUESTION_TYPE}
    assert len(vocab.VQA_QUESTION_TYPES) == 64 and len(types) == 65


@pytest.mark.parametrize(
    "answer, question, atype",
    [
        ("yes", None, "yes/no"),
        ("No.", None, "yes/no"),
        ("two", None, "number"),
        ("12", None, "number"),
        ("red", None, "other"),
        (None, "How many cats are there?", "number"),
        (None, "Is it raining?", "yes/no"),
        (None, "What is on the table?", "other"),
        ("", "Are there two dogs?", "yes/no"),
    ],
)
def test_answer_type(answer, question, atype):
    assert vocab.answer_type(answer, question) == atype


def test_majority_answer_ties_go_to_the_first_seen():
    assert vocab.majority_answer(["red", "blue", "Red", "blue"]) == "red"
    assert vocab.majority_answer(["two", "2", "3"]) == "2"
    assert vocab.majority_answer([]) is None


def test_vocab_unknown_words_map_to_unk():
    v = vocab.Vocab.build(["What color is the cube?", "How many cubes?"])
    ids = v.encode("What colour is the sphere?")
    assert ids[0] == v.tokens.index("what")
    assert ids[1] == 1 and ids[4] == 1  # colour, sphere: unknown
    assert v.unknown_words("What colour is the sphere?") == ["colour", "sphere"]
    assert vocab.Vocab(v.to_list()).encode("how many cubes") == v.encode("how many cubes")


def test_answer_vocab_index_and_outside_answers():
    av = vocab.AnswerVocab.build(["red", "Red", "blue", "two", "2", "2"])
    assert av.answers[0] == "2" and av.answers[1] == "red"
    assert av.index("RED") == 1
    assert av.index("green") == -1 and "green" not in av
