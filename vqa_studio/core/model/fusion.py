"""Low-rank bilinear attention over regions (after BAN, Kim, Jun & Zhang, NeurIPS 2018), simplified.

**What is simplified.** BAN attends over every (question word, region) pair. Here the question is
one vector ``q [B, D]`` (the question encoder's summary) and attention is over the K regions only,
which is what the GUI draws and what ``[B, G, K]`` means:

* attention (all G glimpses at once, as BAN does)::

      logits[b, g, k] = p_g . (ReLU(U q_b) * ReLU(V v_bk)) + c_g          (rank r low-rank bilinear)
                      = ReLU(V v_bk) . (ReLU(U q_b) * p_g) + c_g           (how it is computed)
      A[b, g, :]      = softmax over k

* bilinear pooling of glimpse g with residual accumulation on the question (BAN's
  ``q_emb = q_prj[g](b_emb[g]) + q_emb``)::

      f_g = ReLU(U'_g h) * (sum_k A[b, g, k] ReLU(V'_g v_bk))            [B, r]
      h  <- h + P_g f_g                      (h starts as q; the fused vector is h after G glimpses)

BAN's counting module and weight normalisation are left out.

**Speed.** Everything that depends only on the regions (``ReLU(V v)``, ``ReLU(V' v)``) is computed
once per *unique* medium by :meth:`BilinearAttentionFusion.prepare` and then indexed by
``media_index``; the per-question part is a few small (batched) matrix products. Dropout
(``fusion_dropout``) acts on the question-side projections and on the pooled joint vectors.
"""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F


class PreparedRegions(NamedTuple):
    attend: torch.Tensor  # [U, K, r]     ReLU(V v)
    pool: torch.Tensor  # [U, G, K, r]    ReLU(V'_g v), glimpse-major so pooling is one batched matmul


class BilinearAttentionFusion(nn.Module):
    """Question vector x K regions -> fused vector [B, D] and attention [B, G, K]."""

    def __init__(self, q_dim: int, v_dim: int, rank: int = 128, glimpses: int = 2, dropout: float = 0.0):
        super().__init__()
        if glimpses < 1:
            raise ValueError("glimpses must be >= 1")
        self.glimpses = glimpses
        self.rank = rank
        self.att_q = nn.Linear(q_dim, rank)
        self.att_v = nn.Linear(v_dim, rank)
        self.att_p = nn.Linear(rank, glimpses)
        self.att_p.keep_float = True  # its weight is folded with the question (forward), not called
        self.pool_v = nn.Linear(v_dim, glimpses * rank)  # V'_g for all glimpses in one product
        self.pool_q = nn.ModuleList(nn.Linear(q_dim, rank) for _ in range(glimpses))
        self.proj = nn.ModuleList(nn.Linear(rank, q_dim) for _ in range(glimpses))
        self.dropout = nn.Dropout(dropout)

    def prepare(self, regions: torch.Tensor) -> PreparedRegions:
        """The region-only half of the work, once per unique medium: regions [U, K, D_v]."""
        u, k, _ = regions.shape
        attend = F.relu(self.att_v(regions))
        pool = F.relu(self.pool_v(regions)).view(u, k, self.glimpses, self.rank).transpose(1, 2).contiguous()
        return PreparedRegions(attend, pool)

    def forward(
        self, q: torch.Tensor, prepared: PreparedRegions, media_index: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """q [B, D]; prepared from :meth:`prepare` ([U, ...]); media_index [B] (None: U == B)."""
        attend, pool = prepared
        if media_index is not None:
            attend = attend.index_select(0, media_index)  # [B, K, r]
            pool = pool.index_select(0, media_index)  # [B, G, K, r]
        # p_g . (a_q * a_v)  ==  a_v . (a_q * p_g): fold the question into the attention weights
        # so the [B, K, r] joint tensor is never built (dropout acts on the question side)
        aq = self.dropout(F.relu(self.att_q(q)))  # [B, r]
        w = aq.unsqueeze(-1) * self.att_p.weight.t().unsqueeze(0)  # [B, r, G]
        logits = torch.baddbmm(self.att_p.bias.view(1, 1, -1), attend, w)  # [B, K, G]
        attention = torch.softmax(logits, dim=1).transpose(1, 2)  # [B, G, K]
        pooled = torch.matmul(attention.unsqueeze(2), pool).squeeze(2)  # [B, G, r]
        h = q
        for g in range(self.glimpses):
            f = F.relu(self.pool_q[g](h)) * pooled[:, g]
            h = h + self.proj[g](self.dropout(f))
        return h, attention


__all__ = ["BilinearAttentionFusion", "PreparedRegions"]
