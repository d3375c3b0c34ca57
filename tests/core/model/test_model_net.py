"""VQANet: shapes, media sharing, attention, heads, checkpoint config, loss."""
from __future__ import annotations

import json

import pytest
import torch

from vqa_studio.core.errors import CheckpointError
from vqa_studio.core.model.net import (
    ModelConfig,
    VQANet,
    arch_signature,
    count_loss,
    count_parameters,
    describe_arch_mismatch,
    tag_loss,
    vqa_loss,
    vqa_loss_rows,
)

V, C = 40, 12


def small(**kw) -> ModelConfig:
    base = dict(vocab_size=V, n_answers=C, region_dim=32, hidden_dim=32, word_dim=16, fusion_rank=24,
                classifier_hidden=48, media_options={"width": 8})
    if kw.get("media_encoder") == "pointnet":
        base["media_options"] = {"n_regions": 16, "n_neighbours": 8}
    base.update(kw)
    return ModelConfig(**base)


def make_batch(b=6, u=3, kind="image", seed=0, points=128):
    g = torch.Generator().manual_seed(seed)
    media = torch.rand(u, 3, 64, 64, generator=g) if kind == "image" else torch.rand(u, points, 6, generator=g)
    lengths = torch.randint(1, 8, (b,), generator=g)
    tokens = torch.randint(2, V, (b, 8), generator=g)
    tokens[torch.arange(8)[None, :] >= lengths[:, None]] = 0
    return {"media": media, "media_index": torch.arange(b) % u, "tokens": tokens, "lengths": lengths,
            "labels": torch.randint(-1, C, (b,), generator=g)}


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.mark.parametrize(
    "cfg, kind",
    [
        (dict(), "image"),
        (dict(media_encoder="mobilenet_grid"), "image"),
        (dict(media_encoder="pointnet"), "cloud"),
        (dict(question_encoder="transformer"), "image"),
        (dict(media_encoder="pointnet", question_encoder="transformer", glimpses=3), "cloud"),
        (dict(question_encoder="conv"), "image"),
        (dict(fusion="reasoning"), "image"),
        (dict(fusion="reasoning", media_encoder="pointnet", glimpses=3), "cloud"),
        (dict(fusion="bilinear"), "image"),
        (dict(fusion="bilinear", media_encoder="pointnet"), "cloud"),
    ],
)
def test_forward_shapes_are_the_same_for_images_and_clouds(cfg, kind):
    net = VQANet(small(**cfg)).eval()
    batch = make_batch(kind=kind)
    out = net(batch)
    k = 64 if kind == "image" else 16
    g = cfg.get("glimpses", 2)
    assert out["logits"].shape == (6, C)
    assert out["fused"].shape == (6, 32)
    assert out["attention"].shape == (6, g, k)
    assert out["centres"].shape == (6, k, 2 if kind == "image" else 3)
    assert torch.allclose(out["attention"].sum(-1), torch.ones(6, g), atol=1e-5)
    assert (out["attention"] >= 0).all()
    assert net.modality == kind


@pytest.mark.parametrize("fusion", ["concept", "reasoning", "bilinear"])
@pytest.mark.parametrize("kind", ["image", "cloud"])
def test_shared_media_equals_duplicated_media(kind, fusion):
    """Questions about one medium are laid out per medium inside the fusion (no per-question copy of
    the regions); uneven numbers of questions per medium, in any order, give what copies would."""
    net = VQANet(small(media_encoder="pointnet" if kind == "cloud" else "cnn_grid", fusion=fusion)).eval()
    batch = make_batch(b=7, u=3, kind=kind)
    batch["media_index"] = torch.tensor([2, 0, 2, 2, 1, 0, 2])
    dup = dict(batch, media=batch["media"][batch["media_index"]], media_index=torch.arange(7))
    with torch.no_grad():
        a, b = net(batch), net(dup)
    for key in ("logits", "attention", "fused", "centres"):
        assert torch.allclose(a[key], b[key], atol=1e-5), key
    nodix = {k: v for k, v in dup.items() if k != "media_index"}
    with torch.no_grad():
        assert torch.allclose(net(nodix)["logits"], a["logits"], atol=1e-5)


def test_bad_media_index_is_refused():
    net = VQANet(small()).eval()
    batch = make_batch()
    with pytest.raises(ValueError, match="out of range"):
        net(dict(batch, media_index=torch.tensor([0, 1, 2, 3, 0, 0])))
    with pytest.raises(ValueError, match="one medium per question"):
        net({k: v for k, v in batch.items() if k != "media_index"})


def test_split_api_matches_forward():
    net = VQANet(small()).eval()
    batch = make_batch()
    with torch.no_grad():
        enc = net.encode(batch)
        out = net(batch)
        assert torch.allclose(net.head(enc.fused), out["logits"])
        s = net.head_samples(enc.fused, T=5)
    assert s.shape == (6, 5, C)


@pytest.mark.parametrize("question_encoder", ["gru", "transformer"])
def test_repeated_questions_are_encoded_once_with_the_same_values_and_gradients(question_encoder):
    net = VQANet(small(question_encoder=question_encoder, question_dropout=0.0)).train()
    batch = make_batch(b=8, u=4)
    batch["tokens"][4:] = batch["tokens"][:4]  # every question twice (about different images)
    batch["lengths"][4:] = batch["lengths"][:4]
    calls = []
    net.question_encoder.register_forward_hook(lambda m, i, o: calls.append(i[0].shape[0]))
    fast = net.encode_questions(batch["tokens"], batch["lengths"])
    assert calls == [4]  # the distinct rows only
    full = net.question_encoder(batch["tokens"], batch["lengths"])  # every row
    for a, b in zip(fast, full):
        assert torch.equal(a, b) if a.dtype == torch.bool else torch.allclose(a, b, atol=1e-6)
    grads = []
    for q in (fast, full):
        net.zero_grad()
        (q.vector.pow(2).sum() + q.tokens.sum()).backward()
        grads.append({n: p.grad.clone() for n, p in net.question_encoder.named_parameters() if p.grad is not None})
    assert grads[0].keys() == grads[1].keys() and grads[0]
    for n in grads[0]:
        assert torch.allclose(grads[0][n], grads[1][n], atol=1e-5), n


def test_training_step_reaches_every_parameter():
    net = VQANet(small(question_encoder="transformer")).train()
    batch = make_batch(b=8, u=4)
    batch["labels"] = torch.randint(0, C, (8,))
    batch["tag_mask"] = torch.tensor([True, False] * 4)  # "other"-type questions train the tag head
    out = net(batch)
    loss = vqa_loss(out["logits"], batch) + tag_loss(out["tag_logits"], batch)  # as the training loop does
    loss.backward()
    missing = [n for n, p in net.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing, missing


def test_multihead_ensemble():
    net = VQANet(small(n_heads=3)).eval()
    batch = make_batch()
    with torch.no_grad():
        out = net(batch)
        fused = out["fused"]
        heads = net.heads(fused)
        assert heads.shape == (6, C, 3)
        assert torch.allclose(out["head_logits"], heads)
        assert torch.allclose(net.head(fused, 1), heads[..., 1], atol=1e-6)
        mean_p = torch.softmax(heads, dim=1).mean(-1)
        assert torch.allclose(torch.softmax(net.head(fused), -1), mean_p, atol=1e-6)
        assert torch.allclose(torch.softmax(out["logits"], -1), mean_p, atol=1e-6)
        assert net.head_samples(fused, T=4).shape == (6, 12, C)
        assert net.head_samples(fused, T=4, head_index=2).shape == (6, 4, C)
    # the heads start different (independent init)
    assert not torch.allclose(heads[..., 0], heads[..., 1])
    with pytest.raises(IndexError):
        net.head(fused, 3)


def test_checkpoint_round_trip_and_signature():
    net = VQANet(small(question_encoder="transformer", media_options={"width": 8, "grid": 4})).eval()
    saved = json.loads(json.dumps(net.config_dict()))
    state = net.state_dict()
    rebuilt = VQANet.from_config(saved)
    rebuilt.load_checkpoint_state(state, saved)
    rebuilt.eval()
    batch = make_batch()
    with torch.no_grad():
        assert torch.allclose(rebuilt(batch)["logits"], net(batch)["logits"])
    assert rebuilt.arch_signature() == net.arch_signature() == saved["arch_signature"]
    assert rebuilt.config == net.config
    # dropout is configuration, not architecture
    assert arch_signature(dict(saved, classifier_dropout=0.0)) == saved["arch_signature"]
    assert describe_arch_mismatch(dict(saved, fusion_dropout=0.5), net.config_dict()) is None


def test_arch_mismatch_is_explained():
    net = VQANet(small())
    saved = net.config_dict()
    other = VQANet(small(n_answers=C + 3, glimpses=3))
    assert other.arch_signature() != net.arch_signature()
    with pytest.raises(CheckpointError) as e:
        other.load_checkpoint_state(net.state_dict(), saved)
    assert "n_answers: 12 (checkpoint) vs 15" in str(e.value) and "glimpses" in str(e.value)
    assert "vocab_size" not in str(e.value)
    # a config that claims to fit but weights that do not: still a CheckpointError
    with pytest.raises(CheckpointError, match="weights do not fit"):
        other.load_checkpoint_state(net.state_dict(), other.config_dict())
    with pytest.raises(CheckpointError, match="code version"):
        VQANet.from_config(dict(saved, arch_version=999))
    with pytest.raises(CheckpointError, match="newer"):
        VQANet.from_config(dict(saved, shiny_new_field=1))
    with pytest.raises(CheckpointError, match="unknown media encoder"):
        VQANet.from_config(dict(saved, media_encoder="not_installed"))
    with pytest.raises(CheckpointError, match="positive int"):
        VQANet.from_config(dict(saved, glimpses=0))


def test_config_validation():
    with pytest.raises(ValueError, match="classifier_dropout"):
        ModelConfig(classifier_dropout=1.0)
    with pytest.raises(ValueError, match="n_heads"):
        ModelConfig(n_heads=0)
    assert ModelConfig(media_options={"widths": (32, 64)}).media_options == {"widths": [32, 64]}


def test_fusion_must_be_known():
    with pytest.raises(ValueError, match="fusion"):
        small(fusion="magic")


def test_concept_fusion_counts_what_it_attends():
    """The concept fusion's expected count is the sum over regions of P(object) x prod P(concept)^w:
    with every region an object that shows every concept, it counts all K regions."""
    from vqa_studio.core.model.fusion import ConceptFusion

    f = ConceptFusion(q_dim=8, v_dim=4, rank=5, glimpses=1).eval()
    with torch.no_grad():
        f.concepts.weight.zero_()
        f.concepts.bias.fill_(30.0)  # P(concept) ~ 1 everywhere
        f.objectness.weight.zero_()
        f.objectness.bias.fill_(30.0)  # every region an object
    regions, centres = torch.rand(1, 6, 4), torch.rand(1, 6, 2)
    prep = f.prepare(regions, centres)
    assert torch.allclose(prep.keys.exp().sum(1), torch.full((1, 5), 6.0), atol=1e-4)
    assert torch.allclose(prep.objectness.exp().sum(1), torch.tensor([6.0]), atol=1e-4)
    # positions: zero mean, unit RMS spread per medium
    pos = prep.positions - f.offset(regions)
    assert torch.allclose(pos.mean(1), torch.zeros(1, 2), atol=1e-5)
    assert torch.allclose(pos.pow(2).sum(-1).mean(1), torch.ones(1), atol=1e-4)


def test_concept_model_returns_each_steps_count_and_count_loss_supervises_the_first():
    net = VQANet(small(fusion="concept", glimpses=2))
    out = net(make_batch())
    b = out["logits"].shape[0]
    assert out["counts"].shape == (b, 2) and bool((out["counts"] >= 0).all())
    targets = torch.full((b,), -1.0)
    assert count_loss(out["counts"], {"count_targets": targets}).item() == 0.0  # no count question
    targets[0], targets[1] = 2.0, 0.0
    loss = count_loss(out["counts"], {"count_targets": targets})
    ref = torch.nn.functional.smooth_l1_loss(out["counts"][:2, 0], targets[:2], beta=0.5)
    assert torch.allclose(loss, ref)
    loss.backward()
    assert net.fusion.objectness.weight.grad is not None and net.fusion.objectness.weight.grad.abs().sum() > 0
    # the other fusions have no count: no "counts" output, and training skips the loss
    assert "counts" not in VQANet(small(fusion="bilinear"))(make_batch())


def test_concept_fusion_relates_each_step_to_where_the_other_steps_phrase_points():
    """With two steps each one's relation term is taken from where the other's phrase matches, so
    "the thing left of the X" works whichever step reads "the X": changing only what step 2 selects
    moves step 1's attention (through the relation), and with one step there is no relation at all."""
    from vqa_studio.core.model.fusion import ConceptFusion

    torch.manual_seed(0)
    f = ConceptFusion(q_dim=8, v_dim=4, rank=5, glimpses=2).eval()
    regions, centres = torch.randn(2, 6, 4), torch.rand(2, 6, 2)
    words = torch.randn(3, 4, 8)
    question = (words[:, -1], words, torch.ones(3, 4, dtype=torch.bool))
    media_index = torch.tensor([0, 1, 1])
    with torch.no_grad():
        _, att, _ = f(question, f.prepare(regions, centres), media_index)
        f.select[1].weight.add_(torch.randn_like(f.select[1].weight))
        _, att2, _ = f(question, f.prepare(regions, centres), media_index)
        assert not torch.allclose(att[:, 0], att2[:, 0], atol=1e-4)  # step 1 follows step 2's phrase
        for lin in f.rel_q:  # no relation weights: the steps are independent again
            lin.weight.zero_()
            lin.bias.zero_()
        _, att3, _ = f(question, f.prepare(regions, centres), media_index)
        f.select[1].weight.add_(torch.randn_like(f.select[1].weight))
        _, att4, _ = f(question, f.prepare(regions, centres), media_index)
        assert torch.allclose(att3[:, 0], att4[:, 0], atol=1e-6)
    assert len(ConceptFusion(q_dim=8, v_dim=4, rank=5, glimpses=1).rel_q) == 0


def test_default_image_model_size():
    n = count_parameters(VQANet(ModelConfig(vocab_size=1000, n_answers=100)))
    assert 200_000 <= n <= 600_000, n


def test_vqa_loss_ignores_unknown_answers_and_takes_soft_labels():
    logits = torch.randn(4, C, requires_grad=True)
    labels = torch.tensor([1, -1, 3, -1])
    loss = vqa_loss(logits, {"labels": labels})
    ref = torch.nn.functional.cross_entropy(logits[[0, 2]], labels[[0, 2]])
    assert torch.allclose(loss, ref)
    none = vqa_loss(logits, {"labels": torch.full((4,), -1)})
    assert none.item() == 0.0 and none.requires_grad
    soft = torch.zeros(4, C)
    soft[0, 1] = 1.0
    soft[2, 3] = 0.3  # normalised: same as a hard label
    assert torch.allclose(vqa_loss(logits, {"soft_labels": soft, "labels": labels}), ref)
    heads = torch.randn(4, C, 3)
    per = sum(torch.nn.functional.cross_entropy(heads[[0, 2], :, h], labels[[0, 2]]) for h in range(3))
    assert torch.allclose(vqa_loss(heads, {"labels": labels}), per)


def test_head_samples_are_unbiased_dropout():
    """E[dropout(h) W2] = h W2: the mean of many MC logits is the eval-mode logits."""
    net = VQANet(small(classifier_dropout=0.3)).eval()
    fused = torch.randn(4, 32)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        s = net.head_samples(fused, T=4000, generator=g)  # [4, 4000, C]
        ref = net.head(fused)
        h = torch.nn.functional.silu(fused @ net.classifier.w1[0] + net.classifier.b1[0])
    assert torch.allclose(s.mean(1), ref, atol=0.02)
    assert not torch.allclose(s[:, 0], s[:, 1])
    # with W2 = identity the samples show the masks: a share p of units is 0, the rest h / (1 - p)
    from vqa_studio.core.model.net import MultiHeadClassifier

    clf = MultiHeadClassifier(32, 16, 16, dropout=0.3)
    with torch.no_grad():
        clf.w2.copy_(torch.eye(16)[None])
        clf.b2.zero_()
        h = torch.nn.functional.silu(fused @ clf.w1[0] + clf.b1[0])  # [4, 16]
        out = clf.sample(fused, T=2000, generator=g)[0]  # [4, 2000, 16]
    dropped = out == 0
    assert abs(dropped.float().mean().item() - 0.3) < 0.01
    assert torch.allclose(out[~dropped], (h[:, None, :].expand_as(out) / 0.7)[~dropped], atol=1e-5)


def test_vqa_loss_weights_rows_and_count_loss_too():
    logits = torch.randn(4, C)
    labels = torch.tensor([1, -1, 3, 2])
    w = torch.tensor([4.0, 9.0, 1.0, 0.5])
    per = torch.nn.functional.cross_entropy(logits, labels.clamp_min(0), reduction="none")
    ref = (per[[0, 2, 3]] * w[[0, 2, 3]]).sum() / 3  # mean over the usable rows, each weighted
    assert torch.allclose(vqa_loss(logits, {"labels": labels, "loss_weights": w}), ref)
    rows, keep = vqa_loss_rows(logits, {"labels": labels})
    assert keep.tolist() == [True, False, True, True] and torch.allclose(rows[keep], per[keep])
    counts = torch.tensor([[2.0, 0.0], [5.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    targets = torch.tensor([3.0, -1.0, 1.0, 4.0])
    plain = count_loss(counts, {"count_targets": targets})
    weighted = count_loss(counts, {"count_targets": targets, "loss_weights": torch.tensor([2.0, 7.0, 1.0, 1.0])})
    # rows 0 and 3 are off by 1 and 4 (smooth L1, beta 0.5: 0.75 and 3.75), row 2 is right
    assert torch.isclose(plain, torch.tensor((0.75 + 3.75) / 3))
    assert torch.isclose(weighted, torch.tensor((2 * 0.75 + 3.75) / 3))
