"""Media and question encoders, looked up by name.

Every **media encoder** maps a batch of unique media to K region features and K region centres::

    images  [U, 3, H, W] (RGB in 0..1)      -> MediaFeatures(regions [U, K, D_v], centres [U, K, 2])
    clouds  [U, P, 6]    (xyz + rgb in 0..1) -> MediaFeatures(regions [U, K, D_v], centres [U, K, 3])

so everything downstream (fusion, heads, uncertainty) is the same for images and point clouds.
Centres are for display: image centres are (x, y) in 0..1 of the image width / height (regions in
row-major order, so ``attention.reshape(B, G, grid, grid)`` is a heat map), cloud centres are xyz in
the cloud's own coordinates (colour each point by the attention of its nearest centre).

Every **question encoder** maps ``tokens [B, L]`` (PAD = 0) and ``lengths [B]`` to
QuestionFeatures(vector [B, D], tokens [B, L, D], mask [B, L] True where a word is).

Encoders are pluggable::

    register_media_encoder("my_net", factory)     # factory(out_dim, dropout, **options) -> nn.Module
    register_question_encoder("my_q", factory)    # factory(vocab_size, word_dim, out_dim, dropout,
                                                  #         **options) -> nn.Module

A media encoder module must have the attributes ``modality`` ("image" or "cloud"), ``out_dim`` and
``centre_dim`` and return :class:`MediaFeatures`; a question encoder must have ``out_dim`` and return
:class:`QuestionFeatures`. ``options`` come from ``ModelConfig.media_options`` /
``question_options`` and are part of the architecture signature.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from ..registry import NamespaceView, default_registry


class MediaFeatures(NamedTuple):
    regions: torch.Tensor  # [U, K, D_v]
    centres: torch.Tensor  # [U, K, 2] (image x, y in 0..1) or [U, K, 3] (cloud xyz)


class QuestionFeatures(NamedTuple):
    vector: torch.Tensor  # [B, D]
    tokens: torch.Tensor  # [B, L, D]
    mask: torch.Tensor  # [B, L] bool, True where there is a word


MediaFactory = Callable[..., nn.Module]
QuestionFactory = Callable[..., nn.Module]

#: name -> factory: live views of the one registry (``core/registry.py``), where the built-ins below
#: register as plugins do (``core/builtins.py``)
_MEDIA_ENCODERS = NamespaceView("media_encoders", "add_media_encoder")
_QUESTION_ENCODERS = NamespaceView("question_encoders", "add_question_encoder")


def register_media_encoder(name: str, factory: MediaFactory | str, *, replace: bool = False,
                           modality: str = "image") -> None:
    """Make ``factory(out_dim, dropout, **options)`` available as media encoder ``name``."""
    default_registry().add_media_encoder(name, factory, modality=modality, replace=replace)


def register_question_encoder(name: str, factory: QuestionFactory | str, *, replace: bool = False) -> None:
    """Make ``factory(vocab_size, word_dim, out_dim, dropout, **options)`` available as ``name``."""
    default_registry().add_question_encoder(name, factory, replace=replace)


def media_encoder_names() -> list[str]:
    return sorted(default_registry().media_encoders)


def question_encoder_names() -> list[str]:
    return sorted(default_registry().question_encoders)


def _factory(space: dict, name: str, what: str, known: list[str]):
    spec = space.get(name)
    if spec is None:
        raise KeyError(f"unknown {what} {name!r} (known: {', '.join(known)}); "
                       "is the plugin that provides it installed?")
    if not spec.is_available():
        raise RuntimeError(f"the {what} {name!r} is not available here: {spec.error or 'a dependency is missing'}"
                           + (f" (install it with: {spec.install})" if spec.install else ""))
    return spec.get()


def make_media_encoder(name: str, out_dim: int, dropout: float = 0.0, **options) -> nn.Module:
    factory = _factory(default_registry().media_encoders, name, "media encoder", media_encoder_names())
    return factory(out_dim, dropout, **options)


def make_question_encoder(
    name: str, vocab_size: int, word_dim: int, out_dim: int, dropout: float = 0.0, **options
) -> nn.Module:
    factory = _factory(default_registry().question_encoders, name, "question encoder", question_encoder_names())
    return factory(vocab_size, word_dim, out_dim, dropout, **options)


# --- image encoders -----------------------------------------------------------------------------------


def _check_images(media: torch.Tensor) -> None:
    if media.dim() != 4 or media.shape[1] != 3:
        raise ValueError(f"an image encoder takes media [U, 3, H, W], got {tuple(media.shape)}")


def _grid_centres(grid: int, like: torch.Tensor) -> torch.Tensor:
    """[grid*grid, 2] cell centres (x, y) in 0..1, row-major (row = y)."""
    c = (torch.arange(grid, dtype=like.dtype, device=like.device) + 0.5) / grid
    ys, xs = torch.meshgrid(c, c, indexing="ij")
    return torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=-1)


def _conv_bn_act(cin: int, cout: int, stride: int = 1, groups: int = 1, kernel: int = 3) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class _GridEncoder(nn.Module):
    """Shared tail of the image encoders: feature map -> grid x grid regions + learned positions."""

    modality = "image"
    centre_dim = 2

    def __init__(self, body: nn.Module, body_channels: int, out_dim: int, dropout: float, grid: int):
        super().__init__()
        self.body = body
        self.grid = grid
        self.n_regions = grid * grid
        self.out_dim = out_dim
        self.proj = nn.Conv2d(body_channels, out_dim, 1, bias=False) if body_channels != out_dim else None
        self.pool = nn.AdaptiveAvgPool2d(grid)
        self.position = nn.Parameter(torch.zeros(self.n_regions, out_dim))
        nn.init.normal_(self.position, std=0.02)
        self.dropout = nn.Dropout(dropout)

    def forward(self, media: torch.Tensor) -> MediaFeatures:
        _check_images(media)
        x = media.contiguous(memory_format=torch.channels_last)
        x = self.body(x * 2.0 - 1.0)
        if x.shape[-1] != self.grid or x.shape[-2] != self.grid:
            x = self.pool(x)  # other image sizes than the default: average to the fixed grid
        if self.proj is not None:
            x = self.proj(x)
        regions = x.flatten(2).transpose(1, 2) + self.position  # [U, K, D_v]
        regions = self.dropout(regions)
        centres = _grid_centres(self.grid, regions).expand(media.shape[0], -1, -1)
        return MediaFeatures(regions, centres)


def cnn_grid(out_dim: int, dropout: float = 0.0, *, width: int = 32, grid: int = 8) -> nn.Module:
    """A small CNN: 64x64 -> 8x8 grid (four 3x3 conv + BatchNorm + ReLU, three of them stride 2),
    run channels-last (about 20 M multiply-adds per 64x64 image with the default width).

    ``width`` is the first layer's channels (then 2x, 2x, 4x); ``grid`` the regions per side (other
    image sizes are average-pooled to it).
    """
    w = width
    body = nn.Sequential(
        _conv_bn_act(3, w, stride=2),  # 32x32
        _conv_bn_act(w, 2 * w, stride=2),  # 16x16
        _conv_bn_act(2 * w, 2 * w),
        _conv_bn_act(2 * w, 4 * w, stride=2),  # 8x8
    )
    return _GridEncoder(body, 4 * w, out_dim, dropout, grid)


def _separable(cin: int, cout: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        _conv_bn_act(cin, cin, stride=stride, groups=cin),  # depthwise 3x3
        _conv_bn_act(cin, cout, kernel=1),  # pointwise 1x1
    )


def mobilenet_grid(out_dim: int, dropout: float = 0.0, *, width: int = 16, grid: int = 8) -> nn.Module:
    """MobileNet-style (depthwise-separable convs) for slow machines: about a quarter of
    ``cnn_grid``'s multiply-adds and a third of its parameters (about 2x faster on a CPU; depthwise
    convolutions are memory-bound)."""
    w = width
    body = nn.Sequential(
        _conv_bn_act(3, w, stride=2),  # 32x32
        _separable(w, 2 * w, 1),
        _separable(2 * w, 4 * w, 2),  # 16x16
        _separable(4 * w, 4 * w, 1),
        _separable(4 * w, 8 * w, 2),  # 8x8
        _separable(8 * w, 8 * w, 1),
    )
    return _GridEncoder(body, 8 * w, out_dim, dropout, grid)


# --- point cloud encoder --------------------------------------------------------------------------------


def farthest_point_sample(xyz: torch.Tensor, k: int) -> torch.Tensor:
    """Indices [U, k] of k farthest-point samples of each cloud in ``xyz [U, P, 3]``.

    Vectorised over the clouds (a loop over k only); deterministic: starts at the point farthest
    from the cloud's centroid. With k > P points repeat.
    """
    u, p, _ = xyz.shape
    rows = torch.arange(u, device=xyz.device)
    idx = torch.empty(u, k, dtype=torch.long, device=xyz.device)
    sq = (xyz * xyz).sum(-1)  # [U, P]
    nearest = torch.full((u, p), float("inf"), dtype=xyz.dtype, device=xyz.device)
    far = ((xyz - xyz.mean(1, keepdim=True)) ** 2).sum(-1).argmax(1)
    for i in range(k):
        idx[:, i] = far
        # |x - c|^2 = |x|^2 + |c|^2 - 2 x.c as one batched product (3x faster than sub/pow/sum)
        c = xyz[rows, far].unsqueeze(-1)  # [U, 3, 1]
        d = torch.baddbmm((sq + sq[rows, far, None]).unsqueeze(-1), xyz, c, alpha=-2.0).squeeze(-1)
        nearest = torch.minimum(nearest, d)
        far = nearest.argmax(1)
    return idx


def _gather_points(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """x [U, P, C], idx [U, ...] -> [U, ..., C]."""
    u, _, c = x.shape
    flat = idx.reshape(u, -1)
    out = torch.gather(x, 1, flat.unsqueeze(-1).expand(-1, -1, c))
    return out.reshape(*idx.shape, c)


class PointNetRegions(nn.Module):
    """PointNet++-style set abstraction: K centres by FPS, S neighbours each, shared MLP, max-pool.

    The cloud is centred and scaled into the unit ball first (so ``radius`` is relative to the
    cloud's size; centres are returned in the input coordinates). Grouping is kNN, or a ball query
    (``grouping="ball"``): of the ``n_neighbours`` nearest, those farther than ``radius`` are
    replaced by the centre itself, as PointNet++ pads its ball query. Per-neighbour input is
    (xyz - centre) / radius and rgb; the region feature is the max over neighbours plus an
    embedding of the centre's position. The shared MLP (``widths``) runs on every neighbour; the
    widening to ``out_dim`` runs after the max-pool, once per region (5x fewer multiply-adds).
    """

    modality = "cloud"
    centre_dim = 3

    def __init__(
        self,
        out_dim: int,
        dropout: float = 0.0,
        *,
        n_regions: int = 64,
        n_neighbours: int = 32,
        radius: float = 0.25,
        grouping: str = "ball",
        widths: tuple[int, ...] | list[int] = (32, 64),
    ):
        super().__init__()
        if grouping not in ("ball", "knn"):
            raise ValueError(f"grouping is 'ball' or 'knn', not {grouping!r}")
        self.out_dim = out_dim
        self.n_regions = n_regions
        self.n_neighbours = n_neighbours
        self.radius = float(radius)
        self.grouping = grouping
        layers: list[nn.Module] = []
        cin = 6
        for cout in widths:
            layers += [nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
            cin = cout
        self.mlp = nn.Sequential(*layers)
        # after the max-pool (K rows, not K*S): widen to out_dim; cheaper than a last shared layer
        self.out = nn.Linear(cin, out_dim)
        self.position = nn.Linear(3, out_dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, media: torch.Tensor) -> MediaFeatures:
        if media.dim() != 3 or media.shape[-1] != 6:
            raise ValueError(f"the point cloud encoder takes media [U, P, 6], got {tuple(media.shape)}")
        xyz, rgb = media[..., :3], media[..., 3:]
        centroid = xyz.mean(1, keepdim=True)
        scale = (xyz - centroid).norm(dim=-1).amax(1).clamp_min(1e-6)[:, None, None]
        xn = (xyz - centroid) / scale  # inside the unit ball
        idx = farthest_point_sample(xn, self.n_regions)  # [U, K]
        centres_n = _gather_points(xn, idx)  # [U, K, 3]
        s = min(self.n_neighbours, xn.shape[1])
        dist, nbr = torch.cdist(centres_n, xn).topk(s, dim=-1, largest=False)  # [U, K, S]
        if self.grouping == "ball":
            nbr = torch.where(dist > self.radius, nbr[..., :1], nbr)
        rel = (_gather_points(xn, nbr) - centres_n.unsqueeze(2)) / self.radius  # [U, K, S, 3]
        feats = torch.cat([rel, _gather_points(rgb, nbr)], dim=-1)  # [U, K, S, 6]
        x = self.mlp(feats.permute(0, 3, 1, 2))  # [U, D, K, S]
        regions = self.out(x.amax(-1).transpose(1, 2)) + self.position(centres_n)  # [U, K, D]
        return MediaFeatures(self.dropout(regions), _gather_points(xyz, idx))


def pointnet(out_dim: int, dropout: float = 0.0, **options) -> nn.Module:
    return PointNetRegions(out_dim, dropout, **options)


# --- question encoders ----------------------------------------------------------------------------------


def _clamped_lengths(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    return lengths.to(torch.long).clamp(1, max_len)


class GRUQuestion(nn.Module):
    """Trainable word embeddings + a one-layer GRU (by default one per direction); the vector is the
    state after the last word.

    Padding comes after the words, so the output at ``lengths - 1`` of the unpacked GRU *is* the final
    state of the unpadded sequence (masking by lengths; no packing needed).

    ``bidirectional=True`` (the default): two GRUs of ``out_dim / 2``, the second over each question's
    words reversed (gathered by index, so padding never enters it); each word's output is [forward,
    backward] and so knows the words after it too ("the *thing* to the left of the X" is not the
    referent, "the X" is), and the vector is [last forward state, last backward state].
    """

    def __init__(self, vocab_size: int, word_dim: int, out_dim: int, dropout: float = 0.0, *,
                 bidirectional: bool = True):
        super().__init__()
        if bidirectional and out_dim % 2:
            raise ValueError(f"a bidirectional GRU needs an even out_dim, not {out_dim}")
        self.out_dim = out_dim
        self.bidirectional = bool(bidirectional)
        self.embed = nn.Embedding(vocab_size, word_dim, padding_idx=0)
        self.dropout = nn.Dropout(dropout)
        hidden = out_dim // 2 if self.bidirectional else out_dim
        self.gru = nn.GRU(word_dim, hidden, batch_first=True)
        self.gru_back = nn.GRU(word_dim, hidden, batch_first=True) if self.bidirectional else None

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> QuestionFeatures:
        lengths = _clamped_lengths(lengths, tokens.shape[1])
        x = self.dropout(self.embed(tokens))  # [B, L, E]
        out, _ = self.gru(x)  # [B, L, D or D/2]
        rows = torch.arange(tokens.shape[0], device=tokens.device)
        pos = torch.arange(tokens.shape[1], device=tokens.device)
        mask = pos[None, :] < lengths[:, None]
        vector = out[rows, lengths - 1]
        if self.gru_back is not None:
            # position t of the reversed question is word lengths-1-t (pads stay at the end); the
            # reversal is its own inverse, so the same index puts the outputs back in word order
            rev = torch.where(mask, lengths[:, None] - 1 - pos[None, :], pos[None, :])  # [B, L]
            idx = rev.unsqueeze(-1)
            back, _ = self.gru_back(x.gather(1, idx.expand(-1, -1, x.shape[-1])))
            vector = torch.cat([vector, back[rows, lengths - 1]], -1)
            out = torch.cat([out, back.gather(1, idx.expand(-1, -1, back.shape[-1]))], -1)
        return QuestionFeatures(vector, out, mask)


class TransformerQuestion(nn.Module):
    """Word embeddings + learned positions + a small pre-norm TransformerEncoder with a padding mask;
    the vector is the masked mean over the words. Questions longer than ``max_len`` are cut."""

    def __init__(
        self,
        vocab_size: int,
        word_dim: int,
        out_dim: int,
        dropout: float = 0.0,
        *,
        layers: int = 2,
        heads: int = 4,
        max_len: int = 32,
        ff_mult: int = 2,
    ):
        super().__init__()
        del word_dim  # the transformer works at out_dim throughout
        self.out_dim = out_dim
        self.max_len = max_len
        self.embed = nn.Embedding(vocab_size, out_dim, padding_idx=0)
        self.position = nn.Embedding(max_len, out_dim)
        self.dropout = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(
            out_dim, heads, ff_mult * out_dim, dropout, activation="gelu", batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(out_dim)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> QuestionFeatures:
        tokens = tokens[:, : self.max_len]
        lengths = _clamped_lengths(lengths, tokens.shape[1])
        pos = torch.arange(tokens.shape[1], device=tokens.device)
        mask = pos[None, :] < lengths[:, None]
        x = self.dropout(self.embed(tokens) + self.position(pos)[None])
        x = self.norm(self.encoder(x, src_key_padding_mask=~mask))
        m = mask.unsqueeze(-1).to(x.dtype)
        vector = (x * m).sum(1) / m.sum(1)
        return QuestionFeatures(vector, x, mask)


class ConvQuestion(nn.Module):
    """Word embeddings + learned positions, then ``layers`` 1-D convolutions (kernel 3, GELU, residual
    from the second on) over the words; the vector is a masked max- and mean-pool through a linear
    layer. About 30x fewer multiply-adds than the GRU for the same width (short, templated questions
    need little more than a few words of context per word)."""

    def __init__(self, vocab_size: int, word_dim: int, out_dim: int, dropout: float = 0.0, *, layers: int = 2,
                 kernel: int = 3, max_len: int = 32):
        super().__init__()
        self.out_dim, self.max_len = out_dim, max_len
        self.embed = nn.Embedding(vocab_size, word_dim, padding_idx=0)
        self.position = nn.Embedding(max_len, word_dim)
        self.dropout = nn.Dropout(dropout)
        self.convs = nn.ModuleList(
            nn.Conv1d(word_dim if i == 0 else out_dim, out_dim, kernel, padding=kernel // 2) for i in range(layers))
        self.summary = nn.Linear(2 * out_dim, out_dim)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> QuestionFeatures:
        tokens = tokens[:, : self.max_len]
        lengths = _clamped_lengths(lengths, tokens.shape[1])
        pos = torch.arange(tokens.shape[1], device=tokens.device)
        mask = pos[None, :] < lengths[:, None]
        m = mask.unsqueeze(1).to(self.embed.weight.dtype)  # [B, 1, L]
        x = self.dropout(self.embed(tokens) + self.position(pos)[None]).transpose(1, 2)  # [B, E, L]
        for i, conv in enumerate(self.convs):
            y = F.gelu(conv(x * m))
            x = y if i == 0 else x + y
        x = x * m
        mean = x.sum(-1) / m.sum(-1)
        mx = x.masked_fill(m == 0, torch.finfo(x.dtype).min).amax(-1)
        vector = self.summary(torch.cat([mx, mean], -1))
        return QuestionFeatures(vector, x.transpose(1, 2), mask)


def conv(vocab_size: int, word_dim: int, out_dim: int, dropout: float = 0.0, **options) -> nn.Module:
    return ConvQuestion(vocab_size, word_dim, out_dim, dropout, **options)


def gru(vocab_size: int, word_dim: int, out_dim: int, dropout: float = 0.0, **options) -> nn.Module:
    return GRUQuestion(vocab_size, word_dim, out_dim, dropout, **options)


def transformer(vocab_size: int, word_dim: int, out_dim: int, dropout: float = 0.0, **options) -> nn.Module:
    return TransformerQuestion(vocab_size, word_dim, out_dim, dropout, **options)



__all__ = [
    "MediaFeatures",
    "QuestionFeatures",
    "register_media_encoder",
    "register_question_encoder",
    "media_encoder_names",
    "question_encoder_names",
    "make_media_encoder",
    "make_question_encoder",
    "farthest_point_sample",
    "cnn_grid",
    "mobilenet_grid",
    "pointnet",
    "gru",
    "transformer",
    "conv",
    "PointNetRegions",
    "GRUQuestion",
    "TransformerQuestion",
    "ConvQuestion",
]
