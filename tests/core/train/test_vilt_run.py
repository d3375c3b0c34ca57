"""ViLT as the project's model: train --model vilt:<folder> fine-tunes it on the labels, registers a
version, scores the pool with MC-dropout on its head; score, evaluate and loading go through the
same paths as VQA Studio's own models. A tiny random ViLT saved as a user's folder; no network."""
from __future__ import annotations

import pytest

pytest.importorskip("transformers")

from tests.core.model.test_vilt import save_tiny_vilt  # noqa: E402
from vqa_studio import cli  # noqa: E402
from vqa_studio.core.demo import build_demo  # noqa: E402
from vqa_studio.core.model.registry import load_version  # noqa: E402
from vqa_studio.core.model.vilt_model import is_vilt_model  # noqa: E402
from vqa_studio.core.project import Project  # noqa: E402


def run(*args):
    return cli.main([str(a) for a in args])


@pytest.fixture
def demo(tmp_path):
    folder = tmp_path / "demo"
    Project.run(build_demo(folder, n_scenes=16, seed=4, questions_per_scene=4))
    return folder


def test_train_score_evaluate_with_vilt(demo, tmp_path, capsys, one_torch_thread):
    vilt_dir = save_tiny_vilt(tmp_path / "tiny-vilt")
    assert run("train", "--project", demo, "--model", f"vilt:{vilt_dir}", "--epochs", "1", "--mc-samples", "3",
               "--device", "cpu", "-q") == 0
    out = capsys.readouterr().out
    assert "model v1 trained" in out and "answers new to the model got classifier rows" in out
    with Project.open(demo) as p:
        assert p.active_model == "v1"
        st = p.stats()
        assert st.n_predictions == st.n_questions  # every (image) question has a proposal
        model = load_version(p)
        assert is_vilt_model(model) and "circle" in model.proposer.answers  # a demo answer ViLT did not know
        pred = p.prediction(p.queue_ids(filters=None, order_by="id")[0], "v1")
        assert len(pred.answers) == 5 and set(pred.scores) >= {"bald", "entropy", "variation_ratio"}
    # a correction, then fine-tuning goes on from the ViLT version (no --model needed)
    with Project.open(demo) as p:
        qid = p.queue_ids(filters=None, order_by="id")[0]
        p.record(qid, "correct", answer="purple")
    assert run("train", "--project", demo, "--mode", "finetune", "--epochs", "1", "--mc-samples", "2", "-q") == 0
    assert "fine-tuned v1 further" in capsys.readouterr().out
    with Project.open(demo) as p:
        assert p.active_model == "v2" and "purple" in load_version(p).proposer.answers
    assert run("score", "--project", demo, "--method", "bald", "--mc-samples", "2") == 0
    assert "most informative by bald:" in capsys.readouterr().out
    assert run("evaluate", "--project", demo, "--split", "test") == 0
    lines = capsys.readouterr().out.splitlines()
    i = next(k for k, line in enumerate(lines) if line.startswith("overall: "))
    assert lines[i + 1].startswith("error detection: AUROC ")


def test_vilt_model_file_of_another_source_is_refused(demo, tmp_path, capsys, one_torch_thread):
    a = save_tiny_vilt(tmp_path / "a")
    assert run("train", "--project", demo, "--model", f"vilt:{a}", "--epochs", "1", "--mc-samples", "2", "-q") == 0
    save_tiny_vilt(tmp_path / "a", seed=5, hidden=48)  # the source folder now holds another model
    capsys.readouterr()
    assert run("evaluate", "--project", demo, "--split", "test") == 2
    assert "v1.pt" in capsys.readouterr().err


def test_model_must_be_vilt(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        run("train", "--project", tmp_path / "p", "--model", "blip:x")
    assert exit_.value.code == 2 and "vilt:<folder or hub id>" in capsys.readouterr().err


def test_an_unreadable_image_is_skipped_not_the_end_of_scoring(demo, tmp_path, capsys, one_torch_thread):
    vilt_dir = save_tiny_vilt(tmp_path / "tiny-vilt")
    assert run("train", "--project", demo, "--model", f"vilt:{vilt_dir}", "--epochs", "1", "--mc-samples", "2",
               "-q") == 0
    with Project.open(demo) as p:
        item = p.item(p.question(p.queue_ids(filters=None, order_by="id")[0]).item_id)
        p.media_path(item).write_bytes(b"no longer an image")
        n_questions = p.stats().n_questions
    assert run("score", "--project", demo, "--mc-samples", "2", "-q") == 0
    with Project.open(demo) as p:
        assert 0 < p.stats().n_predictions < n_questions  # all but the unreadable image's questions
