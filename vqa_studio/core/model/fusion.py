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


# --- multi-step reasoning fusion --------------------------------------------------------------------------


class PreparedSteps(NamedTuple):
    keys: torch.Tensor  # [U, G, K, r]   ReLU(V_g v): what each step's attention scores
    values: torch.Tensor  # [U, G, K, r] ReLU(V'_g v): what each step reads
    positions: torch.Tensor  # [U, K, c]  region centres, normalised per medium (zero mean, unit spread)


class ReasoningFusion(nn.Module):
    """G reasoning steps over the K regions; each step reads a phrase of the question, attends, counts
    and writes into a memory vector (a compact MAC / BAN hybrid). Per step g, with ``h`` the memory
    (starting as the question vector ``q``) and ``w_t`` the question encoder's per-word outputs:

    * **read** (which words matter now): ``c_g = sum_t softmax_t(w_t . R_g h) w_t``;
    * **attend**: ``a_g = ReLU(U_g [c_g, h])``; logits ``l_gk = ReLU(V_g v_k) . (a_g * p_g) + b_g`` plus,
      from the second step on, a **relation** term ``phi(x_k - x_prev) . W_g a_g`` where ``x_prev`` is
      where the previous step looked (its attention-weighted region position) and ``phi`` a small MLP
      of the offset (dx, dy, |dx|, |dy|, distance): "the thing to the left of the X" is step 1 on X,
      step 2 on objects with dx < 0, nearest first;
    * **count**: a second, sigmoid-gated channel of the same bilinear scores, summed over the regions
      (unnormalised, so it can count: softmax attention cannot), fed to the memory as soft one-hot bins
      ``max(0, 1 - |n - count|)``, n = 0..max_count;
    * **write**: ``h <- h + P_g [ReLU(U'_g [c_g, h]) * sum_k A_gk ReLU(V'_g v_k), count bins]``.

    Attention ``[B, G, K]`` is the softmax channel of every step (what the GUI draws). All region-only
    work (``V_g v``, ``V'_g v``, normalised positions) runs once per unique medium in :meth:`prepare`.
    Plain ``nn.Linear`` layers and ``nn.Parameter`` only, so dynamic int8 quantization applies.
    """

    def __init__(self, q_dim: int, v_dim: int, rank: int = 128, glimpses: int = 2, dropout: float = 0.0,
                 centre_dim: int = 2, rel_hidden: int = 32, max_count: int = 10):
        super().__init__()
        if glimpses < 1:
            raise ValueError("glimpses must be >= 1")
        self.glimpses, self.rank, self.max_count = glimpses, rank, max_count
        self.att_v = nn.Linear(v_dim, glimpses * rank)
        self.pool_v = nn.Linear(v_dim, glimpses * rank)
        self.read = nn.ModuleList(nn.Linear(q_dim, q_dim) for _ in range(glimpses))
        self.att_q = nn.ModuleList(nn.Linear(2 * q_dim, 2 * rank) for _ in range(glimpses))  # FiLM gamma, beta
        self.pool_q = nn.ModuleList(nn.Linear(2 * q_dim, rank) for _ in range(glimpses))
        self.att_p = nn.Parameter(torch.empty(glimpses, rank, 2))  # channel 0: softmax, 1: sigmoid count
        nn.init.normal_(self.att_p, std=rank ** -0.5)
        bias = torch.zeros(glimpses, 2)
        bias[:, 1] = -4.0  # the count gates start mostly closed (about one region of 64 open)
        self.att_b = nn.Parameter(bias)
        self.rel_in = nn.Linear(2 * centre_dim + 1, rel_hidden)
        self.rel_q = nn.ModuleList(nn.Linear(2 * q_dim, rel_hidden) for _ in range(max(0, glimpses - 1)))
        self.proj = nn.ModuleList(nn.Linear(2 * rank + max_count + 1, q_dim) for _ in range(glimpses))
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("bins", torch.arange(max_count + 1, dtype=torch.float32), persistent=False)

    def prepare(self, regions: torch.Tensor, centres: torch.Tensor) -> PreparedSteps:
        u, k, _ = regions.shape
        g, r = self.glimpses, self.rank
        keys = self.att_v(regions).view(u, k, g, r).transpose(1, 2).contiguous()
        values = F.relu(self.pool_v(regions)).view(u, k, g, r).transpose(1, 2).contiguous()
        return PreparedSteps(keys, values, _normalised_positions(centres, regions.dtype))

    def forward(self, question, prepared: PreparedSteps, media_index: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """question: QuestionFeatures (vector [B, D], tokens [B, L, D], mask [B, L]); prepared from
        :meth:`prepare` ([U, ...]); media_index [B] (None: U == B) -> (fused [B, D], attention [B, G, K]).

        The region side is never copied per question: the questions are laid out in a padded
        [U, Q, ...] grid (Q = most questions of one medium in the batch) so each step is one batched
        product per medium, and gathered back to [B, ...] afterwards.
        """
        q, words, mask = question
        keys, values, pos = prepared
        b = q.shape[0]
        u, _, k, r = keys.shape
        flat, slots = _slots(media_index, u, b)
        pos_b = pos.index_select(0, media_index) if media_index is not None else pos  # [B, K, c]
        scale = words.shape[-1] ** -0.5
        neg = torch.finfo(words.dtype).min
        h = q
        att_out, where = [], None
        for g in range(self.glimpses):
            s = torch.bmm(words, self.read[g](h).unsqueeze(-1)).squeeze(-1) * scale  # [B, L]
            c = torch.bmm(torch.softmax(s.masked_fill(~mask, neg), -1).unsqueeze(1), words).squeeze(1)  # [B, D]
            ch = torch.cat([c, h], -1)
            gamma, beta = self.att_q[g](ch).chunk(2, -1)  # [B, r] each
            kb = keys[:, g].index_select(0, media_index) if media_index is not None else keys[:, g]  # [B, K, r]
            z = self.dropout(F.relu(kb * (1.0 + gamma).unsqueeze(1) + beta.unsqueeze(1)))  # [B, K, r]
            logits = (z @ self.att_p[g] + self.att_b[g]).transpose(1, 2)  # [B, 2, K]
            att_logits = logits[:, 0]
            if where is not None:
                att_logits = att_logits + _relation(self.rel_in, self.rel_q[g - 1](ch), pos_b, where)
            att = torch.softmax(att_logits, dim=-1)  # [B, K]
            count = torch.sigmoid(logits[:, 1]).sum(-1, keepdim=True).clamp(max=float(self.max_count))
            bins = F.relu(1.0 - (count - self.bins).abs())  # [B, max_count + 1]
            pooled = torch.bmm(_pad(att, flat, u * slots).view(u, slots, k), values[:, g])  # [U, Q, r]
            pooled = _unpad(pooled.reshape(u * slots, r), flat)  # [B, r]
            f = F.relu(self.pool_q[g](ch)) * pooled
            h = h + self.proj[g](torch.cat([self.dropout(f), z.amax(1), bins], -1))
            where = torch.bmm(att.unsqueeze(1), pos_b).squeeze(1)  # [B, c]
            att_out.append(att)
        return h, torch.stack(att_out, 1)


def _normalised_positions(centres: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Region centres [U, K, c] -> zero mean and unit RMS spread per medium."""
    c = centres.to(dtype)
    c = c - c.mean(1, keepdim=True)
    spread = c.pow(2).sum(-1).mean(1, keepdim=True).clamp_min(1e-12).sqrt().unsqueeze(-1)  # [U, 1, 1]
    return c / spread


def _relation(rel_in: nn.Linear, weights: torch.Tensor, pos: torch.Tensor, where: torch.Tensor) -> torch.Tensor:
    """Relation logits [B, K]: an MLP of each region's offset from where the previous step looked
    (dx, dy(, dz), |d.|, distance), weighted per question by ``weights`` [B, H]."""
    d = pos - where.unsqueeze(1)  # [B, K, c]
    feats = torch.cat([d, d.abs(), (d.pow(2).sum(-1, keepdim=True) + 1e-6).sqrt()], -1)
    phi = F.relu(rel_in(feats))  # [B, K, H]
    return torch.bmm(phi, weights.unsqueeze(-1)).squeeze(-1)


def _slots(media_index: torch.Tensor | None, u: int, b: int) -> tuple[torch.Tensor | None, int]:
    """(row of each question in a padded [U * Q] layout, Q): question i goes to medium m_i's next free slot."""
    if media_index is None:
        return None, 1
    counts = torch.bincount(media_index, minlength=u)
    q = int(counts.max()) if b else 1
    order = torch.argsort(media_index, stable=True)
    starts = torch.cumsum(counts, 0) - counts
    slot = torch.empty_like(media_index)
    slot[order] = torch.arange(b, device=media_index.device) - starts[media_index[order]]
    return media_index * q + slot, q


def _pad(x: torch.Tensor, flat: torch.Tensor | None, rows: int) -> torch.Tensor:
    """[B, ...] -> [rows, ...] with question i at row flat[i], zeros elsewhere."""
    if flat is None:
        return x
    return x.new_zeros((rows,) + tuple(x.shape[1:])).index_copy(0, flat, x)


def _unpad(x: torch.Tensor, flat: torch.Tensor | None) -> torch.Tensor:
    return x if flat is None else x.index_select(0, flat)


__all__ += ["ReasoningFusion", "PreparedSteps"]


class PreparedConcepts(NamedTuple):
    keys: torch.Tensor  # [U, K, J]  log sigmoid(concept scores): log P(region k shows concept j)
    objectness: torch.Tensor  # [U, K]  log P(region k is the centre of an object)
    probs: torch.Tensor  # [U, K, J]  sigmoid(concept scores), what a step reads
    values: torch.Tensor  # [U, K, r] ReLU(V' v)
    positions: torch.Tensor  # [U, K, c]


class ConceptFusion(nn.Module):
    """Soft, differentiable filter programs over K regions (counting and relations included).

    Each region k gets J latent **concepts** ``P_kj = sigmoid(C v_k)`` and an **objectness**
    ``o_k = sigmoid(o . v_k + b)``. A step g picks non-negative concept weights ``w_g =
    softplus(W_g [c_g, q])`` from the phrase it reads (``c_g``, attention over the question's words)
    and the question vector ``q``, and scores every region by the log of a soft conjunction::

        l_gk = log o_k + sum_j w_gj log P_kj          (= log of o_k * prod_j P_kj ** w_gj)

    so "large red circle" is an AND of three concepts. From those scores, at no extra cost:

    * ``count_g = sum_k exp(l_gk)``, the expected number of matching objects (an exact count when the
      objectness marks one region per object and the concepts are sure), fed to the memory as soft
      one-hot bins, plus the bins of ``count_g - count_{g-1}`` (more / fewer / same);
    * attention ``A_g = softmax_k(l_gk + rel_gk)``, which reads the attended object's concepts and
      features; ``rel_gk`` scores region k's offset from where the *phrase* of the step before
      (cyclically: the last step, for the first) points, ``softmax_k(l_{g-1,k})`` (dx, dy, |dx|,
      |dy|, distance: a small MLP, weighted by the step's phrase). "The thing to the left of the X"
      is one step on X and the other on things, nearest on the left of X, in either order: the
      reading need not learn which phrase comes first, and a step with no relation learns to
      weight it by zero. (Matching runs for all steps before attending, so this is not circular.)

    The memory ``h`` (the question vector at first) is updated each step with the read features,
    the counts and the change of the read concepts since the previous step (bigger / smaller).
    Region-side work runs once per unique medium (:meth:`prepare`); per question only [K, J] x [J]
    products, laid out per medium (no per-question copy of the regions).
    """

    def __init__(self, q_dim: int, v_dim: int, rank: int = 64, glimpses: int = 2, dropout: float = 0.0,
                 centre_dim: int = 2, rel_hidden: int = 32, max_count: int = 10):
        super().__init__()
        if glimpses < 1:
            raise ValueError("glimpses must be >= 1")
        self.glimpses, self.rank, self.max_count = glimpses, rank, max_count
        j = rank
        self.concepts = nn.Linear(v_dim, j)
        self.objectness = nn.Linear(v_dim, 1)
        nn.init.constant_(self.objectness.bias, -2.0)
        self.pool_v = nn.Linear(v_dim, rank)
        self.read = nn.ModuleList(nn.Linear(2 * q_dim, q_dim) for _ in range(glimpses))
        # a later step reads other words than the earlier ones did ("inhibition of return"): the
        # attention each word already had lowers its score by softplus(inhibit) per unit
        self.inhibit = nn.Parameter(torch.tensor(3.0))
        self.select = nn.ModuleList(nn.Linear(2 * q_dim, j) for _ in range(glimpses))
        for lin in self.select:
            nn.init.constant_(lin.bias, -2.0)  # few concepts required at first
        self.pool_q = nn.ModuleList(nn.Linear(2 * q_dim, rank) for _ in range(glimpses))
        self.offset = nn.Linear(v_dim, centre_dim)  # where in its cell the region's content is
        nn.init.zeros_(self.offset.weight)
        nn.init.zeros_(self.offset.bias)
        self.rel_in = nn.Linear(2 * centre_dim + 1, rel_hidden)
        self.rel_q = nn.ModuleList(nn.Linear(2 * q_dim, rel_hidden) for _ in range(glimpses if glimpses > 1 else 0))
        n_bins = max_count + 1
        self.proj = nn.ModuleList(nn.Linear(rank + 2 * j + n_bins + 2 * max_count + 1, q_dim) for _ in range(glimpses))
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("bins", torch.arange(n_bins, dtype=torch.float32), persistent=False)
        self.register_buffer("diff_bins", torch.arange(-max_count, max_count + 1, dtype=torch.float32) / 1.0,
                             persistent=False)

    def prepare(self, regions: torch.Tensor, centres: torch.Tensor) -> PreparedConcepts:
        s = self.concepts(regions)
        # positions refined by a learned offset from the region's features: objects closer than a
        # grid cell can still be told left from right
        return PreparedConcepts(F.logsigmoid(s), F.logsigmoid(self.objectness(regions)).squeeze(-1), torch.sigmoid(s),
                                F.relu(self.pool_v(regions)),
                                _normalised_positions(centres, regions.dtype) + self.offset(regions))

    def forward(self, question, prepared: PreparedConcepts, media_index: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """-> (fused [B, D], attention [B, G, K], expected counts [B, G]: each step's ``sum_k exp(l_gk)``,
        what :func:`~vqa_studio.core.model.net.count_loss` supervises with the answers of count questions)."""
        q, words, mask = question
        keys, obj, probs, values, pos = prepared
        b = q.shape[0]
        u, k, j = keys.shape
        flat, slots = _slots(media_index, u, b)
        if media_index is not None:
            obj_b, pos_b = obj.index_select(0, media_index), pos.index_select(0, media_index)
        else:
            obj_b, pos_b = obj, pos
        scale = words.shape[-1] ** -0.5
        neg = torch.finfo(words.dtype).min
        # 1) reading and matching, every step: which words (from the question and the previous step's
        # phrase, not from what was seen), which concepts, how well each region matches, how many do
        c = torch.zeros_like(q)
        read_so_far = torch.zeros_like(mask, dtype=words.dtype)  # [B, L]
        phrases, matches, counts = [], [], []
        for g in range(self.glimpses):
            s = torch.bmm(words, self.read[g](torch.cat([q, c], -1)).unsqueeze(-1)).squeeze(-1) * scale  # [B, L]
            alpha = torch.softmax((s - F.softplus(self.inhibit) * read_so_far).masked_fill(~mask, neg), -1)
            read_so_far = read_so_far + alpha
            c = torch.bmm(alpha.unsqueeze(1), words).squeeze(1)  # [B, D]
            cq = torch.cat([c, q], -1)
            w = F.softplus(self.select[g](cq))  # [B, J] >= 0
            match = torch.bmm(keys, _pad(w, flat, u * slots).view(u, slots, j).transpose(1, 2))  # [U, K, Q]
            match = _unpad(match.transpose(1, 2).reshape(u * slots, k), flat) + obj_b  # [B, K], <= 0
            phrases.append((c, cq))
            matches.append(match)
            counts.append(match.exp().sum(-1, keepdim=True))  # [B, 1]
        # where each step's phrase alone points (its match as attention): what relations are taken from
        where = [torch.bmm(torch.softmax(m, -1).unsqueeze(1), pos_b).squeeze(1) for m in matches]
        # 2) attend, with each step's relation to where the step before it (the last, for the first) points,
        # so "the thing left of the X" works whichever step reads "the X"; read; write into the memory
        h = q
        att_out, prev_count, prev_read = [], None, None
        for g in range(self.glimpses):
            c, cq = phrases[g]
            logits = matches[g]
            if self.glimpses > 1:
                logits = logits + _relation(self.rel_in, self.rel_q[g](cq), pos_b, where[g - 1])
            att = torch.softmax(logits, dim=-1)  # [B, K]
            att_pad = _pad(att, flat, u * slots).view(u, slots, k)
            read = _unpad(torch.bmm(att_pad, probs).reshape(u * slots, j), flat)  # [B, J]
            pooled = _unpad(torch.bmm(att_pad, values).reshape(u * slots, -1), flat)  # [B, r]
            ch = torch.cat([c, h], -1)
            f = F.relu(self.pool_q[g](ch)) * pooled
            cnt = counts[g].clamp(max=float(self.max_count))
            bins = F.relu(1.0 - (cnt - self.bins).abs())
            if prev_count is None:
                dbins = torch.zeros_like(torch.cat([bins, bins[:, 1:]], -1))
                dread = torch.zeros_like(read)
            else:
                dbins = F.relu(1.0 - ((cnt - prev_count) - self.diff_bins).abs())
                dread = read - prev_read
            h = h + self.proj[g](torch.cat([self.dropout(f), read, dread, bins, dbins], -1))
            prev_count, prev_read = cnt, read
            att_out.append(att)
        return h, torch.stack(att_out, 1), torch.cat(counts, 1)


__all__ += ["ConceptFusion", "PreparedConcepts"]
