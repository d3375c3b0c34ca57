"""Media added by plugins: where the core hands an item of a kind it does not know to the medium.

A plugin adds a medium with ``registry.add_medium(name, extensions=..., probe=..., train=...,
score=..., load=..., view=...)`` (see ``registry.MediumSpec``). The core asks here, at one line each:

* importing (``data.media.kind_of`` / ``probe``): which medium a file suffix is, and checks the file
  with the medium's ``probe``;
* training (``train.pipeline``): when the project's labelled training questions are of a plugin's
  medium, its ``train`` generator is the run (same run record, cancel and failure handling);
* scoring (``active.scoring.score_pool``) and loading model files (``model.registry.load_bundle``):
  a model whose ``kind`` is a plugin medium's ``model_kind`` is loaded and scored by the medium.

The built-in media (``image``, ``cloud``) are registered the same way with no targets: the core's
own code serves them. No Qt here (the GUI reads ``MediumSpec.view`` itself).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .registry import MediumSpec, default_registry, resolve
from .types import ItemKind

__all__ = ["plugin_media", "plugin_medium", "kind_of_suffix", "probe", "training_medium", "training_run",
           "medium_of_model", "load_model", "predict_answers"]


def plugin_media() -> list[MediumSpec]:
    """The registered media that are not built in."""
    return [m for m in default_registry().media.values() if not ItemKind(m.name).builtin]


def plugin_medium(kind: ItemKind | str) -> MediumSpec | None:
    """The spec of ``kind`` when a plugin added it (None for image, cloud or an unknown name)."""
    name = kind.value if isinstance(kind, ItemKind) else str(kind)
    spec = default_registry().media.get(name)
    return spec if spec is not None and not ItemKind(spec.name).builtin else None


def kind_of_suffix(suffix: str) -> ItemKind | None:
    """The plugin medium whose files end in ``suffix`` (``.story``), or None."""
    spec = default_registry().medium_of_suffix(suffix)
    return ItemKind(spec.name) if spec is not None and not ItemKind(spec.name).builtin else None


def probe(kind: ItemKind, path: Path):
    """Check a file of a plugin medium at import: its ``probe(path) -> MediaInfo`` (raises
    ``BadInputError`` naming the file)."""
    from .errors import BadInputError

    spec = plugin_medium(kind)
    if spec is None or spec.probe is None:
        raise BadInputError(path, f"no registered medium can check '{path.suffix}' files")
    return resolve(spec.probe)(Path(path))


def training_medium(project) -> MediumSpec | None:
    """The plugin medium that trains this project: the one with labelled training questions (None:
    the core trains image / cloud networks). Costs nothing when no plugin adds a medium."""
    media = [m for m in plugin_media() if m.train is not None]
    if not media:
        return None
    from .data.dataset import Snapshot

    snapshot = Snapshot.load(project)
    present = {qa.kind.value for qa in snapshot.labelled(["train"])}
    return next((m for m in media if m.name in present), None)


def training_run(project, args, run_id: int, version: str, path: Path, curves: list, t0: float):
    """The training generator of the plugin medium that trains this project (``training_medium``),
    or None when the core trains it."""
    medium = training_medium(project)
    return None if medium is None else resolve(medium.train)(project, args, run_id, version, path, curves, t0)


def predict_answers(model: Any, snapshot, questions, entropy: dict | None = None) -> dict | None:
    """``{question id: (answer, probability)}`` from a plugin medium's model (its ``predict``), or
    None for the core's models."""
    medium = medium_of_model(model)
    if medium is None or medium.predict is None:
        return None
    return resolve(medium.predict)(model, snapshot, questions, entropy)


def medium_of_model(model: Any) -> MediumSpec | None:
    """The plugin medium a loaded model belongs to (its ``kind``), or None for the core's models."""
    spec = default_registry().medium_of_model(getattr(model, "kind", None))
    return spec if spec is not None and spec.score is not None else None


def load_model(data: dict[str, Any], path: Path) -> Any | None:
    """A plugin medium's model rebuilt from a read model file, or None when the file is not one."""
    spec = default_registry().medium_of_model(data.get("kind"))
    return None if spec is None else resolve(spec.load)(data, Path(path))
