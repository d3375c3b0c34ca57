"""Plugins: discovered cheaply, registered into the one registry, imported lazily.

A plugin is an installed package that declares an entry point in the group ``vqa_studio.plugins``
naming a ``register(registry)`` function::

    [project.entry-points."vqa_studio.plugins"]
    jsonl = "vqa_studio_jsonl:register"

``discover()`` only reads package metadata (no plugin code runs). ``load_plugins()`` (called once at
the start of the CLI and of the GUI) imports each plugin's top module and calls its ``register`` with
the app's registry (``core.registry.default_registry()``), the same call the built-ins go through
(``core/builtins.py``): a format, acquisition function or encoder it registers is then used by the
core, the CLI and the GUI like a built-in one. A plugin that fails is kept in the registry's
``plugins`` list with its error (``vqa-studio plugins`` shows it), and whatever it registered before
failing is removed; it never stops the app. Registrations name their implementation as
``"module:attr"`` strings so that heavy imports wait until first use. Frozen builds (no package
metadata) list their plugins in ``BUILTIN_PLUGINS``.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata

from .core.registry import Registry, default_registry, resolve

__all__ = ["GROUP", "BUILTIN_PLUGINS", "PluginInfo", "PluginRegistry", "contributions", "discover", "load_plugins",
           "plugin_version", "resolve"]

GROUP = "vqa_studio.plugins"
#: ``name -> "module:function"`` for plugins bundled into a frozen (PyInstaller) build
BUILTIN_PLUGINS: dict[str, str] = {}

#: what a plugin's ``register`` receives (the one registry's type)
PluginRegistry = Registry


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


def load_plugins(registry: Registry | None = None, plugins: list[PluginInfo] | None = None
                 ) -> tuple[Registry, list[PluginInfo]]:
    """Call each plugin's ``register(registry)`` once (default: the app's registry, every installed
    plugin); failures are recorded in ``registry.plugins``, not raised. Returns the registry and its
    plugins. Calling it again does not register anything twice."""
    registry = registry if registry is not None else default_registry()
    if plugins is None:
        if registry.plugins_discovered:
            return registry, registry.plugins
        registry.plugins_discovered = True
        plugins = discover()
    done = {p.name for p in registry.plugins}
    for info in plugins:
        if info.name in done:
            continue
        registry.source = info.name
        try:
            resolve(info.target)(registry)
            info.loaded = True
        except Exception as exc:  # noqa: BLE001 - a broken plugin is reported and skipped
            registry.remove_source(info.name)
            info.error = f"{type(exc).__name__}: {exc}"
        finally:
            registry.source = "built-in"
        registry.plugins.append(info)
        done.add(info.name)
    return registry, registry.plugins


def plugin_version(info: PluginInfo) -> str:
    """The installed version of the distribution that declares the plugin ("" when unknown: a
    built-in plugin of a frozen build, or metadata that cannot be read)."""
    if not info.dist or info.dist == "built-in":
        return ""
    try:
        return metadata.version(info.dist)
    except Exception:  # noqa: BLE001 - broken metadata is shown as an unknown version
        return ""


def contributions(registry: Registry, source: str) -> list[tuple[str, str]]:
    """What ``source`` (a plugin's name) registered: (kind, name) pairs, e.g. ("format", "jsonl")."""
    spaces = (("format", "formats"), ("acquisition", "acquisitions"), ("media encoder", "media_encoders"),
              ("question encoder", "question_encoders"), ("model kind", "model_kinds"), ("medium", "media"))
    return [(kind, name) for kind, attr in spaces for name, entry in getattr(registry, attr, {}).items()
            if entry.source == source]
