"""Plugins: discovered cheaply, imported lazily.

A plugin is an installed package that declares an entry point in the group ``vqa_studio.plugins``
naming a ``register(registry)`` function::

    [project.entry-points."vqa_studio.plugins"]
    jsonl = "vqa_studio_jsonl:register"

``discover()`` only reads package metadata (no plugin code runs). ``load_plugins()`` imports each
plugin and calls its ``register`` with a ``PluginRegistry``; a plugin that fails is reported, never
fatal. Registrations may name their implementation as ``"module:attr"`` strings so that heavy
imports wait until the format, acquisition function or encoder is first used. Frozen builds (no
package metadata) list their plugins in ``BUILTIN_PLUGINS``.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Callable

GROUP = "vqa_studio.plugins"
#: ``name -> "module:function"`` for plugins bundled into a frozen (PyInstaller) build
BUILTIN_PLUGINS: dict[str, str] = {}


def resolve(target: str | Callable) -> Callable:
    """A callable, or a ``"module:attr"`` string imported on first use."""
    if callable(target):
        return target
    module, _, attr = target.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


@dataclass
class FormatPlugin:
    name: str
    reader: str | Callable  # read(path, images_dir=None, split=None) -> iterator of Record | BadRecord
    writer: str | Callable | None = None  # write(rows, out_dir) -> paths
    description: str = ""

    def read(self, *args, **kwargs):
        return resolve(self.reader)(*args, **kwargs)

    def write(self, *args, **kwargs):
        if self.writer is None:
            raise NotImplementedError(f"the {self.name} format plugin cannot export")
        return resolve(self.writer)(*args, **kwargs)


@dataclass
class PluginRegistry:
    formats: dict[str, FormatPlugin] = field(default_factory=dict)
    acquisitions: dict[str, str | Callable] = field(default_factory=dict)
    media_encoders: dict[str, str | Callable] = field(default_factory=dict)
    source: str = ""  # the plugin registering now (for error messages)

    def add_format(self, name: str, reader: str | Callable, writer: str | Callable | None = None,
                   description: str = "") -> None:
        if name in self.formats:
            raise ValueError(f"format '{name}' is already registered")
        self.formats[name] = FormatPlugin(name, reader, writer, description)

    def add_acquisition(self, name: str, fn: str | Callable) -> None:
        """An acquisition function ``probs [N, C, T] -> scores [N]`` (higher = more informative)."""
        self.acquisitions[name] = fn

    def add_media_encoder(self, name: str, factory: str | Callable) -> None:
        self.media_encoders[name] = factory

    def activate(self) -> None:
        """Hand the registered acquisition functions and encoders to the core registries."""
        if self.acquisitions:
            from .core.uncertainty import acquisition

            for name, fn in self.acquisitions.items():
                acquisition.register_acquisition(name, _lazy(fn), replace=True)
        if self.media_encoders:
            from .core.model import encoders

            for name, factory in self.media_encoders.items():
                encoders.register_media_encoder(name, _lazy(factory), replace=True)


def _lazy(target: str | Callable) -> Callable:
    if callable(target):
        return target

    def call(*args, **kwargs):
        return resolve(target)(*args, **kwargs)

    call.__name__ = target.rpartition(":")[2]
    return call


@dataclass
class PluginInfo:
    name: str
    target: str
    dist: str | None = None
    loaded: bool = False
    error: str | None = None


def discover() -> list[PluginInfo]:
    """Installed plugins, from package metadata only (nothing is imported)."""
    found = [PluginInfo(name, target, "built-in") for name, target in BUILTIN_PLUGINS.items()]
    try:
        eps = metadata.entry_points(group=GROUP)
    except Exception:  # noqa: BLE001 - broken metadata of some other package must not stop the app
        eps = []
    for ep in eps:
        if any(p.name == ep.name for p in found):
            continue
        found.append(PluginInfo(ep.name, ep.value, getattr(ep.dist, "name", None)))
    return found


def load_plugins(registry: PluginRegistry | None = None, plugins: list[PluginInfo] | None = None
                 ) -> tuple[PluginRegistry, list[PluginInfo]]:
    """Import each plugin and call its ``register(registry)``; failures are recorded, not raised."""
    registry = registry or PluginRegistry()
    infos = discover() if plugins is None else plugins
    for info in infos:
        registry.source = info.name
        try:
            resolve(info.target)(registry)
            info.loaded = True
        except Exception as exc:  # noqa: BLE001 - a broken plugin is reported and skipped
            info.error = f"{type(exc).__name__}: {exc}"
    registry.source = ""
    return registry, infos
