"""The one registry: formats, acquisition functions, media and question encoders, model kinds.

Built-ins and plugins register the same way, through a ``register(registry)`` function
(``core/builtins.py`` for what ships with the app, an entry point for a plugin, see ``plugins.py``)::

    def register(registry):
        registry.add_format("jsonl", reader="my_pkg.fmt:read", writer="my_pkg.fmt:write",
                            description="JSON Lines")
        registry.add_acquisition("max_var", "my_pkg.acq:max_var")
        registry.add_media_encoder("my_net", "my_pkg.nets:my_net", modality="image")
        registry.add_medium("story", extensions=(".story",), probe="my_pkg.media:probe",
                            train="my_pkg.train:run", score="my_pkg.score:score_pool",
                            load="my_pkg.model:from_data", view="my_pkg.qt:StoryPage")

Implementations are named as ``"module:attr"`` strings, imported the first time they are used, so
registering is cheap (no torch, no Qt). Every name lives in one namespace; registering a name twice
raises ``ValueError`` unless ``replace=True``. ``default_registry()`` is the registry the app uses:
made on first use with the built-ins in it; plugins are added to it at start by
``plugins.load_plugins()``. No Qt here.

Format conventions (``FormatSpec.carries``):

* ``"questions"``: ``read(*values)`` gets the values of ``import_fields`` in order (the first one is
  required) and yields ``Record`` / ``BadRecord``; ``write(data, out, [copy_images=])`` gets
  ``Project.export_rows(splits)`` (``export_source="rows"``) or ``Project.export_items(splits)``
  (``"items"``) and returns a path or a list of paths; with ``export_source="project"`` it gets
  ``(project, out, splits, [copy_images=])`` like a cuboids writer (an exporter that also writes the
  model's predictions, e.g. Label Studio's).
* ``"cuboids"``: ``read(project, *values)`` is a generator of ``Progress`` returning a report with a
  ``summary()``; ``write(project, out, splits, [copy_images=])`` returns the paths written.
"""
from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "BUILTIN",
    "FIELDS",
    "EncoderSpec",
    "FormatSpec",
    "MediumSpec",
    "ModelKindSpec",
    "NamespaceView",
    "Registry",
    "default_registry",
    "resolve",
]

BUILTIN = "built-in"

#: The import fields a format may ask for: ``name -> (CLI flag, what it is)``.
FIELDS: dict[str, tuple[str, str]] = {
    "questions": ("--questions", "questions JSON file"),
    "annotations": ("--annotations", "annotations JSON file (optional: answers)"),
    "input": ("--input", "input file or folder"),
    "images": ("--images", "folder of images / point clouds"),
    "image_pattern": ("--image-pattern", "image file name pattern"),
    "split": ("--split", "split of the imported items"),
}


def resolve(target: str | Callable) -> Any:
    """A callable as given, or the object a ``"module:attr"`` string names (imported now)."""
    if not isinstance(target, str):
        return target
    module, _, attr = target.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attr.split(".") if attr else ():
        obj = getattr(obj, part)
    return obj


@dataclass
class _Entry:
    """One registered implementation; ``get()`` imports it on first use and keeps it."""

    name: str
    target: str | Callable
    source: str = BUILTIN
    _obj: Any = field(default=None, repr=False)

    def get(self) -> Any:
        if self._obj is None:
            self._obj = resolve(self.target)
        return self._obj


@dataclass
class FormatSpec:
    name: str
    reader: str | Callable | None = None
    writer: str | Callable | None = None
    description: str = ""
    carries: str = "questions"  # "questions" (questions and answers) or "cuboids"
    label: str = ""  # shown in the GUI (default: the description, else the name)
    import_fields: tuple[str, ...] = ("input", "images", "split")  # of FIELDS; the first is required
    export_source: str = "rows"  # questions formats: "rows", "items" or "project"
    copies_media: bool = False  # the writer takes ``copy_images=``
    source: str = BUILTIN

    @property
    def can_import(self) -> bool:
        return self.reader is not None

    @property
    def can_export(self) -> bool:
        return self.writer is not None

    @property
    def title(self) -> str:
        return self.label or self.description or self.name

    def read(self, *args, **kwargs):
        if self.reader is None:
            raise NotImplementedError(f"the {self.name} format cannot import")
        return resolve(self.reader)(*args, **kwargs)

    def write(self, *args, **kwargs):
        if self.writer is None:
            raise NotImplementedError(f"the {self.name} format cannot export")
        return resolve(self.writer)(*args, **kwargs)


@dataclass
class EncoderSpec(_Entry):
    """A media or question encoder factory. ``available`` False (or a callable returning False) lists
    it as unavailable, with ``error`` and the ``install`` command that would make it work."""

    modality: str = ""  # media encoders: "image" or "cloud"
    description: str = ""
    available: bool | Callable[[], bool] = True
    error: str = ""
    install: str = ""

    def is_available(self) -> bool:
        ok = self.available
        if callable(ok):
            try:
                ok = bool(ok())
            except Exception as exc:  # noqa: BLE001 - a failing probe means "not available", with why
                self.error = self.error or f"{type(exc).__name__}: {exc}"
                ok = False
        return bool(ok)


@dataclass
class ModelKindSpec:
    """A kind of model the app trains: the item kind it reads, its default media encoder and the
    ``TrainingArgs`` field that names the encoder."""

    name: str
    modality: str
    default_encoder: str
    encoder_arg: str
    description: str = ""
    source: str = BUILTIN


@dataclass
class MediumSpec:
    """A kind of item (``ItemKind``): the file suffixes it is imported from and, for a plugin's
    medium, the implementations the core dispatches to (``core/media_kinds.py``). The built-ins
    (``image``, ``cloud``) register the same way with the core's own code behind them (no targets).

    * ``probe(path) -> data.media.MediaInfo`` checks a file at import (raises ``BadInputError``);
    * ``train(project, args, run_id, version, path, curves, t0)`` is the training run's generator
      (returns a ``TrainOutcome``) when the project's labelled training questions are of this medium;
    * ``score(project, model, args, snapshot, activate_proposals)`` scores the pool (probabilities
      ``[N, C, T]`` through the core's acquisition functions; returns a ``ScoreResult``);
    * ``load(data, path)`` rebuilds a model from a model file whose ``kind`` is ``model_kind``;
    * ``predict(model, snapshot, questions, entropy=None)`` -> ``{question id: (answer, probability)}``
      for ``vqa-studio evaluate`` (``entropy``, when given, receives each question's entropy);
    * ``view(window)`` makes the Qt page that shows the medium's items (``show_item(details)``).
    """

    name: str
    extensions: tuple[str, ...] = ()
    probe: str | Callable | None = None
    train: str | Callable | None = None
    score: str | Callable | None = None
    load: str | Callable | None = None
    predict: str | Callable | None = None
    view: str | Callable | None = None
    model_kind: str = ""  # the ``kind`` its model files carry (default: the medium's name)
    description: str = ""
    source: str = BUILTIN

    def __post_init__(self) -> None:
        self.extensions = tuple(e.lower() if e.startswith(".") else "." + e.lower() for e in self.extensions)
        self.model_kind = self.model_kind or self.name


class Registry:
    """Namespaces by name: ``formats``, ``acquisitions``, ``media_encoders``, ``question_encoders``,
    ``model_kinds``, ``media``; ``plugins`` lists the plugins offered to it (``plugins.PluginInfo``)."""

    def __init__(self) -> None:
        self.formats: dict[str, FormatSpec] = {}
        self.acquisitions: dict[str, _Entry] = {}
        self.media_encoders: dict[str, EncoderSpec] = {}
        self.question_encoders: dict[str, EncoderSpec] = {}
        self.model_kinds: dict[str, ModelKindSpec] = {}
        self.media: dict[str, MediumSpec] = {}
        self.plugins: list = []
        self.plugins_discovered = False
        self.source = BUILTIN  # who is registering now

    def _put(self, space: dict, name: str, value, replace: bool, what: str) -> None:
        if name in space and not replace:
            raise ValueError(f"{what} named {name!r} is already registered")
        space[name] = value

    def add_format(self, name: str, reader: str | Callable | None = None, writer: str | Callable | None = None,
                   description: str = "", *, replace: bool = False, **options) -> FormatSpec:
        """A format (see the module docstring); ``options`` are the other ``FormatSpec`` fields."""
        spec = FormatSpec(name, reader, writer, description, source=self.source, **options)
        if spec.carries not in ("questions", "cuboids"):
            raise ValueError(f"format {name!r}: carries must be 'questions' or 'cuboids', not {spec.carries!r}")
        unknown = [f for f in spec.import_fields if f not in FIELDS]
        if unknown:
            raise ValueError(f"format {name!r}: unknown import fields {unknown} (known: {', '.join(FIELDS)})")
        self._put(self.formats, name, spec, replace, "a format")
        return spec

    def add_acquisition(self, name: str, fn: str | Callable, *, replace: bool = False) -> None:
        """An acquisition function ``probs [N, C, T] -> scores [N]`` (higher = more informative)."""
        self._put(self.acquisitions, name, _Entry(name, fn, self.source), replace, "an acquisition function")

    def add_media_encoder(self, name: str, factory: str | Callable, *, modality: str = "image",
                          replace: bool = False, **options) -> EncoderSpec:
        """``factory(out_dim, dropout, **options) -> nn.Module``; ``options``: description,
        available, error, install (see ``EncoderSpec``)."""
        spec = EncoderSpec(name, factory, self.source, modality=modality, **options)
        self._put(self.media_encoders, name, spec, replace, "a media encoder")
        return spec

    def add_question_encoder(self, name: str, factory: str | Callable, *, replace: bool = False,
                             **options) -> EncoderSpec:
        """``factory(vocab_size, word_dim, out_dim, dropout, **options) -> nn.Module``."""
        spec = EncoderSpec(name, factory, self.source, **options)
        self._put(self.question_encoders, name, spec, replace, "a question encoder")
        return spec

    def add_model_kind(self, name: str, modality: str, default_encoder: str, encoder_arg: str,
                       description: str = "", *, replace: bool = False) -> None:
        spec = ModelKindSpec(name, modality, default_encoder, encoder_arg, description, self.source)
        self._put(self.model_kinds, name, spec, replace, "a model kind")

    def add_medium(self, name: str, *, extensions: tuple[str, ...] | list[str] = (), replace: bool = False,
                   **options) -> MediumSpec:
        """A kind of item (see ``MediumSpec``); ``ItemKind(name)`` is valid from now on. A suffix
        already claimed by another medium is refused."""
        from .types import ItemKind

        spec = MediumSpec(name, tuple(extensions), source=self.source, **options)
        taken = {e: m.name for m in self.media.values() if m.name != name for e in m.extensions}
        clash = [f"{e} ({taken[e]})" for e in spec.extensions if e in taken]
        if clash:
            raise ValueError(f"medium {name!r}: file suffixes already taken: {', '.join(clash)}")
        ItemKind.add(name)
        self._put(self.media, name, spec, replace, "a medium")
        return spec

    def medium_of_suffix(self, suffix: str) -> MediumSpec | None:
        suffix = suffix.lower()
        return next((m for m in self.media.values() if suffix in m.extensions), None)

    def medium_of_model(self, model_kind: str | None) -> MediumSpec | None:
        """The plugin medium whose model files carry ``kind: model_kind`` (None: the core's own)."""
        return next((m for m in self.media.values() if model_kind and m.model_kind == model_kind and m.load), None)

    def remove_source(self, source: str) -> None:
        """Forget everything ``source`` registered (a plugin whose ``register`` failed half-way)."""
        for space in (self.formats, self.acquisitions, self.media_encoders, self.question_encoders,
                      self.model_kinds, self.media):
            for name in [n for n, v in space.items() if v.source == source]:
                del space[name]

    # --- reading -----------------------------------------------------------------------------------

    def import_formats(self) -> list[FormatSpec]:
        return [f for f in self.formats.values() if f.can_import]

    def export_formats(self) -> list[FormatSpec]:
        return [f for f in self.formats.values() if f.can_export]

    def format(self, name: str) -> FormatSpec:
        try:
            return self.formats[name]
        except KeyError:
            broken = [f"{p.name} ({p.error})" for p in self.plugins if getattr(p, "error", None)]
            msg = f"unknown format '{name}' (known: {', '.join(self.formats)})"
            raise KeyError(msg + (f"; plugins that failed to load: {', '.join(broken)}" if broken else "")) from None

    def media_encoder_names(self, modality: str | None = None, available_only: bool = False) -> list[str]:
        return [n for n, e in self.media_encoders.items()
                if (modality is None or e.modality == modality) and (not available_only or e.is_available())]


_default: Registry | None = None
_lock = threading.Lock()


def default_registry() -> Registry:
    """The app's registry, made on first use (by whichever thread comes first) with the built-ins."""
    global _default
    if _default is None:
        with _lock:
            if _default is None:
                from . import builtins

                reg = Registry()
                builtins.register(reg)
                _default = reg
    return _default


class NamespaceView(MutableMapping):
    """``name -> implementation`` of one namespace of the default registry (resolved on access):
    the mapping the older module-level dicts (``ACQUISITIONS``, ``_MEDIA_ENCODERS``) now are."""

    def __init__(self, space: str, add: str) -> None:
        self._space, self._add = space, add

    def _dict(self) -> dict:
        return getattr(default_registry(), self._space)

    def __getitem__(self, name: str) -> Any:
        return self._dict()[name].get()

    def __setitem__(self, name: str, value: Any) -> None:
        getattr(default_registry(), self._add)(name, value, replace=True)

    def __delitem__(self, name: str) -> None:
        del self._dict()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._dict()))

    def __len__(self) -> int:
        return len(self._dict())

    def __repr__(self) -> str:
        return f"NamespaceView({self._space}: {', '.join(self._dict())})"
