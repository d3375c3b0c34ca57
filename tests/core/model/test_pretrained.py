"""Pretrained backbones through the path a user's files take: tiny random configurations of each
family, saved with ``save_pretrained`` into a folder, loaded by ``hf:<folder>`` (no network)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

transformers = pytest.importorskip("transformers")

from vqa_studio.core.errors import BadInputError  # noqa: E402
from vqa_studio.core.model import pretrained  # noqa: E402


def _configs():
    T = transformers
    vit = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, image_size=32,
               patch_size=8)
    return {
        "resnet": T.ResNetConfig(embedding_size=16, hidden_sizes=[16, 32], depths=[1, 1]),
        "convnext": T.ConvNextConfig(hidden_sizes=[16, 32], depths=[1, 1], num_stages=2, image_size=64),
        "vit": T.ViTConfig(**vit),
        "dinov2": T.Dinov2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, mlp_ratio=2,
                                 image_size=32, patch_size=8),
        "clip": T.CLIPVisionConfig(**vit),
        "siglip": T.SiglipVisionConfig(**vit),
    }


def save_tiny(family: str, folder, seed: int = 0) -> str:
    """A tiny random model of ``family`` saved as a user's folder would be."""
    torch.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = transformers.AutoModel.from_config(_configs()[family])
        model.save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("hf")
    return {family: save_tiny(family, root / family) for family in pretrained.FAMILIES}


@pytest.mark.parametrize("family", pretrained.FAMILIES)
def test_each_family_gives_regions_on_a_grid(tiny_models, family):
    enc = pretrained.pretrained_encoder(16, 0.0, source=tiny_models[family])
    out = enc(torch.rand(3, 3, 40, 40))
    k = out.regions.shape[1]
    assert out.regions.shape == (3, k, 16) and 1 <= k <= 64
    assert enc.grid * enc.grid == k
    assert out.centres.shape == (3, k, 2)
    assert float(out.centres.min()) > 0 and float(out.centres.max()) < 1
    assert torch.isfinite(out.regions).all()


def test_frozen_backbone_is_neither_trained_nor_saved(tiny_models):
    enc = pretrained.pretrained_encoder(16, 0.1, source=tiny_models["vit"])
    names = [n for n, _ in enc.named_parameters()]
    assert names and not any("backbone" in n or "_frozen" in n for n in names)
    assert not any(k.startswith(("backbone", "_frozen")) for k in enc.state_dict())
    enc.train()
    assert not enc._frozen.training  # dropout / norm statistics of the backbone never move
    images = torch.rand(2, 3, 32, 32)
    enc(images).regions.sum().backward()
    assert all(p.grad is None for p in enc._frozen.parameters())
    assert enc.proj.weight.grad is not None


def test_unfreeze_trains_the_last_blocks_only(tiny_models):
    enc = pretrained.pretrained_encoder(16, 0.0, source=tiny_models["clip"], unfreeze=1)
    blocks = pretrained.blocks_of(enc.backbone)
    assert len(blocks) == 2
    assert all(p.requires_grad for p in blocks[-1].parameters())
    assert not any(p.requires_grad for p in blocks[0].parameters())
    assert any(k.startswith("backbone.") for k in enc.state_dict())  # fine-tuned weights are saved
    enc(torch.rand(2, 3, 32, 32)).regions.sum().backward()
    assert next(iter(blocks[-1].parameters())).grad is not None
    # the shared frozen copy other models use is untouched
    shared = pretrained.load_backbone(tiny_models["clip"])
    assert not any(p.requires_grad for p in shared.parameters()) or shared is not enc.backbone


def test_cached_features_give_the_same_regions(tiny_models, tmp_path):
    enc = pretrained.pretrained_encoder(16, 0.0, source=tiny_models["resnet"]).eval()
    images = torch.rand(4, 3, 48, 48)
    shas = [f"{i:064x}" for i in range(4)]
    calls = []
    hook = enc._frozen.register_forward_hook(lambda *a: calls.append(1))
    cache = pretrained.FeatureCache(tmp_path, enc.key)
    feats = cache.features(enc, shas, lambda idx: images[idx])
    assert cache.misses == 4 and len(calls) == 1  # one batch
    again = pretrained.FeatureCache(tmp_path, enc.key).features(enc, shas, lambda idx: pytest.fail("recomputed"))
    assert len(calls) == 1  # the second run hits the cache and does not run the encoder
    assert torch.equal(feats, again)
    with torch.no_grad():
        direct = enc(images).regions
        cached = enc(again).regions
    assert torch.allclose(direct, cached, atol=2e-2)  # float16 on disk
    hook.remove()


def test_encoder_key_follows_the_weights(tiny_models, tmp_path):
    a = pretrained.load_backbone(tiny_models["vit"])
    b = pretrained.load_backbone(save_tiny("vit", tmp_path / "vit2"))
    c = pretrained.load_backbone(save_tiny("vit", tmp_path / "vit3", seed=1))
    assert pretrained.encoder_key(a, 4) == pretrained.encoder_key(a, 4)
    assert pretrained.encoder_key(a, 4) != pretrained.encoder_key(a, 2)
    # the same weights saved into another folder: the key is the content, not the folder
    assert pretrained.encoder_key(a, 4) == pretrained.encoder_key(b, 4)
    assert pretrained.encoder_key(a, 4) != pretrained.encoder_key(c, 4)  # other weights


def test_bad_sources_name_the_folder(tmp_path):
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    with pytest.raises(BadInputError, match="not-a-model"):
        pretrained.load_backbone(str(empty))
    with pytest.raises(BadInputError, match="hf:"):
        pretrained.source_of("hf:")
    bert = tmp_path / "bert"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        transformers.AutoModel.from_config(transformers.BertConfig(
            hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64, vocab_size=50)
        ).save_pretrained(bert)
    with pytest.raises(BadInputError, match="supported vision backbones"):
        pretrained.load_backbone(str(bert))


def test_feature_cache_refuses_names_that_are_not_hashes(tmp_path):
    cache = pretrained.FeatureCache(tmp_path, "k")
    with pytest.raises(ValueError):
        cache.put("../../etc/passwd", np.zeros((1, 2)))
