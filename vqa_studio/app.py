"""Composition root of the desktop app: ``run_gui(folder)`` makes the QApplication, the main window
(``open_window``: the project, or the welcome dialog on a first start), and runs the event loop.
Nothing heavy is imported here (torch never is: training
and scoring run in child processes)."""
from __future__ import annotations

import sys
from pathlib import Path


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
    """Open the main window (``open_window``) and run until it closes."""
    app = create_app()
    window = open_window(folder, start_job)
    code = app.exec()
    window.shutdown()
    from .core.logs import close_logging

    close_logging()
    return code


def open_window(folder: Path | None = None, start_job: tuple[str, dict] | None = None):
    """The main window, shown: on ``folder``, or the last project opened; with the welcome dialog
    when there is neither. ``start_job``: ("demo", params) builds the demo in the background once the
    window shows. Logs go to a rotating file in the per-user log folder; an unexpected error is
    logged and shown with the log's path, and the app keeps running."""
    from .core.logs import setup_logging
    from .plugins import load_plugins

    setup_logging()
    load_plugins()  # metadata and each plugin's register(): cheap; a broken one is listed, never fatal
    create_app()
    from .qt.dialogs.error import install_excepthook
    from .qt.main_window import MainWindow
    from .qt.window.first_run import needs_welcome

    window = MainWindow()
    install_excepthook(window)
    window.show()
    target = Path(folder) if folder is not None else None
    if target is None and needs_welcome(window.settings):
        window.show_welcome()
    elif target is None:
        target = Path(str(window.settings.value("recent/last", "")))
    if target is not None:
        window.open_project(target)
    if start_job is not None and start_job[0] == "demo" and window.project is not None:
        from PySide6.QtCore import QTimer

        params = dict(start_job[1])
        QTimer.singleShot(0, lambda: window.start_demo_build(params))  # after the first paint
    return window
