"""A ViLT proposer as a registered model version: what a ``vilt:<source>`` model file holds.

The file is a weights-only ``torch.save`` dict like every model file (``registry.FORMAT``), with
``kind: "vilt"``: the proposer's state (``ViltProposer.state()``: what fine-tuning changed, checked
against the source model when loaded), the version, its parent, metrics and training settings. The
source model itself (the user's folder or Hugging Face cache) is not copied.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..types import ItemKind
from .vilt import PREFIX, ViltProposer

KIND = "vilt"


@dataclass
class ViltModel:
    version: str
    proposer: ViltProposer
    parent: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    snapshot: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""
    kind: str = KIND

    @property
    def nets(self) -> dict[ItemKind, None]:
        """The kinds of item it answers (image questions), as ``ModelBundle.nets`` names them."""
        return {ItemKind.IMAGE: None}

    @property
    def name(self) -> str:
        return PREFIX + str(self.proposer.source)

    def state(self) -> dict[str, Any]:
        from ... import __version__
        from .registry import FORMAT, FORMAT_VERSION

        return {"format": FORMAT, "format_version": FORMAT_VERSION, "app_version": __version__, "kind": KIND,
                "version": self.version, "parent": self.parent, "created_at": self.created_at,
                "vilt": self.proposer.state(), "metrics": self.metrics, "training": self.training,
                "snapshot": self.snapshot}

    def save(self, path: str | Path) -> Path:
        from .registry import save_atomic

        return save_atomic(self.state(), Path(path))


def is_vilt_model(model: Any) -> bool:
    return getattr(model, "kind", None) == KIND


def from_data(data: dict[str, Any], path: Path) -> ViltModel:
    """The model a loaded ``kind: "vilt"`` file describes (its source model loaded from the user's
    folder or cache); a file that does not fit is a ``CheckpointError`` naming ``path``."""
    from ..errors import BadInputError, CheckpointError

    try:
        proposer = ViltProposer.from_state(None, data["vilt"])
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"{path}: the ViLT state in the file is damaged ({exc})") from None
    except (BadInputError, CheckpointError) as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    return ViltModel(str(data.get("version")), proposer, data.get("parent"), dict(data.get("metrics") or {}),
                     dict(data.get("training") or {}), dict(data.get("snapshot") or {}), str(data.get("created_at", "")))
