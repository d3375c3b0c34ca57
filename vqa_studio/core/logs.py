"""The app's log: a rotating file in the per-user log folder (``paths.user_log_dir()``).

``setup_logging()`` (called once by the desktop app at start) sends the ``vqa_studio`` logger and
Python's warnings to ``vqa-studio.log`` there, rotated at ``max_bytes`` with ``backups`` old files
kept (``logging.handlers.RotatingFileHandler``). ``log_exception`` writes an unexpected error with
its traceback; the GUI then shows the file's path so a person can send it. Nothing here imports Qt.
"""
from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import traceback
from pathlib import Path

from .paths import user_log_dir

__all__ = ["LOG_NAME", "close_logging", "current_log_file", "log_exception", "setup_logging"]

LOG_NAME = "vqa-studio.log"
LOGGER = "vqa_studio"
_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(threadName)s] %(message)s"


def _our_handler(logger: logging.Logger) -> logging.handlers.RotatingFileHandler | None:
    for h in logger.handlers:
        if isinstance(h, logging.handlers.RotatingFileHandler) and getattr(h, "vqa_studio", False):
            return h
    return None


def current_log_file() -> Path | None:
    """The file ``setup_logging`` opened (None before, or when it could not open one)."""
    h = _our_handler(logging.getLogger(LOGGER))
    return Path(h.baseFilename) if h is not None else None


def setup_logging(log_dir: str | Path | None = None, *, level: int = logging.INFO,
                  max_bytes: int = 2_000_000, backups: int = 5) -> Path | None:
    """Log to ``<log_dir>/vqa-studio.log`` (default: the per-user log folder), rotating. Calling it
    again with another folder moves the log there; with the same one it changes nothing. Returns
    the file, or None when the folder cannot be made or written (the app then runs without a log,
    and says so on stderr: a log is never a reason not to start)."""
    folder = Path(log_dir) if log_dir is not None else user_log_dir()
    path = folder / LOG_NAME
    logger = logging.getLogger(LOGGER)
    old = _our_handler(logger)
    if old is not None:
        if old.baseFilename == os.path.abspath(path):
            return path
        logger.removeHandler(old)
        logging.getLogger("py.warnings").removeHandler(old)
        old.close()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups,
                                                       encoding="utf-8")
    except OSError as exc:
        print(f"vqa-studio: cannot write the log in {folder}: {exc}", file=sys.stderr)
        return None
    handler.vqa_studio = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter(_FORMAT))
    logger.addHandler(handler)
    logger.setLevel(min(level, logger.level) if logger.level else level)
    logging.captureWarnings(True)
    logging.getLogger("py.warnings").addHandler(handler)
    logger.info("log opened: %s (Python %s)", path, sys.version.split()[0])
    return path


def close_logging() -> None:
    """Close the file ``setup_logging`` opened (the app at exit; tests)."""
    logger = logging.getLogger(LOGGER)
    h = _our_handler(logger)
    if h is not None:
        logger.removeHandler(h)
        logging.getLogger("py.warnings").removeHandler(h)
        h.close()
        logging.captureWarnings(False)


def log_exception(exc_type, exc, tb, where: str = "unexpected error") -> str:
    """Write an exception and its traceback to the log; returns the traceback's text."""
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    logging.getLogger(LOGGER).error("%s: %s", where, text.rstrip())
    return text
