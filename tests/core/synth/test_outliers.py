"""Injected outliers (`vqa-studio demo --outliers`): unanswerable or mislabelled questions, marked."""
import pytest

from vqa_studio.core.demo import build_demo, check_options
from vqa_studio.core.errors import BadInputError
from vqa_studio.core.project import Project
from vqa_studio.core.synth import shapes2d
from vqa_studio.core.synth.outliers import ABSENT_THINGS, inject_outliers


def _inject(fraction, style="demo", seed=4, n=300):
    scenes = shapes2d.generate_scenes(n, seed=seed, questions_per_scene=6, style=style)
    return [(qa, new, meta) for sc in scenes
            for qa, (new, meta) in zip(sc.questions, inject_outliers(sc.questions, fraction, seed, sc.index, style))]


def test_the_share_and_both_kinds_are_injected_and_marked():
    rows = _inject(0.2)
    marked = [(qa, new, meta) for qa, new, meta in rows if meta]
    assert 0.16 < len(marked) / len(rows) < 0.24
    kinds = {meta["outlier"] for _, _, meta in marked}
    assert kinds == {"unanswerable", "mislabelled"}
    for qa, new, meta in marked:
        if meta["outlier"] == "mislabelled":
            assert new.question == qa.question and new.answer != qa.answer
            assert new.answer_type == qa.answer_type and meta["outlier_true_answer"] == qa.answer
        else:
            assert any(t in new.question for t in ABSENT_THINGS) and new.family == "unanswerable"
    for qa, new, meta in rows:
        if not meta:
            assert new == qa  # the others are untouched


def test_a_mislabelled_colour_gets_another_colour_of_the_style():
    style = shapes2d.SHIFTED
    for qa, new, meta in _inject(0.5, style="shifted"):
        if meta.get("outlier") == "mislabelled" and qa.family == "color":
            assert new.answer in style.color_names


def test_injection_is_seeded_and_zero_injects_nothing():
    assert _inject(0.3) == _inject(0.3)
    assert _inject(0.3, seed=5) != _inject(0.3)
    assert not any(meta for _, _, meta in _inject(0.0, n=50))
    with pytest.raises(ValueError, match="between 0 and 1"):
        inject_outliers([], 1.5, 0, 0)


def test_the_demo_marks_its_outliers_and_the_variant_is_another_set(tmp_path):
    Project.run(build_demo(tmp_path / "d", n_scenes=30, seed=2, questions_per_scene=5, outliers=0.3))
    with Project.open(tmp_path / "d") as p:
        rows = list(p.export_rows())
    marked = [r for r in rows if r.question_meta.get("outlier")]
    train = [r for r in rows if r.split == "train"]
    assert 0.15 < len(marked) / len(train) < 0.45
    assert all(r.split == "train" for r in marked)  # val and test stay clean
    for r in rows:  # the stored answer is the injected one: what the replay's annotator gives
        assert r.question_meta["demo_answer"] == r.answer
    Project.run(build_demo(tmp_path / "s", n_scenes=30, seed=2, questions_per_scene=5, variant="shifted"))
    with Project.open(tmp_path / "s") as p:
        texts = [r.text for r in p.export_rows()]
        answers = {r.answer for r in p.export_rows()}
    assert any(t.startswith(("Count the", "Can you see", "Which shape", "What is the colour", "How big")) for t in texts)
    assert answers & {"star", "hexagon", "ring", "black", "white", "pink"}


def test_bad_demo_options_are_clear_errors(tmp_path):
    with pytest.raises(BadInputError, match="between 0 and 1"):
        check_options(1.5, "demo")
    with pytest.raises(BadInputError, match="unknown 2D style"):
        Project.run(build_demo(tmp_path / "x", n_scenes=2, variant="cartoon"))
    assert not (tmp_path / "x").exists()
