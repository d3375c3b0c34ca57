"""Per-user folders, portable across Linux, macOS and Windows (no third-party dependency)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

APP = "VQA Studio"


def user_data_dir() -> Path:
    """Where VQA Studio keeps per-user data (the demo project, recent files)."""
    override = os.environ.get("VQA_STUDIO_HOME")
    if override:
        return Path(override).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / APP
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / APP
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "vqa-studio"


def user_log_dir() -> Path:
    """Where VQA Studio writes its log files: ``%LOCALAPPDATA%\\VQA Studio\\Logs`` on Windows,
    ``~/Library/Logs/VQA Studio`` on macOS, ``$XDG_STATE_HOME/vqa-studio/logs`` (default
    ``~/.local/state/vqa-studio/logs``) elsewhere; ``$VQA_STUDIO_HOME/logs`` when that is set."""
    override = os.environ.get("VQA_STUDIO_HOME")
    if override:
        return Path(override).expanduser() / "logs"
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / APP / "Logs"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Logs" / APP
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / "vqa-studio" / "logs"


def default_demo_dir() -> Path:
    return user_data_dir() / "demo-project"


def resource_path(*parts: str) -> Path:
    """A file the package ships under ``vqa_studio/resources`` (installed as package data, and
    copied into frozen builds by build.spec)."""
    if getattr(sys, "frozen", False) and hasattr(sys, "_MEIPASS"):
        return Path(sys._MEIPASS, "vqa_studio", "resources", *parts)  # type: ignore[attr-defined]
    return Path(__file__).resolve().parents[1].joinpath("resources", *parts)


def demo_checkpoint() -> Path | None:
    """The model the demo's first model starts from (``scripts/build_demo_checkpoint.py``), if shipped."""
    path = resource_path("models", "demo_pretrained.pt")
    return path if path.is_file() else None
