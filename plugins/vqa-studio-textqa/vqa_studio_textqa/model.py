"""A small Dynamic Memory Network (Kumar et al. 2016; Xiong et al. 2016, "DMN+") and the model
file that holds it.

* input module: each sentence is the position-weighted sum of its word embeddings (MemN2N's
  position encoding), then a bidirectional GRU over the sentences (input fusion: what came before
  and after, so "went back to" can overrule an earlier move);
* question module: a GRU over the question's words;
* episodic memory: ``episodes`` passes; in each, attention gates over the sentences (a softmax of
  scores of ``[f*q, f*m, f*a, |f-q|, |f-m|, |f-a|]``, ``a`` what the previous pass attended) drive an
  attention GRU over the sentences (DMN+), whose final state updates the memory with a GRU cell
  (``m_t = GRU(c_t, m_{t-1})``), so a second pass can look for what the first one found;
* answer module: dropout, then a linear classifier over ``[m; q]``. The dropout stays on when
  sampling (MC-dropout): T samples give probabilities ``[N, C, T]`` like the core's models.

The attention of every episode (``[E, S]`` per question) is stored with the prediction and shaded
over the story by the plugin's view.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

KIND = "textqa"
PAD, UNK = 0, 1
MAX_AGE = 200  # sentences of a story (story.MAX_SENTENCES)


class DMN(nn.Module):
    def __init__(self, n_words: int, n_answers: int, dim: int = 64, episodes: int = 3, max_words: int = 12,
                 dropout: float = 0.3):
        super().__init__()
        self.config = dict(n_words=n_words, n_answers=n_answers, dim=dim, episodes=episodes, max_words=max_words,
                           dropout=dropout)
        self.embed = nn.Embedding(n_words, dim, padding_idx=PAD)
        self.age = nn.Embedding(MAX_AGE, dim)  # how many sentences ago (MemN2N's temporal encoding)
        self.fusion = nn.GRU(dim, dim, batch_first=True, bidirectional=True)
        self.question = nn.GRU(dim, dim, batch_first=True)
        self.gate = nn.Sequential(nn.Linear(6 * dim, dim), nn.Tanh(), nn.Linear(dim, 1))
        self.episode = nn.GRUCell(dim, dim)
        self.memory = nn.GRUCell(dim, dim)
        self.answer = nn.Linear(2 * dim, n_answers)
        self.register_buffer("position", _position_encoding(max_words, dim), persistent=False)

    def encode(self, facts: torch.Tensor, n_facts: torch.Tensor, question: torch.Tensor, n_words: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """``facts`` [B, S, W] word ids, ``n_facts`` [B], ``question`` [B, L], ``n_words`` [B] ->
        (features [B, 2D] for the answer module, attention [B, E, S] of every episode)."""
        b, s, _ = facts.shape
        mask = torch.arange(s, device=facts.device)[None, :] < n_facts[:, None]
        age = (n_facts[:, None] - 1 - torch.arange(s, device=facts.device)[None, :]).clamp(0, MAX_AGE - 1)
        f = (self.embed(facts) * self.position).sum(2) + self.age(age) * mask[..., None]  # [B, S, D]
        out, _ = self.fusion(f) if self.config.get("fusion", True) else (torch.cat([f, f * 0], -1), None)
        d = f.shape[-1]
        f = out[..., :d] + out[..., d:]
        qw, _ = self.question(self.embed(question))  # [B, L, D]
        q = qw.gather(1, (n_words.clamp_min(1) - 1)[:, None, None].expand(-1, 1, d)).squeeze(1)  # at the last word
        m, a, gates = q, q, []
        qx = q[:, None, :]
        for _ in range(self.config["episodes"]):
            mx, ax = m[:, None, :], a[:, None, :]
            z = torch.cat([f * qx, f * mx, f * ax, (f - qx).abs(), (f - mx).abs(), (f - ax).abs()], -1)
            g = torch.softmax(self.gate(z).squeeze(-1).masked_fill(~mask, float("-inf")), -1)  # [B, S]
            gates.append(g)
            m = self.memory(self._episode(f, g), m)
            a = (g[..., None] * f).sum(1) / g.sum(1, keepdim=True).clamp_min(1e-6)  # what it attended, as sentences
        return torch.cat([m, q], -1), torch.stack(gates, 1)

    def _episode(self, f: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """The attention GRU of one episode: ``h_i = g_i GRU(f_i, h_{i-1}) + (1 - g_i) h_{i-1}``; a
        sentence with gate 0 leaves the state alone, and a later attended one overrules an earlier."""
        h = torch.zeros_like(f[:, 0])
        for i in range(f.shape[1]):
            gi = g[:, i:i + 1]
            h = gi * self.episode(f[:, i], h) + (1 - gi) * h
        return h

    def head(self, features: torch.Tensor, sample: bool = False) -> torch.Tensor:
        """Answer logits; ``sample``: dropout on (one MC-dropout sample)."""
        return self.answer(F.dropout(features, self.config["dropout"], training=sample or self.training))

    def forward(self, facts, n_facts, question, n_words) -> tuple[torch.Tensor, torch.Tensor]:
        features, attention = self.encode(facts, n_facts, question, n_words)
        return self.head(features), attention


def _position_encoding(words: int, dim: int) -> torch.Tensor:
    """MemN2N's position encoding ``l_kj = (1 - j/J) - (k/d)(1 - 2j/J)``, [W, D]."""
    j = torch.arange(1, words + 1, dtype=torch.float32)[:, None]
    k = torch.arange(1, dim + 1, dtype=torch.float32)[None, :]
    return (1 - j / words) - (k / dim) * (1 - 2 * j / words)


@dataclass
class TextQAModel:
    """A registered model version of the story medium: ``members`` (an ensemble of one or more
    DMNs), the word list, the answers, the calibration temperature and what the registry keeps."""

    version: str
    words: list[str]
    answers: list[str]
    members: list[DMN]
    temperature: float = 1.0
    parent: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    snapshot: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""
    kind: str = KIND

    def __post_init__(self) -> None:
        self._word_index = {w: i for i, w in enumerate(self.words)}
        self._answer_index = {a: i for i, a in enumerate(self.answers)}

    @property
    def nets(self) -> dict:
        """The kinds of item it answers, as ``ModelBundle.nets`` names them."""
        from vqa_studio.core.types import ItemKind

        return {ItemKind("story"): None}

    @property
    def max_words(self) -> int:
        return int(self.members[0].config["max_words"])

    def word_id(self, word: str) -> int:
        return self._word_index.get(word, UNK)

    def answer_index(self, answer: str | None) -> int:
        return self._answer_index.get(answer, -1) if answer is not None else -1

    def state(self) -> dict[str, Any]:
        from vqa_studio import __version__
        from vqa_studio.core.model.registry import FORMAT, FORMAT_VERSION

        return {"format": FORMAT, "format_version": FORMAT_VERSION, "app_version": __version__, "kind": KIND,
                "version": self.version, "parent": self.parent, "created_at": self.created_at,
                "config": dict(self.members[0].config), "words": list(self.words), "answers": list(self.answers),
                "members": [{k: v.detach().cpu() for k, v in m.state_dict().items()} for m in self.members],
                "temperature": float(self.temperature), "metrics": self.metrics, "training": self.training,
                "snapshot": self.snapshot}

    def save(self, path: str | Path) -> Path:
        from vqa_studio.core.model.registry import save_atomic

        return save_atomic(self.state(), Path(path))


def from_data(data: dict[str, Any], path: Path) -> TextQAModel:
    """The model a read ``kind: "textqa"`` model file holds; a misfit is a ``CheckpointError`` naming ``path``."""
    from vqa_studio.core.errors import CheckpointError

    try:
        config = dict(data["config"])
        words, answers = [str(w) for w in data["words"]], [str(a) for a in data["answers"]]
        if config["n_words"] != len(words) or config["n_answers"] != len(answers):
            raise ValueError(f"the network expects {config['n_words']} words and {config['n_answers']} answers, "
                             f"the file lists {len(words)} and {len(answers)}")
        members = []
        for sd in data["members"]:
            net = DMN(**config)
            net.load_state_dict(sd)
            members.append(net.eval())
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: not a readable text-QA model ({type(exc).__name__}: {exc})") from None
    if not members:
        raise CheckpointError(f"{path}: the file holds no networks")
    return TextQAModel(str(data.get("version")), words, answers, members, float(data.get("temperature", 1.0)),
                       data.get("parent"), dict(data.get("metrics") or {}), dict(data.get("training") or {}),
                       dict(data.get("snapshot") or {}), str(data.get("created_at", "")))
