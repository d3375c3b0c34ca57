"""Per-question targets the dataset works out once (tests/core/train covers batching end to end)."""
from vqa_studio.core.data.dataset import MAX_COUNT_TARGET, QA, count_target
from vqa_studio.core.types import ItemKind, Status


def qa(answer, answer_type="number", status=Status.CORRECTED, imported=()):
    return QA(1, 1, ItemKind.IMAGE, "train", "How many dogs are there?", "how many", answer_type, status, answer,
              tuple(imported))


def test_count_target_is_the_number_a_count_answer_gives():
    assert count_target(qa("3")) == 3.0
    assert count_target(qa("0")) == 0.0
    assert count_target(qa("three")) == 3.0  # normalised like the VQA evaluation
    # imported VQA answers: the most common one
    assert count_target(qa("2", status=Status.LABELLED, imported=["2", "3", "3", "3", "2"])) == 3.0


def test_count_target_is_minus_one_for_everything_else():
    assert count_target(qa("yes", answer_type="yes/no")) == -1.0
    assert count_target(qa("red", answer_type="other")) == -1.0
    assert count_target(qa(None)) == -1.0  # unlabelled
    assert count_target(qa("1.5")) == -1.0
    assert count_target(qa(str(MAX_COUNT_TARGET + 1))) == -1.0  # "how many years...": not a count of things
    assert count_target(qa(str(MAX_COUNT_TARGET))) == float(MAX_COUNT_TARGET)
