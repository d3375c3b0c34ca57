"""The story medium end to end through the core: generated stories imported with ``--format babi``,
a Dynamic Memory Network trained by ``Model > Train``'s run (``run_training``), its proposals and
uncertainty stored like any other model's, a review recorded, a retrain on the correction."""
from __future__ import annotations

import json

import numpy as np
import pytest

from vqa_studio import cli
from vqa_studio.core import media_kinds
from vqa_studio.core.active.args import ScoringArgs
from vqa_studio.core.active.scoring import score_pool
from vqa_studio.core.driver import drive
from vqa_studio.core.errors import BadInputError
from vqa_studio.core.model.registry import load_version
from vqa_studio.core.project import Project
from vqa_studio.core.train.config import TrainingArgs
from vqa_studio.core.train.pipeline import run_training
from vqa_studio.core.types import Action, ItemKind, Status
from vqa_studio.plugins import load_plugins
from vqa_studio_textqa import babi
from vqa_studio_textqa.generate import main as generate_main
from vqa_studio_textqa.model import TextQAModel

FAST = dict(epochs=8, mc_samples=4, seed=0)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """600 generated stories imported through the CLI, a model trained on them."""
    import torch

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("textqa")
    assert generate_main([str(root / "stories"), "--stories", "1000", "--seed", "3"]) == 0
    assert cli.main(["import", "--project", str(root / "p"), "--format", "babi", "--input", str(root / "stories"),
                     "-q"]) == 0
    load_plugins()
    p = Project.open(root / "p")
    p.annotator = "alice"
    outcome = drive(run_training(p, TrainingArgs(**FAST)))
    yield p, outcome, root
    p.close()


def test_stories_are_a_registered_medium():
    load_plugins()
    assert media_kinds.plugin_medium("story") is not None
    assert ItemKind("story") is ItemKind("story") and not ItemKind("story").builtin
    assert media_kinds.kind_of_suffix(".story") is ItemKind("story")
    assert [k.value for k in ItemKind] == ["image", "cloud"]  # the built-ins stay the enum's members


def test_import_reads_stories_as_items(trained):
    p, _, root = trained
    st = p.stats()
    assert st.n_questions == 1000
    rows = list(p.export_rows())
    assert {p.item(r.item_id).kind for r in rows} == {ItemKind("story")}
    assert {r.question_type for r in rows} == set(babi.TASKS)
    first = json.loads((root / "stories" / "story-00000.story").read_text())
    row = next(r for r in rows if r.media_path.name == "story-00000.story")
    assert row.text == first["questions"][0]["question"] and row.answer == first["questions"][0]["answer"]


def test_training_learns_the_tasks(trained):
    p, outcome, _ = trained
    test = outcome.metrics["by_kind"]["story"]["test"]
    assert test["n"] > 30
    # well above the most common answer (38% over the four tasks, 16% on single-fact stories) after
    # eight short epochs on 250 stories a task (measured: 62%, single-fact 89%; the benchmark trains
    # on 700 a task for 15 epochs: 96%)
    assert test["overall"] > 0.5, test
    assert test["by_question_type"]["single_fact"] > 0.75 and test["by_question_type"]["counting"] > 0.5, test
    model = load_version(p)
    assert isinstance(model, TextQAModel) and model.version == p.active_model == outcome.version


def test_proposals_carry_uncertainty_and_attention(trained):
    p, outcome, _ = trained
    qids = [r.question_id for r in p.export_rows()][:50]
    preds = p.predictions(qids)
    assert len(preds) == 50
    for qid, pred in preds.items():
        assert pred.model_version == outcome.version and len(pred.answers) == 5
        assert set(pred.scores) >= {"entropy", "bald", "margin"}
        assert len(pred.votes) == FAST["mc_samples"]  # T samples of MC-dropout
        att = np.asarray(pred.attention, np.float32)
        item = p.review_record(qid).item
        n_sent = len(json.loads(p.media_path(item.uri).read_text())["sentences"])
        assert att.shape == (3, n_sent) and ((0 <= att) & (att <= 1)).all()
    assert any(p.question(q).status is Status.LABELLED for q in qids)


def test_attention_finds_the_supporting_sentence(trained):
    """On single-fact stories, the strongest attention of some episode is on the supporting fact more
    often than a random sentence would be."""
    p, _, root = trained
    hits, chance = [], []
    for r in p.export_rows(["test", "val"]):
        if r.question_type != "single_fact":
            continue
        story = json.loads(r.media_path.read_text())
        att = np.asarray(p.prediction(r.question_id).attention, np.float32)
        hits.append(int(att.max(0).argmax()) in story["questions"][0]["supporting"])
        chance.append(1 / len(story["sentences"]))
    assert len(hits) >= 5 and np.mean(hits) > np.mean(chance) + 0.15, (np.mean(hits), np.mean(chance))


def test_review_and_retrain(trained):
    """A correction is recorded like any other; a fine-tune run starts from the active model, learns
    from the new label and registers a new version whose predictions are stored."""
    p, outcome, _ = trained
    row = next(r for r in p.export_rows(["train"]) if r.question_type == "single_fact")
    pred = p.prediction(row.question_id)
    wrong = next(a for a in babi.PLACES if a != row.answer)
    c = p.record(row.question_id, Action.CORRECT, wrong)
    assert c.after_answer == wrong and p.question(row.question_id).status is Status.CORRECTED
    assert c.model_version == outcome.version and c.before_answer == pred.answer or c.before_answer == row.answer
    again = drive(run_training(p, TrainingArgs(mode="finetune", epochs=2, mc_samples=2)))
    assert again.version != outcome.version and p.active_model == again.version
    assert any("fine-tuned" in m for m in again.messages)
    model = load_version(p)
    assert model.parent == outcome.version
    assert p.prediction(row.question_id).model_version == again.version


def test_rescoring_through_the_score_job_path(trained):
    p, _, _ = trained
    model = load_version(p)
    res = drive(score_pool(p, model, ScoringArgs(mc_samples=3, methods=("entropy", "bald"))))
    assert res.n_questions == 1000 and res.methods == ["bald", "entropy"]
    assert len(p.prediction(1).votes) == 3


def test_a_broken_story_is_named(tmp_path):
    load_plugins()
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "a.story").write_text('{"sentences": "not a list", "questions": []}')
    (tmp_path / "s" / "b.story").write_text('{"sentences": ["Mary went to the garden."], '
                                            '"questions": [{"question": "Where is Mary?", "answer": "garden"}]}')
    code = cli.main(["import", "--project", str(tmp_path / "p"), "--format", "babi", "--input", str(tmp_path / "s"), "-q"])
    assert code != 0
    from vqa_studio_textqa.story import probe

    with pytest.raises(BadInputError, match="a.story.*'sentences' must be a non-empty list"):
        probe(tmp_path / "s" / "a.story")
    assert cli.main(["import", "--project", str(tmp_path / "p"), "--format", "babi", "--input", str(tmp_path / "s"),
                     "--skip-bad", "-q"]) == 0
    with Project.open(tmp_path / "p") as p:
        assert p.stats().n_questions == 1


def test_export_then_import_gives_the_same_questions(trained, tmp_path):
    p, _, _ = trained
    assert cli.main(["export", "--project", str(p.folder), "--format", "babi", "--out", str(tmp_path / "o"), "-q"]) == 0
    assert len(list((tmp_path / "o").glob("*.story"))) == 1000
    assert cli.main(["import", "--project", str(tmp_path / "q"), "--format", "babi", "--input", str(tmp_path / "o"),
                     "-q"]) == 0
    with Project.open(tmp_path / "q") as q:
        before = sorted((r.text, r.answer, r.split) for r in p.export_rows())
        after = sorted((r.text, r.answer, r.split) for r in q.export_rows())
    assert before == after


def test_generation_is_seeded():
    a = [s.to_json() for s in babi.generate(40, seed=5)]
    assert a == [s.to_json() for s in babi.generate(40, seed=5)] and a != [s.to_json() for s in babi.generate(40, seed=6)]
    for s in babi.generate(200, seed=1):
        assert s.answer and all(0 <= k < len(s.sentences) for k in s.supporting)
        if s.task == "counting":
            assert s.answer in babi.NUMBERS


def test_evaluate_reports_the_story_model(trained, capsys):
    p, _, _ = trained
    capsys.readouterr()
    assert cli.main(["evaluate", "--project", str(p.folder), "--split", "test"]) == 0
    out = capsys.readouterr().out
    n = sum(r.split == "test" for r in p.export_rows())
    assert f"{n} labelled of {n} questions" in out and "overall:" in out and "error detection: AUROC" in out
