"""Start a model from another one: every tensor that fits is loaded, the rest is reported.

``vqa-studio train --init-from MODEL.pt`` (and the train dialog) start a new model from another
project's model file. A tensor is loaded when the other model has one of the same name and shape.
Tensors indexed by the question vocabulary or by the answer classes (the word embeddings, the
classifier's output rows, the tag head) are matched **by word and by answer**, not by position: the
rows of the words and answers both projects know are copied, the others keep their fresh values. So
a model trained once on a large labelled set starts each new project knowing what it can.

The :class:`TransferReport` says what was loaded, what was matched row by row, what was new and what
did not fit.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch
from torch import nn

from ..errors import CheckpointError

#: tensors indexed by the question words / the answer classes: name -> (axis, "words" | "answers")
VOCAB_AXES: dict[str, tuple[int, str]] = {
    "question_encoder.embed.weight": (0, "words"),
    "classifier.w2": (-1, "answers"),
    "classifier.b2": (-1, "answers"),
    "tag_head.weight": (0, "answers"),
    "tag_head.bias": (0, "answers"),
}


@dataclass
class TransferReport:
    source: str
    loaded: list[str] = field(default_factory=list)  # copied whole
    remapped: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (rows matched, rows)
    new: list[str] = field(default_factory=list)  # only in this model: fresh values
    mismatched: list[str] = field(default_factory=list)  # in both, other shapes: fresh values
    unused: list[str] = field(default_factory=list)  # only in the other model

    @property
    def n_loaded(self) -> int:
        return len(self.loaded) + len(self.remapped)

    def summary(self) -> str:
        lines = [f"initialised from {self.source}: {len(self.loaded)} tensors loaded, "
                 f"{len(self.remapped)} matched by word / answer, {len(self.new)} new, "
                 f"{len(self.mismatched)} did not fit, {len(self.unused)} unused"]
        for name, (hit, rows) in sorted(self.remapped.items()):
            lines.append(f"  matched {name}: {hit} of {rows} rows")
        for title, names in (("did not fit", self.mismatched), ("new", self.new)):
            if names:
                shown = ", ".join(names[:8]) + (f", ... ({len(names) - 8} more)" if len(names) > 8 else "")
                lines.append(f"  {title}: {shown}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "loaded": len(self.loaded), "remapped": dict(self.remapped),
                "new": list(self.new), "mismatched": list(self.mismatched), "unused": len(self.unused)}


def transfer_state(net: nn.Module, source: Mapping[str, torch.Tensor], *, source_name: str = "",
                   words: tuple[Sequence[str], Sequence[str]] | None = None,
                   answers: tuple[Sequence[str], Sequence[str]] | None = None) -> TransferReport:
    """Load into ``net`` every tensor of ``source`` that fits; ``words`` / ``answers`` are the
    (source, target) vocabularies used to match the rows of :data:`VOCAB_AXES` tensors."""
    report = TransferReport(source_name)
    target = net.state_dict()
    updates: dict[str, torch.Tensor] = {}
    for name, dst in target.items():
        src = source.get(name)
        if src is None:
            report.new.append(name)
            continue
        if not isinstance(src, torch.Tensor):
            report.mismatched.append(name)
            continue
        axis_kind = VOCAB_AXES.get(name)
        vocabs = None if axis_kind is None else (words if axis_kind[1] == "words" else answers)
        if vocabs is not None:
            merged, hit = _remap_rows(src, dst, axis_kind[0], *vocabs)
            if merged is None:
                report.mismatched.append(name)
            else:
                updates[name] = merged
                report.remapped[name] = (hit, dst.shape[axis_kind[0]])
        elif src.shape == dst.shape and src.dtype.is_floating_point == dst.dtype.is_floating_point:
            updates[name] = src.to(dst.dtype)
            report.loaded.append(name)
        else:
            report.mismatched.append(name)
    report.unused = sorted(set(source) - set(target))
    if updates:
        net.load_state_dict({**target, **updates})
    return report


def _remap_rows(src: torch.Tensor, dst: torch.Tensor, axis: int, src_names: Sequence[str],
                dst_names: Sequence[str]) -> tuple[torch.Tensor | None, int]:
    """``dst`` with the slices along ``axis`` of the names both vocabularies have taken from ``src``."""
    axis = axis % dst.dim()
    other_src = [s for i, s in enumerate(src.shape) if i != axis]
    other_dst = [s for i, s in enumerate(dst.shape) if i != axis]
    if src.dim() != dst.dim() or other_src != other_dst or src.shape[axis] != len(src_names) \
            or dst.shape[axis] != len(dst_names):
        return None, 0
    index = {name: i for i, name in enumerate(src_names)}
    pairs = [(j, index[name]) for j, name in enumerate(dst_names) if name in index]
    out = dst.clone()
    if pairs:
        dj = torch.tensor([p[0] for p in pairs])
        si = torch.tensor([p[1] for p in pairs])
        out.index_copy_(axis, dj, src.index_select(axis, si).to(dst.dtype))
    return out, len(pairs)


def load_source(path: str | Path) -> dict[str, Any]:
    """The raw contents of a VQA Studio model file (weights only), for :func:`init_from_file`."""
    from .registry import read_model_file

    data = read_model_file(path)
    if not data.get("nets"):
        raise CheckpointError(f"{path}: the model file holds no networks to start from")
    return data


def init_from_file(net: nn.Module, kind: str, data: Mapping[str, Any], *, words: Sequence[str],
                   answers: Sequence[str], source_name: str = "") -> TransferReport:
    """Initialise ``net`` (a network for ``kind`` items: "image" or "cloud") from a loaded model
    file: its first member of the same kind, else of another kind (the question side, fusion and
    classifier are shared by all media; the media encoder then is reported as not fitting)."""
    nets = dict(data["nets"])
    entry = nets.get(kind) or next(iter(nets.values()))
    state = entry["members"][0]
    return transfer_state(net, state, source_name=source_name,
                          words=(list(data.get("vocab", [])), list(words)),
                          answers=(list(data.get("answers", [])), list(answers)))
