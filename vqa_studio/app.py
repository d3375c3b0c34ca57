"""Composition root of the desktop app: ``run_gui(folder)`` makes the QApplication, the main window,
opens the project and runs the event loop. Nothing heavy is imported here (torch never is: training
and scoring run in child processes)."""
from __future__ import annotations

import sys
import traceback
from pathlib import Path


def _install_excepthook(window) -> None:
    """An unexpected error in a slot is shown, not fatal: the app keeps running, nothing stored is lost
    (every review action is its own committed transaction)."""
    previous = sys.excepthook

    def hook(exc_type, exc, tb):
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        print(text, file=sys.stderr)
        try:
            from .qt.dialogs.common import show_error

            show_error(window, "Something went wrong",
                       f"{exc_type.__name__}: {exc}\n\nYour work is saved; you can keep going.", text)
        except Exception:  # noqa: BLE001
            previous(exc_type, exc, tb)

    sys.excepthook = hook


def create_app(argv: list[str] | None = None):
    from PySide6.QtWidgets import QApplication

    from .qt.compat import guard_singleton_refcounts
    from .qt.style import apply_theme, icon

    guard_singleton_refcounts()
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("VQA Studio")
    app.setOrganizationName("VQA Studio")
    app.setApplicationDisplayName("VQA Studio")
    apply_theme(app)
    app.setWindowIcon(icon("app"))
    return app


def run_gui(folder: Path | None = None, start_job: tuple[str, dict] | None = None) -> int:
    """Open the main window (on ``folder``, or the last project opened) and run until it closes.
    ``start_job``: ("demo", params) builds the demo in the background once the window shows."""
    from .plugins import load_plugins

    load_plugins()  # metadata and each plugin's register(): cheap; a broken one is listed, never fatal
    app = create_app()
    from .qt.main_window import MainWindow

    window = MainWindow()
    _install_excepthook(window)
    window.show()
    target = Path(folder) if folder is not None else None
    if target is None:
        last = window.settings.value("recent/last", "")
        if last and Path(str(last)).exists():
            target = Path(str(last))
    if target is not None:
        window.open_project(target)
    if start_job is not None and start_job[0] == "demo" and window.project is not None:
        from PySide6.QtCore import QTimer

        params = dict(start_job[1])
        QTimer.singleShot(0, lambda: window.start_demo_build(params))  # after the first paint
    code = app.exec()
    window.shutdown()
    return code
