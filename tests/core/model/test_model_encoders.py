"""Shape contracts and behaviour of the media and question encoders."""
from __future__ import annotations

import pytest
import torch

from vqa_studio.core.model import encoders as E


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.mark.parametrize("name", ["cnn_grid", "mobilenet_grid"])
@pytest.mark.parametrize("size", [64, 96])
def test_image_encoders_give_an_8x8_grid(name, size):
    enc = E.make_media_encoder(name, out_dim=48).eval()
    regions, centres = enc(torch.rand(3, 3, size, size))
    assert regions.shape == (3, 64, 48)
    assert centres.shape == (3, 64, 2)
    assert enc.modality == "image" and enc.centre_dim == 2
    # row-major cell centres in 0..1: region 1 is right of region 0, region 8 below it
    c = centres[0]
    assert torch.allclose(c[0], torch.tensor([1 / 16, 1 / 16]))
    assert c[1, 0] > c[0, 0] and c[8, 1] > c[0, 1]


@pytest.mark.parametrize("name", ["cnn_grid", "mobilenet_grid"])
def test_image_encoders_accept_channels_last_input(name):
    enc = E.make_media_encoder(name, out_dim=32).eval()
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        a = enc(x).regions
        b = enc(x.contiguous(memory_format=torch.channels_last)).regions
    assert torch.allclose(a, b, atol=1e-5)


def test_image_encoder_rejects_a_cloud():
    with pytest.raises(ValueError, match=r"\[U, 3, H, W\]"):
        E.make_media_encoder("cnn_grid", 32)(torch.rand(2, 100, 6))


def test_pointnet_regions_and_centres():
    enc = E.make_media_encoder("pointnet", out_dim=40, n_regions=32, n_neighbours=8).eval()
    cloud = torch.rand(2, 300, 6)
    cloud[..., :3] = cloud[..., :3] * 50 + 100  # metres far from the origin: normalised inside
    regions, centres = enc(cloud)
    assert regions.shape == (2, 32, 40)
    assert centres.shape == (2, 32, 3)
    assert enc.modality == "cloud" and enc.centre_dim == 3
    # centres are input points, in the input's coordinates
    for u in range(2):
        d = ((centres[u, :, None] - cloud[u, None, :, :3]) ** 2).sum(-1).min(dim=1).values
        assert torch.all(d < 1e-3)
    with pytest.raises(ValueError, match=r"\[U, P, 6\]"):
        enc(torch.rand(2, 3, 8, 8))


def test_pointnet_knn_grouping_and_fewer_points_than_neighbours():
    enc = E.make_media_encoder("pointnet", out_dim=16, n_regions=8, n_neighbours=32, grouping="knn").eval()
    regions, _ = enc(torch.rand(1, 20, 6))
    assert regions.shape == (1, 8, 16) and torch.isfinite(regions).all()


def test_farthest_point_sampling_spreads_over_clusters():
    g = torch.Generator().manual_seed(1)
    offsets = torch.tensor([[0.0, 0, 0], [10, 0, 0], [0, 10, 0], [0, 0, 10]])
    pts = (offsets[:, None, :] + 0.1 * torch.randn(4, 50, 3, generator=g)).reshape(1, 200, 3)
    pts = torch.cat([pts, pts[:, torch.randperm(200, generator=g)]])  # same cloud, shuffled
    idx = E.farthest_point_sample(pts, 4)
    assert idx.shape == (2, 4)
    for u in range(2):
        clusters = {int(torch.argmin(((offsets - p) ** 2).sum(-1))) for p in pts[u, idx[u]]}
        assert clusters == {0, 1, 2, 3}
        assert len(set(idx[u].tolist())) == 4
    assert torch.equal(idx, E.farthest_point_sample(pts, 4))  # deterministic


@pytest.mark.parametrize("name, options", [("gru", {}), ("gru", {"bidirectional": False}), ("transformer", {}),
                                           ("conv", {})])
def test_question_encoders_shapes_and_padding_invariance(name, options):
    enc = E.make_question_encoder(name, vocab_size=50, word_dim=16, out_dim=32, **options).eval()
    tokens = torch.tensor([[5, 6, 7, 0, 0], [8, 9, 10, 11, 12]])
    lengths = torch.tensor([3, 5])
    with torch.no_grad():
        q = enc(tokens, lengths)
        assert q.vector.shape == (2, 32) and q.tokens.shape == (2, 5, 32)
        assert q.mask.tolist() == [[True, True, True, False, False], [True] * 5]
        # more padding changes nothing; neither does a question on its own
        more = enc(torch.cat([tokens, torch.zeros(2, 4, dtype=torch.long)], 1), lengths).vector
        alone = enc(tokens[:1, :3], lengths[:1]).vector
    assert torch.allclose(q.vector, more, atol=1e-5)
    assert torch.allclose(q.vector[:1], alone, atol=1e-5)


def test_bidirectional_gru_reads_each_question_backwards_without_its_padding():
    enc = E.make_question_encoder("gru", 50, 16, 32).eval()  # bidirectional by default
    tokens = torch.tensor([[5, 6, 7, 0, 0], [8, 9, 10, 11, 12]])
    lengths = torch.tensor([3, 5])
    with torch.no_grad():
        q = enc(tokens, lengths)
        for i in range(2):
            words = enc.embed(tokens[i:i + 1, : lengths[i]])
            fwd, _ = enc.gru(words)
            back, _ = enc.gru_back(words.flip(1))
            expect = torch.cat([fwd, back.flip(1)], -1)[0]  # word t: [forward up to t, backward from t]
            assert torch.allclose(q.tokens[i, : lengths[i]], expect, atol=1e-6)
            assert torch.allclose(q.vector[i], torch.cat([fwd[0, -1], back[0, -1]]), atol=1e-6)
    with pytest.raises(ValueError, match="even"):
        E.make_question_encoder("gru", 50, 16, 31)


def test_transformer_cuts_questions_longer_than_max_len():
    enc = E.make_question_encoder("transformer", 50, 16, 32, max_len=4).eval()
    q = enc(torch.randint(2, 50, (3, 9)), torch.tensor([9, 2, 4]))
    assert q.vector.shape == (3, 32) and q.tokens.shape == (3, 4, 32)


def test_registries_take_plugins_and_refuse_duplicates():
    def tiny(out_dim, dropout, **options):
        return E.make_media_encoder("mobilenet_grid", out_dim, dropout, width=4)

    E.register_media_encoder("tiny_test_encoder", tiny)
    try:
        assert "tiny_test_encoder" in E.media_encoder_names()
        assert E.make_media_encoder("tiny_test_encoder", 8)(torch.rand(1, 3, 64, 64)).regions.shape == (1, 64, 8)
        with pytest.raises(ValueError, match="already registered"):
            E.register_media_encoder("tiny_test_encoder", tiny)
    finally:
        E._MEDIA_ENCODERS.pop("tiny_test_encoder", None)
    with pytest.raises(KeyError, match="cnn_grid"):
        E.make_media_encoder("nope", 8)
    with pytest.raises(ValueError, match="already registered"):
        E.register_question_encoder("gru", E.gru)
