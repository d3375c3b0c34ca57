"""The training loop on a small real project: skipping what the model already answers, the schedule."""
import numpy as np
import pytest
import torch

from vqa_studio.core.data.dataset import (Encoders, MediaTensors, Snapshot, VQADataset, batch_plan, batches,
                                         build_vocabs)
from vqa_studio.core.model.net import VQANet
from vqa_studio.core.train import loop
from vqa_studio.core.train.config import FP32, TrainingArgs
from vqa_studio.core.train.pipeline import model_config
from vqa_studio.core.types import ItemKind


@pytest.fixture
def data(demo):
    snap = Snapshot.load(demo)
    train = snap.labelled(["train"], ItemKind.IMAGE)
    enc = Encoders(*build_vocabs(snap, train, 100))
    media = MediaTensors(snap, 64, 256, demo.folder / "cache" / "media")
    media.ensure({q.item_id for q in train})
    return VQADataset(train, media, enc), enc


def test_select_keeps_the_chosen_questions_with_their_weights(data):
    ds, _ = data
    n = ds.n_questions
    qids = ds.question_ids.numpy().copy()
    keep = np.zeros(n, dtype=bool)
    keep[::3] = True
    keep[: len(ds.groups[0])] = False  # the first item loses all its questions
    weights = np.arange(n, dtype=np.float32)
    view = ds.select(keep, weights)
    assert view.n_questions == keep.sum() and view.question_ids.tolist() == qids[keep].tolist()
    assert len(view) == len({qa.item_id for g in view.groups for qa in g}) < len(ds)  # emptied items dropped
    assert ds.item_ids[0] not in view.item_ids
    seen, w = [], []
    for b in batches(view, 7, shuffle=True, seed=1):
        assert b["tokens"].shape[0] == b["labels"].shape[0] == b["loss_weights"].shape[0]
        seen += b["question_ids"].tolist()
        w += b["loss_weights"].tolist()
    weight_of = dict(zip(qids.tolist(), weights.tolist()))
    assert sorted(seen) == sorted(qids[keep].tolist()) and w == [weight_of[q] for q in seen]
    # the labels travel with their questions; the original is untouched
    full = {q: lab for b in batches(ds, 64, shuffle=False) for q, lab in zip(b["question_ids"].tolist(), b["labels"].tolist())}
    assert all(full[q] == lab for b in batches(view, 64, shuffle=False)
               for q, lab in zip(b["question_ids"].tolist(), b["labels"].tolist()))
    assert ds.n_questions == n and all("loss_weights" not in b for b in batches(ds, 64, shuffle=False))
    with pytest.raises(ValueError, match="entries"):
        ds.select(keep[:-1])


def _train(ds, enc, monkeypatch, **kw):
    """Train 3 epochs; record each epoch's question ids and loss weights, and the schedule's progress."""
    seen: list[tuple[list[int], list[float] | None]] = []
    progress: list[float] = []
    real_batches, real_set_lr = loop.batches, loop._set_lr

    def recording(dataset, *a, **k):
        ids, weights = [], []
        for b in real_batches(dataset, *a, **k):
            ids += b["question_ids"].tolist()
            weights += b["loss_weights"].tolist() if "loss_weights" in b else []
            yield b
        seen.append((ids, weights or None))

    def set_lr(opt, lr, p, args):
        progress.append(p)
        real_set_lr(opt, lr, p, args)

    monkeypatch.setattr(loop, "batches", recording)
    monkeypatch.setattr(loop, "_set_lr", set_lr)
    args = TrainingArgs(epochs=3, batch_size=16, patience=10, **kw)
    torch.manual_seed(0)
    net = VQANet(model_config(args, ItemKind.IMAGE, enc))
    _epochs(loop.train_net(net, ds, None, args, torch.device("cpu"), FP32, seed=0))
    return seen, progress


def _epochs(gen):
    """Run a training generator to its end: (the info of each epoch record, the result)."""
    records = []
    while True:
        try:
            p = next(gen)
        except StopIteration as stop:
            return records, stop.value
        if p.stage == "epoch":
            records.append(p.info)


def test_skip_easy_leaves_out_questions_the_model_answers_and_weights_the_rest(data, monkeypatch):
    ds, enc = data
    everything = sorted(ds.question_ids.tolist())
    # every question counts as easy: epochs 2 and 3 keep about half, each weighted 2
    seen, progress = _train(ds, enc, monkeypatch, skip_easy=0.5, easy_loss=1e9)
    assert sorted(seen[0][0]) == everything and seen[0][1] is None  # the first epoch sees everything
    for ids, weights in seen[1:]:
        assert 0.3 * len(everything) < len(ids) < 0.7 * len(everything)
        assert set(ids) <= set(everything) and weights == [2.0] * len(ids)
    assert seen[1][0] != seen[2][0]  # a fresh draw each epoch
    # the schedule has run its course although the epochs were shorter
    assert progress[-1] == pytest.approx(1.0, abs=0.02) and progress == sorted(progress)
    # nothing easy: every epoch is the whole set, unweighted
    seen, progress = _train(ds, enc, monkeypatch, skip_easy=0.5, easy_loss=0.0)
    assert all(sorted(ids) == everything and weights is None for ids, weights in seen)
    assert progress[-1] == pytest.approx(1.0, abs=0.02)


def test_skip_easy_is_checked():
    with pytest.raises(ValueError, match="skip_easy"):
        TrainingArgs(skip_easy=1.0)


def test_frozen_media_encoder_runs_once_per_item_then_its_features_are_reused(data, monkeypatch):
    ds, enc = data
    args = TrainingArgs(epochs=3, batch_size=16, patience=10, freeze_media_at=0.3)
    torch.manual_seed(0)
    net = VQANet(model_config(args, ItemKind.IMAGE, enc))
    calls: list[int] = []
    net.media_encoder.register_forward_hook(lambda m, i, o: calls.append(i[0].shape[0]))
    at_freeze = {}
    real_freeze = loop.MediaCache.freeze

    def freeze(net_, *a, **k):
        at_freeze["n_calls"] = len(calls)
        cache = real_freeze(net_, *a, **k)
        at_freeze["state"] = {k_: v.clone() for k_, v in net_.media_encoder.state_dict().items()}
        at_freeze["n_calls_after"] = len(calls)
        return cache

    monkeypatch.setattr(loop.MediaCache, "freeze", freeze)
    records, result = _epochs(loop.train_net(net, ds, None, args, torch.device("cpu"), FP32, seed=0))
    assert [r["media_frozen"] for r in records] == [False, True, True]
    # epoch 1 ran the encoder every step; freezing ran it once over every training item; then never again
    assert at_freeze["n_calls"] == len(batch_plan(ds, 16, shuffle=True, seed=1))
    assert sum(calls[at_freeze["n_calls"]: at_freeze["n_calls_after"]]) == len(ds)
    assert len(calls) == at_freeze["n_calls_after"]
    # its weights and BatchNorm statistics stayed as they were when it froze; it is trainable again after
    for k_, v in result.net.media_encoder.state_dict().items():
        assert torch.equal(v, at_freeze["state"][k_]), k_
    assert all(p.requires_grad for p in result.net.media_encoder.parameters())
    # the rest of the network did learn in the frozen epochs
    assert records[-1]["loss"] < records[0]["loss"]


def test_frozen_features_are_what_the_encoder_gives(data):
    ds, enc = data
    args = TrainingArgs()
    net = VQANet(model_config(args, ItemKind.IMAGE, enc)).eval()
    cache = loop.MediaCache.freeze(net, ds, torch.device("cpu"), FP32, chunk=5)
    b = next(iter(batches(ds, 32, shuffle=True, seed=2)))
    with torch.no_grad():
        direct = net(b)
        cached = dict(b)
        del cached["media"]
        cached["media_regions"], cached["media_centres"] = cache.lookup(b["media_ids"])
        reused = net(cached)
    assert torch.allclose(direct["logits"], reused["logits"], atol=1e-5)
    assert torch.allclose(direct["attention"], reused["attention"], atol=1e-6)


def test_short_skipping_epochs_are_validated_every_half_epoch_of_questions_and_at_the_end(data):
    ds, enc = data
    args = TrainingArgs(epochs=4, batch_size=16, patience=1, skip_easy=0.9, easy_loss=1e9)
    torch.manual_seed(0)
    net = VQANet(model_config(args, ItemKind.IMAGE, enc))
    records, result = _epochs(loop.train_net(net, ds, ds, args, torch.device("cpu"), FP32, seed=0))
    checked = [not np.isnan(r["val_accuracy"]) for r in records]
    # epoch 1 saw every question; epochs 2 and 3 about a tenth each (not checked, and not counted
    # against the patience of 1); the last epoch is always checked
    assert checked == [True, False, False, True], [r["questions"] for r in records]
    assert result.epochs_run == 4 and result.best_val >= max(r["val_accuracy"] for r in records if not np.isnan(r["val_accuracy"]))
