"""The main window's parts, one concern per module; ``qt.main_window.MainWindow`` mixes them.

- ``layout``: the centre (a page per media kind), the docks, the status bar, the saved layout.
- ``menus``: the actions, the menus and the dialogs they open.
- ``session``: the project: new, open, recent, close, and what is read about it when it opens.
- ``current_item``: the queue and the item shown: selection, image, progress, similar items.
- ``review_keys``: the keyboard-first review: its shortcuts and actions (accept, pick, correct, ...).
- ``jobs``: training and re-scoring in child processes, and what follows a model change.
- ``media_pages``: the pages that show point-cloud items.

Each part is a mixin over the window's shared state (``project``, ``controller``, ``model``, the
panels and docks); the window's ``__init__`` builds that state in the order the parts need it.
"""

APP_NAME = "VQA Studio"


def window_title(project_name: str | None = None) -> str:
    """``<project> — VQA Studio`` (``VQA Studio`` without a project). It ends with the application's
    display name, so Qt appends nothing on the platforms where it would otherwise add it."""
    return f"{project_name} — {APP_NAME}" if project_name else APP_NAME
