"""MC-dropout (head / full scope), cached fused features, ensembles, heads."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from vqa_studio.core.errors import Cancelled
from vqa_studio.core.model.net import ModelConfig, VQANet
from vqa_studio.core.uncertainty import sampling as S

V, C = 30, 7


def net(init_seed: int = 0, **kw) -> VQANet:
    cfg = dict(vocab_size=V, n_answers=C, region_dim=16, hidden_dim=16, word_dim=8, fusion_rank=16,
               classifier_hidden=24, media_options={"width": 4})
    cfg.update(kw)
    torch.manual_seed(init_seed)
    return VQANet(ModelConfig(**cfg))


def batches(n_batches=3, b=5, u=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n_batches):
        out.append({
            "media": torch.rand(u, 3, 64, 64, generator=g),
            "media_index": torch.randint(0, u, (b,), generator=g),
            "tokens": torch.randint(2, V, (b, 6), generator=g),
            "lengths": torch.randint(1, 7, (b,), generator=g),
        })
    return out


def test_head_scope_without_dropout_gives_identical_samples():
    m = net(classifier_dropout=0.0)
    p = S.mc_dropout_probs(m, batches(), T=6, scope="head", seed=0)
    assert p.shape == (15, C, 6) and p.dtype == np.float32
    assert np.allclose(p.sum(axis=1), 1.0, atol=1e-5)
    assert np.allclose(p, p[:, :, :1])
    # and they are the eval-mode prediction
    with torch.no_grad():
        m.eval()
        ref = torch.cat([torch.softmax(m(b)["logits"], -1) for b in batches()]).numpy()
    assert np.allclose(p[:, :, 0], ref, atol=1e-5)


def test_head_scope_with_dropout_differs_and_is_seeded():
    m = net(classifier_dropout=0.5)
    p = S.mc_dropout_probs(m, batches(), T=8, scope="head", seed=3)
    assert not np.allclose(p, p[:, :, :1])
    assert np.array_equal(p, S.mc_dropout_probs(m, batches(), T=8, scope="head", seed=3))
    assert not np.array_equal(p, S.mc_dropout_probs(m, batches(), T=8, scope="head", seed=4))


def test_from_fused_equals_head_scope_whatever_the_batching():
    m = net(classifier_dropout=0.4)
    p = S.mc_dropout_probs(m, batches(), T=5, seed=11)
    enc = S.encode_all(m, batches(n_batches=1, b=15, u=2, seed=99))  # other data: just the API
    assert enc.fused.shape == (15, 16) and enc.attention.shape == (15, 2, 64)
    fused = S.encode_all(m, batches()).fused
    assert np.array_equal(p, S.mc_dropout_from_fused(m, fused, T=5, seed=11))
    # the same items encoded in other batch sizes give the same fused features -> same samples
    merged = [{k: torch.cat([b[k] + (2 * i if k == "media_index" else 0) for i, b in enumerate(batches())])
               if k != "media" else torch.cat([b["media"] for b in batches()]) for k in batches()[0]}]
    p2 = S.mc_dropout_probs(m, merged, T=5, seed=11)
    assert np.allclose(p, p2, atol=1e-5)
    # ... and the same masks whatever the chunking of the rows, one head or several
    for model in (m, net(n_heads=3, classifier_dropout=0.4)):
        f = S.encode_all(model, batches()).fused
        ref = S.mc_dropout_from_fused(model, f, T=5, seed=2, chunk_size=1000)
        for cs in (1, 3, 8):
            assert np.allclose(ref, S.mc_dropout_from_fused(model, f, T=5, seed=2, chunk_size=cs), atol=1e-6)


def test_full_scope_keeps_batchnorm_and_modes():
    m = net(media_dropout=0.3, question_dropout=0.3, fusion_dropout=0.3, classifier_dropout=0.0)
    m.train()
    bn_before = {k: v.clone() for k, v in m.state_dict().items() if "running" in k or "num_batches" in k}
    assert bn_before
    p = S.mc_dropout_probs(m, batches(), T=4, scope="full", seed=1)
    assert p.shape == (15, C, 4)
    # dropout outside the head makes the samples differ, even with a dropout-free classifier
    assert not np.allclose(p, p[:, :, :1])
    for k, v in m.state_dict().items():
        if k in bn_before:
            assert torch.equal(v, bn_before[k]), k
    assert m.training and all(mod.training for mod in m.modules())  # modes restored
    assert np.array_equal(p, S.mc_dropout_probs(m, batches(), T=4, scope="full", seed=1))
    # the head scope leaves them alone too, and restores eval mode as it found it
    m.eval()
    S.mc_dropout_probs(m, batches(), T=2, scope="head", seed=1)
    assert not any(mod.training for mod in m.modules())


def test_full_scope_with_transformer_dropout():
    m = net(question_encoder="transformer", media_dropout=0.0, fusion_dropout=0.0, classifier_dropout=0.0,
            question_dropout=0.5)
    p = S.mc_dropout_probs(m, batches(), T=3, scope="full", seed=0)
    assert not np.allclose(p, p[:, :, :1])


def test_multihead_and_mc_over_heads():
    m = net(n_heads=3, classifier_dropout=0.0, media_dropout=0.0, question_dropout=0.0, fusion_dropout=0.0)
    h = S.multihead_probs(m, batches())
    assert h.shape == (15, C, 3)
    assert not np.allclose(h, h[:, :, :1])
    mc = S.mc_dropout_probs(m, batches(), T=2, seed=0)
    assert mc.shape == (15, C, 6)  # head-major: head 0's 2 samples, then head 1's...
    assert np.allclose(mc[:, :, ::2], h, atol=1e-5)
    one = S.mc_dropout_probs(m, batches(), T=2, seed=0, head_index=1)
    assert one.shape == (15, C, 2) and np.allclose(one[:, :, 0], h[:, :, 1], atol=1e-5)
    full = S.mc_dropout_probs(m, batches(), T=2, scope="full", seed=0)
    assert full.shape == (15, C, 6) and np.allclose(full[:, :, ::2], h, atol=1e-5)


def test_ensemble_and_combine():
    members = [net(init_seed=i) for i in range(3)]
    e = S.ensemble_probs(members, iter(batches()))  # a one-shot iterator is enough
    assert e.shape == (15, C, 3) and e.dtype == np.float32
    assert not np.allclose(e, e[:, :, :1])
    mcs = [S.mc_dropout_probs(mm, batches(), T=4, seed=i) for i, mm in enumerate(members)]
    both = S.combine(*mcs)
    assert both.shape == (15, C, 12)
    assert np.array_equal(both[:, :, 4:8], mcs[1])
    with pytest.raises(ValueError, match="same N and C"):
        S.combine(mcs[0], mcs[0][:3])
    with pytest.raises(ValueError, match="disagree"):
        S.ensemble_probs([members[0], net(n_answers=C + 1)], batches())


def test_temperature_and_progress_and_cancel():
    m = net(classifier_dropout=0.0)
    seen = []
    cold = S.mc_dropout_probs(m, batches(), T=1, seed=0, progress=seen.append)
    assert seen == [5, 10, 15]
    hot = S.mc_dropout_probs(m, batches(), T=1, seed=0, temperature=100.0)
    assert hot.max(axis=1).mean() < cold.max(axis=1).mean()

    def cancel(done):
        if done >= 5:
            raise Cancelled("stop")

    with pytest.raises(Cancelled):
        S.mc_dropout_probs(m, batches(), T=2, progress=cancel)
    with pytest.raises(ValueError, match="scope"):
        S.mc_dropout_probs(m, batches(), T=2, scope="everything")


def test_head_scope_is_much_cheaper_than_full_scope():
    """Counts media encoder calls rather than timing: head scope runs it once per batch."""
    m = net(classifier_dropout=0.3)
    calls = []
    hook = m.media_encoder.register_forward_hook(lambda *a: calls.append(1))
    try:
        S.mc_dropout_probs(m, batches(), T=10, scope="head", seed=0)
        assert len(calls) == 3
        calls.clear()
        S.mc_dropout_probs(m, batches(), T=10, scope="full", seed=0)
        assert len(calls) == 30
    finally:
        hook.remove()


def test_no_batches_give_empty_arrays():
    m = net(n_heads=2)
    assert S.mc_dropout_probs(m, [], T=3).shape == (0, C, 6)
    assert S.mc_dropout_probs(m, [], T=3, scope="full", head_index=0).shape == (0, C, 3)
    assert S.multihead_probs(m, []).shape == (0, C, 2)
    assert S.ensemble_probs([m, m], []).shape == (0, C, 2)
    assert S.mc_dropout_from_fused(m, torch.zeros(0, 16), T=4).shape == (0, C, 8)
    with pytest.raises(ValueError, match="no batches"):
        S.encode_all(m, [])
