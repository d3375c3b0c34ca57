"""VQANet: media encoder + question encoder + bilinear attention + classifier head(s).

The model has a split API so uncertainty sampling can run the expensive part once::

    enc = net.encode(batch)            # Encoded(fused [B, D], attention [B, G, K], centres [B, K, c])
    logits = net.head(enc.fused)       # [B, C]
    samples = net.head_samples(enc.fused, T=20, generator=g)   # [B, S, C] MC-dropout logits

``encode`` runs the media encoder once per *unique* medium of the batch (``batch["media"]`` is
``[U, ...]``, ``batch["media_index"]`` ``[B]`` says which medium each question is about).

With ``n_heads > 1`` the classifier is a cheap ensemble of H heads on the shared backbone:
``heads(fused) -> [B, C, H]``; ``head(fused)`` then returns log of the heads' mean probability
(valid logits whose softmax is the ensemble's prediction) and ``head(fused, h)`` head h's logits.
Train the heads with :func:`vqa_loss` on ``out["head_logits"]`` (each head gets its own loss).

Checkpoints: ``net.config_dict()`` is plain JSON; ``VQANet.from_config(d)`` rebuilds the model
(the weights are the caller's); ``arch_signature(d)`` hashes the fields that decide the weights'
shapes and meaning (all but the dropout rates), and :func:`describe_arch_mismatch` /
``net.check_fits(saved_config)`` say in words what does not fit.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import torch
from torch import nn
from torch.nn import functional as F

from vqa_studio.core.errors import CheckpointError
from vqa_studio.core.model.encoders import make_media_encoder, make_question_encoder
from vqa_studio.core.model.fusion import BilinearAttentionFusion, ConceptFusion, ReasoningFusion

#: bump when the layer structure changes in a way old state dicts cannot load into
ARCH_VERSION = 3
#: config fields that do not change the weights' shapes or their meaning at inference
NON_ARCH_FIELDS = frozenset({"media_dropout", "question_dropout", "fusion_dropout", "classifier_dropout"})
FUSIONS = ("concept", "reasoning", "bilinear")


@dataclass
class ModelConfig:
    """Everything needed to rebuild a VQANet (the weights aside). Plain JSON types only."""

    vocab_size: int = 1000  # question words incl. PAD=0 and UNK=1
    n_answers: int = 100  # answer classes C
    media_encoder: str = "cnn_grid"  # cnn_grid | mobilenet_grid | pointnet | a plugin's
    question_encoder: str = "gru"  # gru | transformer | a plugin's
    region_dim: int = 128  # D_v, region feature size
    hidden_dim: int = 128  # D, question vector and fused vector size
    word_dim: int = 64  # word embedding size (gru)
    fusion_rank: int = 64  # r, rank of the attention / pooling (concept fusion: also the number of concepts)
    glimpses: int = 2  # G
    fusion: str = "concept"  # concept (soft filter programs: concepts, counts, relations) | reasoning
    # (multi-step: read, attend with relations, count) | bilinear (BAN-style)
    classifier_hidden: int = 256
    tag_head: bool = True  # training aid: predict, per medium, the "other"-type answers of its questions
    n_heads: int = 1  # > 1: multi-head ensemble on the shared backbone
    media_dropout: float = 0.1
    question_dropout: float = 0.1
    fusion_dropout: float = 0.1
    classifier_dropout: float = 0.3
    media_options: dict[str, Any] = field(default_factory=dict)  # e.g. {"width": 32} or {"n_regions": 64}
    question_options: dict[str, Any] = field(default_factory=dict)  # e.g. {"layers": 2, "max_len": 32}

    def __post_init__(self) -> None:
        for name in ("vocab_size", "n_answers", "region_dim", "hidden_dim", "word_dim", "fusion_rank",
                     "glimpses", "classifier_hidden", "n_heads"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"ModelConfig.{name} must be a positive int, not {value!r}")
        if self.vocab_size < 2:
            raise ValueError("ModelConfig.vocab_size counts PAD and UNK, so it is at least 2")
        for name in NON_ARCH_FIELDS:
            value = getattr(self, name)
            if not 0.0 <= float(value) < 1.0:
                raise ValueError(f"ModelConfig.{name} must be in [0, 1), not {value!r}")
        if self.fusion not in FUSIONS:
            raise ValueError(f"ModelConfig.fusion must be one of {', '.join(FUSIONS)}, not {self.fusion!r}")
        # JSON round trip: tuples become lists, so the config compares and hashes like its saved self
        self.media_options = json.loads(json.dumps(dict(self.media_options)))
        self.question_options = json.loads(json.dumps(dict(self.question_options)))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ModelConfig":
        """Missing fields take their defaults; unknown fields are an error (a newer checkpoint)."""
        data = {k: v for k, v in data.items() if k not in ("arch_version", "arch_signature")}
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise CheckpointError(
                f"the model configuration has fields this version does not know: {', '.join(unknown)} "
                "(written by a newer VQA Studio?)"
            )
        try:
            return cls(**data)
        except (TypeError, ValueError) as e:
            raise CheckpointError(f"the model configuration does not fit: {e}") from e


def _arch_fields(config: Mapping[str, Any]) -> dict[str, Any]:
    full = {**ModelConfig().to_dict(), **{k: v for k, v in config.items() if k not in ("arch_version", "arch_signature")}}
    return {k: v for k, v in full.items() if k not in NON_ARCH_FIELDS}


def arch_signature(config: ModelConfig | Mapping[str, Any]) -> str:
    """16 hex digits that change when the architecture (anything but dropout rates) changes."""
    data = config.to_dict() if isinstance(config, ModelConfig) else dict(config)
    version = data.get("arch_version", ARCH_VERSION)
    text = json.dumps({"arch_version": version, **_arch_fields(data)}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def describe_arch_mismatch(saved: Mapping[str, Any], current: Mapping[str, Any]) -> str | None:
    """None when a checkpoint with config ``saved`` fits a model built from ``current``, else why not."""
    problems = []
    v_saved, v_cur = saved.get("arch_version", ARCH_VERSION), current.get("arch_version", ARCH_VERSION)
    if v_saved != v_cur:
        problems.append(f"model code version {v_saved} (checkpoint) vs {v_cur} (this program)")
    a, b = _arch_fields(saved), _arch_fields(current)
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            problems.append(f"{key}: {a.get(key)!r} (checkpoint) vs {b.get(key)!r} (this model)")
    if not problems:
        return None
    return "the checkpoint's architecture does not fit: " + "; ".join(problems)


@dataclass
class Encoded:
    """What ``VQANet.encode`` returns: everything before the classifier."""

    fused: torch.Tensor  # [B, D]
    attention: torch.Tensor  # [B, G, K], softmax over the K regions
    centres: torch.Tensor  # [B, K, 2|3] region centres for display
    media_summary: torch.Tensor | None = None  # [U, D_v] max over each medium's regions (for the tag head)
    counts: torch.Tensor | None = None  # [B, G] each step's expected count (concept fusion)


class MultiHeadClassifier(nn.Module):
    """H heads ``Linear -> SiLU -> Dropout -> Linear``, stored stacked ([H, ...]) and run as one bmm."""

    def __init__(self, in_dim: int, hidden: int, n_classes: int, n_heads: int = 1, dropout: float = 0.0):
        super().__init__()
        self.n_heads, self.p = n_heads, float(dropout)
        self.w1 = nn.Parameter(torch.empty(n_heads, in_dim, hidden))
        self.b1 = nn.Parameter(torch.empty(n_heads, hidden))
        self.w2 = nn.Parameter(torch.empty(n_heads, hidden, n_classes))
        self.b2 = nn.Parameter(torch.empty(n_heads, n_classes))
        self.dropout = nn.Dropout(dropout)  # a module, so train()/eval() and full-scope MC see it
        for w, b, fan_in in ((self.w1, self.b1, in_dim), (self.w2, self.b2, hidden)):
            bound = 1.0 / math.sqrt(fan_in)  # nn.Linear's default, independently per head
            nn.init.uniform_(w, -bound, bound)
            nn.init.uniform_(b, -bound, bound)

    def _select(self, head_index: int | None):
        if head_index is None:
            return self.w1, self.b1, self.w2, self.b2
        if not -self.n_heads <= head_index < self.n_heads:
            raise IndexError(f"head {head_index} of a classifier with {self.n_heads} head(s)")
        s = slice(head_index % self.n_heads, head_index % self.n_heads + 1)
        return self.w1[s], self.b1[s], self.w2[s], self.b2[s]

    def forward(self, x: torch.Tensor, head_index: int | None = None) -> torch.Tensor:
        """x [B, D] -> logits [H', B, C] (H' = 1 with head_index); dropout as the module's mode says."""
        w1, b1, w2, b2 = self._select(head_index)
        h = F.silu(torch.baddbmm(b1.unsqueeze(1), x.expand(w1.shape[0], -1, -1), w1))
        return torch.baddbmm(b2.unsqueeze(1), self.dropout(h), w2)

    def sample(
        self, x: torch.Tensor, T: int, generator: torch.Generator | None = None, head_index: int | None = None
    ) -> torch.Tensor:
        """T MC-dropout samples in one op: x [B, D] -> logits [H', B, T, C], dropout always on.

        The first layer runs once; T masks per item ([H', B, T, hidden]) multiply its output and the
        second layer is one batched product over B*T rows (item-major, so each item's samples stay
        together in memory). The masks come from 16-bit uniforms: the dropout rate is used rounded
        to a multiple of 1/65536 (and the kept units rescaled exactly).
        """
        w1, b1, w2, b2 = self._select(head_index)
        hh = w1.shape[0]
        b = x.shape[0]
        h = F.silu(torch.baddbmm(b1.unsqueeze(1), x.expand(hh, -1, -1), w1))  # [H', B, hidden]
        shape = (hh, b, T, h.shape[-1])
        drop = min(round(self.p * 65536), 65535)
        if drop > 0:
            n = hh * b * T * h.shape[-1]
            bits = torch.empty((n + 3) // 4, dtype=torch.int64, device=h.device)
            bits.random_(-(2**63), None, generator=generator)  # full 64-bit range: 4 uniforms per draw
            # uniforms in item-major order [B, H', T, hidden], so with chunks of a multiple of 4 rows
            # the masks do not depend on how the rows were chunked
            u16 = bits.view(torch.int16)[:n].view(b, hh, T, -1).transpose(0, 1)
            # keep = (u16 >= drop), P(keep) = 1 - drop/65536, written straight as 0./1. floats and
            # multiplied in place (half the memory traffic of bool mask * h)
            z = torch.ge(u16, drop - 32768, out=h.new_empty(shape))
            z.mul_(h.unsqueeze(2))
            scale = 65536.0 / (65536 - drop)
        else:
            z = h.unsqueeze(2).expand(shape)
            scale = 1.0
        if hh == 1:  # plain addmm: ~20% faster than a batch-of-one baddbmm on CPU
            out = torch.addmm(b2[0], z.reshape(b * T, -1), w2[0], alpha=scale)
        else:
            out = torch.baddbmm(b2.unsqueeze(1), z.reshape(hh, b * T, -1), w2, alpha=scale)
        return out.view(hh, b, T, -1)


class VQANet(nn.Module):
    def __init__(self, config: ModelConfig | None = None, **overrides):
        super().__init__()
        config = config or ModelConfig()
        if overrides:
            config = dataclasses.replace(config, **overrides)
        self.config = config
        c = config
        self.media_encoder = make_media_encoder(c.media_encoder, c.region_dim, c.media_dropout, **c.media_options)
        self.question_encoder = make_question_encoder(
            c.question_encoder, c.vocab_size, c.word_dim, c.hidden_dim, c.question_dropout, **c.question_options
        )
        if c.fusion == "concept":
            self.fusion = ConceptFusion(c.hidden_dim, c.region_dim, c.fusion_rank, c.glimpses, c.fusion_dropout,
                                        centre_dim=getattr(self.media_encoder, "centre_dim", 2))
        elif c.fusion == "reasoning":
            self.fusion = ReasoningFusion(c.hidden_dim, c.region_dim, c.fusion_rank, c.glimpses, c.fusion_dropout,
                                          centre_dim=getattr(self.media_encoder, "centre_dim", 2))
        else:
            self.fusion = BilinearAttentionFusion(c.hidden_dim, c.region_dim, c.fusion_rank, c.glimpses,
                                                  c.fusion_dropout)
        self.classifier = MultiHeadClassifier(c.hidden_dim, c.classifier_hidden, c.n_answers, c.n_heads,
                                              c.classifier_dropout)
        # training aid: which answers occur among a medium's questions, from the medium alone
        self.tag_head = nn.Linear(c.region_dim, c.n_answers) if c.tag_head else None

    # --- properties -------------------------------------------------------------------------------------
    @property
    def modality(self) -> str:
        """"image" or "cloud": the media this model takes."""
        return getattr(self.media_encoder, "modality", "image")

    @property
    def n_heads(self) -> int:
        return self.config.n_heads

    @property
    def n_answers(self) -> int:
        return self.config.n_answers

    # --- the split API ----------------------------------------------------------------------------------
    def encode(self, batch: Mapping[str, torch.Tensor]) -> Encoded:
        """Media once per unique medium, questions, fusion -> Encoded (no classifier).

        With ``batch["media_regions"]`` [U, K, D_v] and ``batch["media_centres"]`` [U, K, c] (the
        media encoder's output, computed earlier: a frozen encoder's cached features), the media
        encoder is not run."""
        if "media_regions" in batch:
            regions, centres = batch["media_regions"], batch["media_centres"]
        else:
            regions, centres = None, None
        n_media = (regions if regions is not None else batch["media"]).shape[0]
        media_index = batch.get("media_index")
        if media_index is not None:
            media_index = media_index.to(torch.long)
            if media_index.numel() and (int(media_index.min()) < 0 or int(media_index.max()) >= n_media):
                raise ValueError(f"media_index out of range for {n_media} media")
        elif n_media != batch["tokens"].shape[0]:
            raise ValueError("without media_index there must be one medium per question")
        if regions is None:
            regions, centres = self.media_encoder(batch["media"])
        question = self.encode_questions(batch["tokens"], batch["lengths"])
        if self.config.fusion in ("reasoning", "concept"):
            fused, attention, *counts = self.fusion(question, self.fusion.prepare(regions, centres), media_index)
        else:
            fused, attention = self.fusion(question.vector, self.fusion.prepare(regions), media_index)
            counts = []
        if media_index is not None:
            centres = centres[media_index]
        return Encoded(fused, attention, centres, regions.amax(1) if self.tag_head is not None else None,
                       counts[0] if counts else None)

    def encode_questions(self, tokens: torch.Tensor, lengths: torch.Tensor):
        """The question encoder over the batch's *distinct* questions, then spread back to every row.

        A batch holds many copies of the same question (templated data asks "How many objects are
        there?" of most images: on the demo about a quarter of a 256-question batch are repeats), and a
        question's encoding does not depend on its image, so each distinct token row is encoded once
        (the recurrent encoder is the largest part of a training step). Exactly the same result as
        encoding every row, gradients included, except that with question dropout on, repeats of one
        question in a batch share a dropout mask."""
        if tokens.shape[0] < 2:
            return self.question_encoder(tokens, lengths)
        uniq, inverse = torch.unique(tokens, dim=0, return_inverse=True)
        if uniq.shape[0] == tokens.shape[0]:
            return self.question_encoder(tokens, lengths)
        lengths_u = lengths.new_zeros(uniq.shape[0]).scatter_(0, inverse, lengths)  # repeats have equal lengths
        q = self.question_encoder(uniq, lengths_u)
        parts = [t.index_select(0, inverse) for t in q]
        return type(q)(*parts) if hasattr(q, "_fields") else type(q)(parts)

    def head(self, fused: torch.Tensor, head_index: int | None = None) -> torch.Tensor:
        """Logits [B, C]: one head's, or with several heads and ``head_index=None`` the log of their
        mean probability (so softmax gives the ensemble's prediction)."""
        out = self.classifier(fused, head_index)  # [H', B, C]
        if out.shape[0] == 1:
            return out[0]
        return torch.logsumexp(F.log_softmax(out, dim=-1), dim=0) - math.log(out.shape[0])

    def heads(self, fused: torch.Tensor) -> torch.Tensor:
        """Every head's logits, [B, C, H]."""
        return self.classifier(fused).permute(1, 2, 0)

    def head_samples(
        self, fused: torch.Tensor, T: int, generator: torch.Generator | None = None, head_index: int | None = None
    ) -> torch.Tensor:
        """MC-dropout logits of the classifier alone, [B, S, C]; S = T, or H*T (head-major: head 0's
        T samples, then head 1's...) when the model has H > 1 heads and ``head_index`` is None.
        Dropout is on whatever the module's mode."""
        out = self.classifier.sample(fused, T, generator, head_index)  # [H', B, T, C]
        if out.shape[0] == 1:
            return out[0]
        return out.transpose(0, 1).reshape(out.shape[1], -1, out.shape[3])

    def forward(self, batch: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """dict(logits [B, C], attention [B, G, K], fused [B, D], centres [B, K, c]);
        with several heads also head_logits [B, C, H]; with the tag head tag_logits [U, C] (per medium:
        which answers its questions have, see :func:`tag_loss`)."""
        enc = self.encode(batch)
        out = {"fused": enc.fused, "attention": enc.attention, "centres": enc.centres}
        if enc.counts is not None:
            out["counts"] = enc.counts
        if self.tag_head is not None:
            out["tag_logits"] = self.tag_head(enc.media_summary)
        if self.n_heads > 1:
            per_head = self.classifier(enc.fused)  # [H, B, C]
            out["head_logits"] = per_head.permute(1, 2, 0)
            out["logits"] = torch.logsumexp(F.log_softmax(per_head, -1), 0) - math.log(self.n_heads)
        else:
            out["logits"] = self.head(enc.fused)
        return out

    # --- checkpoints ------------------------------------------------------------------------------------
    def config_dict(self) -> dict[str, Any]:
        """Plain-JSON config (with ``arch_version`` and ``arch_signature``) for a checkpoint."""
        d = self.config.to_dict()
        d["arch_version"] = ARCH_VERSION
        d["arch_signature"] = arch_signature(d)
        return d

    @classmethod
    def from_config(cls, config: ModelConfig | Mapping[str, Any]) -> "VQANet":
        """Rebuild the (untrained) model a checkpoint's config describes. Raises CheckpointError."""
        if isinstance(config, ModelConfig):
            return cls(config)
        version = config.get("arch_version", ARCH_VERSION)
        if version != ARCH_VERSION:
            raise CheckpointError(
                f"the checkpoint was written for model code version {version}, this program has {ARCH_VERSION}"
            )
        cfg = ModelConfig.from_dict(config)
        try:
            return cls(cfg)
        except KeyError as e:  # unknown encoder name
            raise CheckpointError(str(e.args[0]) if e.args else str(e)) from e

    def arch_signature(self) -> str:
        return arch_signature(self.config_dict())

    def check_fits(self, saved_config: Mapping[str, Any]) -> None:
        """Raise CheckpointError naming every architecture field where ``saved_config`` differs."""
        why = describe_arch_mismatch(saved_config, self.config_dict())
        if why:
            raise CheckpointError(why)

    def load_checkpoint_state(self, state_dict: Mapping[str, torch.Tensor], saved_config: Mapping[str, Any]) -> None:
        """check_fits, then load_state_dict (strict), turning a shape error into CheckpointError."""
        self.check_fits(saved_config)
        try:
            self.load_state_dict(state_dict)
        except RuntimeError as e:
            raise CheckpointError(f"the checkpoint's weights do not fit this model: {e}") from e


def vqa_loss(logits: torch.Tensor, batch: Mapping[str, torch.Tensor], label_smoothing: float = 0.0) -> torch.Tensor:
    """Cross-entropy for logits [B, C] or per-head logits [B, C, H] (summed over heads).

    Uses ``batch["soft_labels"]`` [B, C] when present (soft targets normalised to sum 1; rows that
    sum to 0, answers outside the vocabulary, are skipped), else ``batch["labels"]`` with -1 ignored.
    Returns 0 (with a graph) when no row has a usable label. ``label_smoothing`` mixes the target with
    the uniform distribution over the classes (as ``F.cross_entropy``'s). ``batch["loss_weights"]``
    [B], when present, weights the rows (the mean is still over the usable rows: an importance weight
    of 1/p on a question kept with probability p keeps the expected loss unchanged).
    """
    per_row, keep = vqa_loss_rows(logits, batch, label_smoothing)
    weights = batch.get("loss_weights")
    if weights is not None:
        per_row = per_row * weights.to(per_row.dtype)
    n = keep.sum()
    return (per_row * keep).sum() / n.clamp_min(1)


def vqa_loss_rows(logits: torch.Tensor, batch: Mapping[str, torch.Tensor], label_smoothing: float = 0.0
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """(loss of each row [B], whether the row has a usable label [B]): :func:`vqa_loss` before the
    mean (unweighted)."""
    if logits.dim() == 3:
        logits = logits.permute(0, 2, 1)  # [B, H, C]
    logp = F.log_softmax(logits, dim=-1)
    soft = batch.get("soft_labels")
    if soft is not None:
        soft = soft.to(logp.dtype)
        total = soft.sum(-1, keepdim=True)
        keep = total.squeeze(-1) > 0
        target = soft / total.clamp_min(1e-12)
        if logp.dim() == 3:
            target = target.unsqueeze(1)
        per_row = -(target * logp).sum(-1)
    else:
        labels = batch["labels"].to(torch.long)
        keep = labels >= 0
        idx = labels.clamp_min(0)
        if logp.dim() == 3:
            per_row = -logp.gather(-1, idx[:, None, None].expand(-1, logp.shape[1], 1)).squeeze(-1)
        else:
            per_row = -logp.gather(-1, idx[:, None]).squeeze(-1)
    if label_smoothing:
        per_row = (1.0 - label_smoothing) * per_row - label_smoothing * logp.mean(-1)
    if per_row.dim() == 2:
        per_row = per_row.sum(-1)  # heads
    return per_row, keep


def tag_loss(tag_logits: torch.Tensor, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """Multi-label loss of the tag head: for each medium u, the target of answer c is 1 when one of
    its questions marked in ``batch["tag_mask"]`` (answer type "other": "red", "circle", "dog"...)
    has c among its answers (``soft_labels > 0``, else ``labels``), 0 otherwise. An image-level,
    question-free signal to the media encoder from the same labels (it learns what is in the image
    directly instead of only through attention): on the demo it is what makes the colours, shapes and
    sizes learnable in minutes. Returns 0 (with a graph) when no question is marked."""
    u, n_cls = tag_logits.shape
    mask = batch.get("tag_mask")
    if mask is None or not bool(mask.any()):
        return tag_logits.sum() * 0.0
    soft = batch.get("soft_labels")
    if soft is not None:
        hit = (soft > 0).to(tag_logits.dtype)
    else:
        labels = batch["labels"].to(torch.long)
        hit = torch.zeros(labels.shape[0], n_cls, dtype=tag_logits.dtype, device=tag_logits.device)
        ok = labels >= 0
        hit[ok.nonzero().squeeze(1), labels[ok]] = 1.0
    hit = hit * mask.to(hit.dtype).unsqueeze(1)
    media_index = batch.get("media_index")
    if media_index is None:
        media_index = torch.arange(hit.shape[0], device=hit.device)
    target = torch.zeros(u, n_cls, dtype=hit.dtype, device=hit.device).index_add_(0, media_index.to(torch.long), hit)
    return F.binary_cross_entropy_with_logits(tag_logits.float(), target.clamp(max=1.0).float())


def count_loss(counts: torch.Tensor, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """Supervision of the concept fusion's first-step expected count ``counts[:, 0]`` ([B, G]) by the
    answers of count questions: ``batch["count_targets"]`` [B] holds the number a question's answer
    says ("how many ...?" -> "3"), -1 for every other question. Smooth L1 (beta 0.5), mean over the
    count questions (weighted by ``batch["loss_weights"]`` when present); 0 (with a graph) when the
    batch has none.

    Only the answers are used (no boxes), yet it ties the count to its mechanism: the objectness marks
    one region per object and the concepts become sure (on the demo the first step's count of "how
    many" questions went from 26% to 96-99.9% right), so counts and comparisons of counts read
    sharp matches instead of being learned through the pooled features."""
    target = batch.get("count_targets")
    if target is None:
        return counts.sum() * 0.0
    keep = target >= 0
    if not bool(keep.any()):
        return counts.sum() * 0.0
    per_row = F.smooth_l1_loss(counts[:, 0][keep].float(), target[keep].to(torch.float32), beta=0.5, reduction="none")
    weights = batch.get("loss_weights")
    if weights is not None:
        per_row = per_row * weights[keep].to(per_row.dtype)
    return per_row.mean()


def move_batch(batch: Mapping[str, Any], device: torch.device | str | None) -> dict[str, Any]:
    """A copy of ``batch`` with its tensors on ``device`` (non_blocking where it can)."""
    if device is None:
        return dict(batch)
    return {k: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


__all__ = [
    "ARCH_VERSION",
    "ModelConfig",
    "Encoded",
    "MultiHeadClassifier",
    "VQANet",
    "arch_signature",
    "describe_arch_mismatch",
    "vqa_loss",
    "tag_loss",
    "count_loss",
    "move_batch",
    "count_parameters",
]
