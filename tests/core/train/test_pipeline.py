"""Training end to end on a small real project: registry, predictions, cancel, failure, fine-tune."""
import numpy as np
import pytest
import torch
from sqlalchemy import select

from tests.conftest import db_snapshot
from vqa_studio.core.data.dataset import MediaTensors, Snapshot
from vqa_studio.core.errors import CheckpointError, VQAStudioError
from vqa_studio.core.model import registry
from vqa_studio.core.store import schema
from vqa_studio.core.train.config import TrainingArgs
from vqa_studio.core.train.pipeline import accuracy_report, predict_answers, run_training
from vqa_studio.core.types import Action, Status

FAST = dict(epochs=2, batch_size=32, mc_samples=4)


def _runs(project):
    with project.engine.connect() as conn:
        return conn.execute(select(schema.runs.c.id, schema.runs.c.status, schema.runs.c.error)).all()


def test_train_registers_scores_and_activates(demo):
    outcome = demo.run(run_training(demo, TrainingArgs(**FAST)))
    assert demo.active_model == outcome.version == "v1"
    assert outcome.path.exists() and outcome.path.parent == demo.models_dir
    info = demo.model("v1")
    assert info.active and info.metrics["by_kind"]["image"]["test"]["n"] > 0
    assert 0 < info.metrics["test_accuracy"] <= 1
    assert {"ece_before", "ece_after", "temperature"} <= set(info.metrics["by_kind"]["image"])
    st = demo.stats()
    assert st.n_predictions == st.n_questions
    assert st.by_status.get("new", 0) == 0 and st.by_status["proposed"] > 0  # unlabelled questions now have proposals
    qid = demo.queue_ids(limit=1)[0]
    pred = demo.prediction(qid)
    assert len(pred.answers) == 5 and pred.probs[0] >= pred.probs[1]
    assert pred.attention.shape == (2, 64) and pred.attention.dtype == np.float16
    assert pred.votes.shape == (4,)
    assert {"entropy", "bald", "margin", "variation_ratio", "least_confidence", "vote_entropy", "mean_kl"} <= set(pred.scores)
    assert (demo.folder / "cache" / "fused-v1.npz").exists()
    assert _runs(demo)[-1].status == "done"


def test_cancel_leaves_the_registry_as_it_was(demo):
    demo.run(run_training(demo, TrainingArgs(**FAST)))
    before = db_snapshot(demo)
    gen = run_training(demo, TrainingArgs(**FAST))
    for p in gen:
        if p.stage == "train" and p.done >= 3:
            break
    gen.close()  # the user pressed Cancel
    after = db_snapshot(demo)
    assert after["models"] == before["models"] and after["project_info"] == before["project_info"]
    assert after["predictions"] == before["predictions"]
    assert demo.active_model == "v1"
    assert _runs(demo)[-1].status == "cancelled"
    assert not (demo.models_dir / "v2.pt").exists()


def test_failure_leaves_the_registry_as_it_was(demo, monkeypatch):
    from vqa_studio.core.active import scoring

    def broken(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(scoring, "write_predictions", broken)  # fails after training, while re-scoring
    with pytest.raises(RuntimeError, match="disk on fire"):
        demo.run(run_training(demo, TrainingArgs(**FAST)))
    assert demo.models() == [] and demo.active_model is None
    run = _runs(demo)[-1]
    assert run.status == "failed" and "disk on fire" in run.error
    assert not list(demo.models_dir.glob("*.pt"))


def test_nothing_to_train_on(tmp_path):
    from vqa_studio.core.demo import build_demo
    from vqa_studio.core.project import Project

    folder = tmp_path / "p"
    Project.run(build_demo(folder, n_scenes=10, labelled_fraction=0.0, questions_per_scene=5))
    with Project.open(folder) as p:
        from sqlalchemy import update

        with p.engine.begin() as conn:  # no labels anywhere
            conn.execute(update(schema.questions).values(status="new", answer=None))
        with pytest.raises(VQAStudioError, match="no labelled training questions"):
            p.run(run_training(p, TrainingArgs(**FAST)))


def test_checkpoint_errors(demo, tmp_path):
    demo.run(run_training(demo, TrainingArgs(**FAST)))
    path = registry.model_path(demo, "v1")
    bundle = registry.load_bundle(path)
    assert bundle.version == "v1" and len(bundle.encoders.answers) == bundle.net(next(iter(bundle.nets))).members[0].n_answers

    state = torch.load(path, weights_only=True)
    state["answers"] = state["answers"][:-1]  # a vocabulary that does not fit the network
    torch.save(state, tmp_path / "bad_vocab.pt")
    with pytest.raises(CheckpointError, match="answer classes"):
        registry.load_bundle(tmp_path / "bad_vocab.pt")

    state = torch.load(path, weights_only=True)
    state["format_version"] = 99  # a model file from a newer VQA Studio
    torch.save(state, tmp_path / "newer.pt")
    with pytest.raises(CheckpointError, match="newer VQA Studio"):
        registry.load_bundle(tmp_path / "newer.pt")

    state = torch.load(path, weights_only=True)
    state["nets"]["image"]["config"]["hidden_dim"] = 64  # another architecture
    torch.save(state, tmp_path / "arch.pt")
    with pytest.raises(CheckpointError, match="arch.pt: the checkpoint.s weights do not fit"):
        registry.load_bundle(tmp_path / "arch.pt")

    (tmp_path / "junk.pt").write_bytes(b"not a model")
    with pytest.raises(CheckpointError, match="junk.pt.*not a readable"):
        registry.load_bundle(tmp_path / "junk.pt")


def test_rollback(demo):
    demo.run(run_training(demo, TrainingArgs(**FAST)))
    demo.run(run_training(demo, TrainingArgs(**FAST, seed=1)))
    assert demo.active_model == "v2" and demo.model("v2").parent == "v1"
    registry.activate(demo, "v1")
    assert demo.active_model == "v1" and demo.queue(limit=1)[0].proposed is not None
    with pytest.raises(Exception, match="no model version"):
        registry.activate(demo, "v99")


def test_train_correct_finetune_improves_the_corrected_items(demo):
    """The loop an annotator lives in: train, score, correct what the model gets wrong, fine-tune."""
    demo.run(run_training(demo, TrainingArgs(**FAST)))
    truth = {r.question_id: r.question_meta["demo_answer"] for r in demo.export_rows(["train"])}
    pool = [qid for qid in demo.queue_ids() if demo.question(qid).status is Status.PROPOSED]
    wrong = [qid for qid in pool if demo.prediction(qid).answer != truth[qid]][:40]
    assert len(wrong) >= 10
    for qid in wrong:
        demo.record(qid, Action.CORRECT, truth[qid])

    bundle = registry.load_version(demo)
    snap = Snapshot.load(demo)
    media = MediaTensors(snap)
    corrected = [qa for qa in snap.questions if qa.question_id in set(wrong)]
    before = accuracy_report(predict_answers(bundle, media, corrected), corrected)["overall"]
    outcome = demo.run(run_training(demo, TrainingArgs(mode="finetune", epochs=6, batch_size=32, mc_samples=4,
                                                       replay_ratio=1.0)))
    assert any("fine-tuned v1 on 40 new corrections" in m for m in outcome.messages)
    after = accuracy_report(predict_answers(registry.load_version(demo), media, corrected), corrected)["overall"]
    assert before < 0.3 and after > before + 0.3, (before, after)
    assert demo.model(outcome.version).parent == "v1"

    with pytest.raises(VQAStudioError, match="no corrections since"):
        demo.run(run_training(demo, TrainingArgs(mode="finetune", **FAST)))


def test_gradient_accumulation_and_multi_head(demo):
    outcome = demo.run(run_training(demo, TrainingArgs(epochs=1, batch_size=16, accumulate=3, heads=3, mc_samples=2)))
    pred = demo.prediction(demo.queue_ids(limit=1)[0])
    assert pred.votes.shape == (6,)  # 3 heads x 2 MC samples
    assert outcome.metrics["precision"] == "fp32"  # this CPU has no native bf16: auto keeps fp32


def test_ensemble_and_distillation(demo):
    outcome = demo.run(run_training(demo, TrainingArgs(epochs=1, batch_size=32, ensemble=2, distill=True, mc_samples=3)))
    bundle = registry.load_version(demo)
    ns = bundle.net(next(iter(bundle.nets)))
    assert ns.n_members == 2 and ns.student is not None
    assert "test_student" in outcome.metrics["by_kind"]["image"]
    assert demo.prediction(demo.queue_ids(limit=1)[0]).votes.shape == (6,)  # 2 members x 3 samples
    # the reported accuracies (from the calibration pass's logits) are what the saved model predicts
    snapshot = Snapshot.load(demo)
    media = MediaTensors(snapshot, 64, 1024)
    for split in ("val", "test"):
        qs = snapshot.labelled([split])
        report = accuracy_report(predict_answers(bundle, media, qs), qs)
        assert report["n"] == outcome.metrics["by_kind"]["image"][split]["n"] > 0
        assert report["overall"] == pytest.approx(outcome.metrics["by_kind"]["image"][split]["overall"])


def test_revote_and_quantization_are_reported(demo):
    outcome = demo.run(run_training(demo, TrainingArgs(epochs=1, batch_size=32, ensemble=2, distill=True,
                                                       quantize=True, mc_samples=2)))
    m = outcome.metrics["by_kind"]["image"]
    assert {"test_plain_average", "test_revote", "beats_plain"} <= set(m["revote"])
    q = m["quantized"]
    assert q["network"] == "student" and q["fp32"]["items_per_s"] > 0 and q["int8"]["items_per_s"] > 0
    assert "re-voted by question type" in outcome.summary() and "int8 student" in outcome.summary()
    bundle = registry.load_version(demo)
    ns = bundle.net(next(iter(bundle.nets)))
    assert ns.quantize and ns.revote is not None
    fast = ns.fast_net()
    assert fast is not ns.student and any("quantized" in type(m).__module__ for m in fast.modules())


def test_an_answer_the_model_cannot_output_is_kept_and_flagged(demo):
    demo.run(run_training(demo, TrainingArgs(**FAST)))
    qid = next(q for q in demo.queue_ids() if demo.question(q).status is Status.PROPOSED)
    demo.record(qid, Action.CORRECT, "chartreuse")  # no such answer in the model's vocabulary
    outcome = demo.run(run_training(demo, TrainingArgs(mode="finetune", **FAST)))
    assert any("outside the model's answer vocabulary" in m and "next full retrain" in m for m in outcome.messages)
    assert demo.question(qid).answer == "chartreuse"  # kept
    assert demo.prediction(qid).in_vocab is False
    demo.run(run_training(demo, TrainingArgs(**FAST)))  # a full retrain grows the vocabulary
    assert "chartreuse" in registry.load_version(demo).encoders.answers
    assert demo.prediction(qid).in_vocab is True


def test_point_cloud_attention_centres_are_stored_in_the_files_coordinates(tmp_path):
    """The model sees each cloud centred and scaled into the unit ball; the region centres it stores
    with a prediction are taken back to the file's coordinates, where the 3D view draws them."""
    from vqa_studio.core.data.clouds import load_cloud
    from vqa_studio.core.demo import build_demo
    from vqa_studio.core.project import Project
    from vqa_studio.core.types import ItemKind

    folder = tmp_path / "demo3d"
    Project.run(build_demo(folder, n_scenes=0, n_scenes_3d=8, questions_per_scene_3d=3))
    project = Project.open(folder)
    try:
        project.run(run_training(project, TrainingArgs(**FAST)))
        snapshot = Snapshot.load(project)
        checked = 0
        for qa in snapshot.questions[:6]:
            assert qa.kind is ItemKind.CLOUD
            centres = project.prediction(qa.question_id).centres
            assert centres.shape == (64, 3) and centres.dtype == np.float32
            xyz = load_cloud(snapshot.media_path(qa.item_id)).xyz
            lo, hi = xyz.min(0) - 1e-3, xyz.max(0) + 1e-3
            assert ((centres >= lo) & (centres <= hi)).all()  # inside the cloud's own box
            # the ground is 10 m wide: farthest-point sampling puts centres near its edges, far
            # outside the model's unit ball
            assert np.abs(centres[:, :2]).max() > 3.0
            checked += 1
        assert checked == 6
    finally:
        project.close()
