"""What this installation is: versions, the device training would use and why, and its folders.

``collect()`` backs ``vqa-studio info`` and the GUI's Help ▸ About. Package versions are read from
the installed distributions' metadata (``importlib.metadata``), so nothing here imports Qt or
open3d; only the device choice imports torch (``probe_device=False`` skips it, for a caller that
keeps torch out of its process: the GUI asks a child process instead, see ``device_summary``).
Frozen builds carry the metadata these lookups need (build.spec's ``copy_metadata``).
"""
from __future__ import annotations

import importlib.metadata as md
import importlib.util
import platform
import sys

from .. import __version__
from .paths import user_data_dir, user_log_dir

#: the rows of ``format_info``: key -> label
LABELS = {
    "app": "VQA Studio",
    "python": "Python",
    "platform": "Platform",
    "executable": "Executable",
    "torch": "torch",
    "qt": "Qt (PySide6)",
    "open3d": "open3d",
    "device": "Training device",
    "device_reason": "  why",
    "device_detail": "  details",
    "data_dir": "Data folder",
    "log_dir": "Log folder",
}

# distributions that provide a module, in the order they are tried
_DISTS = {
    "torch": ("torch",),
    "PySide6": ("PySide6-Essentials", "PySide6"),
    "open3d": ("open3d-cpu", "open3d"),
}


#: modules the app imports only when a feature needs them, and that feature: what ``--imports`` checks
#: (a frozen build may leave one out, or miss one of its dependencies)
OPTIONAL_IMPORTS = {
    "cv2": "images",
    "open3d": "PCD binary_compressed and PLY files with lists",
    "laspy": "LAS / LAZ point clouds",
    "OpenGL": "the 3D view",
    "psycopg2": "the team database on PostgreSQL",
    "transformers": "pretrained backbones, hf: and vilt:",
}


def check_imports(modules: dict[str, str] | None = None) -> dict[str, str]:
    """``{"import <module>": "ok (feature)" | "not installed (feature unavailable)" | "FAILED: why
    (feature)"}``, importing each module. A module that is not there at all is "not installed" (an
    install or a build may leave an optional one out); one that is there but does not import (a
    dependency of it missing, a broken extension) FAILED."""
    import importlib

    out = {}
    for name, feature in (OPTIONAL_IMPORTS if modules is None else modules).items():
        try:
            importlib.import_module(name)
            out[f"import {name}"] = f"ok ({feature})"
        except ModuleNotFoundError as exc:
            if exc.name is not None and name.split(".")[0] == exc.name.split(".")[0]:
                out[f"import {name}"] = f"not installed ({feature}: unavailable)"
            else:
                out[f"import {name}"] = f"FAILED: {type(exc).__name__}: {exc} ({feature})"
        except Exception as exc:  # noqa: BLE001 - ImportError, or a broken extension module
            out[f"import {name}"] = f"FAILED: {type(exc).__name__}: {exc} ({feature})"
    return out


def package_version(module: str) -> str:
    """The installed version of ``module`` (``torch``, ``PySide6``, ``open3d``) without importing it:
    its distribution's metadata; an already-imported module's ``__version__``; ``not installed``."""
    for dist in _DISTS.get(module, (module,)):
        try:
            return md.version(dist)
        except md.PackageNotFoundError:
            continue
    loaded = sys.modules.get(module)
    if loaded is not None and getattr(loaded, "__version__", None):
        return str(loaded.__version__)
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        found = False
    return "installed (version unknown)" if found else "not installed"


def device_choice() -> tuple[str, str, str]:
    """(the device ``--device auto`` trains on, why, a line describing it); imports torch."""
    import torch

    from .train.config import choose_device, describe_device

    device = choose_device("auto")
    built = f"CUDA {torch.version.cuda}" if torch.version.cuda else "without CUDA"
    if device.type == "cuda":
        why = f"a CUDA GPU is visible (torch {torch.__version__} built with {built}); auto takes it"
    elif not torch.version.cuda:
        why = f"torch {torch.__version__} is built {built}, so auto trains on the CPU"
    else:
        why = (f"torch {torch.__version__} is built with {built} but sees no CUDA GPU (driver missing, or "
               "CUDA_VISIBLE_DEVICES hides it), so auto trains on the CPU")
    return device.type, why, describe_device(device)


def device_summary() -> str:
    """One line: the device training would use, and why (what the train dialog's "Detected" shows).
    A plain module-level function, so a ``spawn`` child process can run it in a frozen app too."""
    device, why, detail = device_choice()
    return f"{detail} — {why}"


def report_line(conn, target: str = "vqa_studio.core.sysinfo:device_summary") -> None:
    """Entry point of a ``spawn`` child (the GUI's device probe): sends ``(True, line)`` with what
    ``target`` (``"module:function"``, no arguments, returning a line) returns, or ``(False, why)``."""
    import importlib

    try:
        module, _, name = target.partition(":")
        line = str(getattr(importlib.import_module(module), name)())
        conn.send((True, line))
    except Exception as exc:  # noqa: BLE001 - the parent shows it instead of a device
        conn.send((False, f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def collect(probe_device: bool = True, imports: bool = False) -> dict[str, str]:
    """Versions, executable, device choice and the per-user folders, as strings keyed like ``LABELS``;
    with ``imports``, whether each of ``OPTIONAL_IMPORTS`` imports (slow: open3d takes a second or two)."""
    frozen = bool(getattr(sys, "frozen", False))
    info = {
        "app": __version__ + (" (frozen build)" if frozen else ""),
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
        "platform": f"{platform.system()} {platform.release()} {platform.machine()}",
        "executable": sys.executable,
        "torch": package_version("torch"),
        "qt": package_version("PySide6"),
        "open3d": package_version("open3d"),
    }
    if probe_device:
        try:
            device, why, detail = device_choice()
        except Exception as exc:  # noqa: BLE001 - a broken torch is information here, not a crash
            device, why, detail = "unknown", f"torch could not be asked: {type(exc).__name__}: {exc}", ""
        info.update(device=device, device_reason=why, device_detail=detail)
    info.update(data_dir=str(user_data_dir()), log_dir=str(user_log_dir()))
    if imports:
        info.update(check_imports())
    return info


def format_info(info: dict[str, str]) -> str:
    """Aligned ``label  value`` lines, in ``LABELS`` order (unknown keys after, under their own name)."""
    keys = [k for k in LABELS if k in info] + [k for k in info if k not in LABELS]
    labels = {k: LABELS.get(k, k) for k in keys}
    lines = []
    for block in ([k for k in keys if not k.startswith("import ")], [k for k in keys if k.startswith("import ")]):
        width = max((len(labels[k]) for k in block), default=0)
        lines += [f"{labels[k]:<{width}}  {info[k]}" for k in block if info[k] != ""]
    return "\n".join(lines)
