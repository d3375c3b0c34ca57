"""The pages that show point-cloud items in the window's centre, and the pages of media plugins add."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

from ..style import COLORS


class CloudPage(QWidget):
    """Point-cloud items until the 3D view is registered: the file and what is known about it."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.label = QLabel("")
        self.label.setAlignment(Qt.AlignCenter)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        lay = QVBoxLayout(self)
        lay.addWidget(self.label)
        self.setFocusPolicy(Qt.StrongFocus)

    def show_item(self, details) -> None:
        item = details.item
        pts = f"{item.n_points:,} points" if item.n_points else "point count unknown"
        self.label.setText(f"<div style='font-size:14pt; font-weight:600'>Point cloud</div>"
                           f"<p style='color:{COLORS['muted']}'>{details.media_path}</p>"
                           f"<p>{pts} · split {item.split} · item {item.id}</p>"
                           f"<p style='color:{COLORS['muted']}'>The 3D view shows clouds here once it is installed.</p>")


class Cloud3DPage(QWidget):
    """Point-cloud items in the four-view cuboid editor (``views.cloud_view.CloudView``), built the
    first time a cloud item is shown (OpenGL and pyqtgraph load then, not at start-up). Where no
    OpenGL context can be made the file and what is known about it are shown instead."""

    def __init__(self, window):
        super().__init__()
        self.window = window
        self.view = None
        self.fallback = CloudPage()
        self.lay = QVBoxLayout(self)
        self.lay.setContentsMargins(0, 0, 0, 0)
        self.lay.addWidget(self.fallback)
        self.setFocusPolicy(Qt.StrongFocus)

    def _ensure_view(self) -> bool:
        if self.view is not None:
            return True
        if QApplication.platformName() in ("offscreen", "minimal"):
            return False  # no OpenGL context on these platforms
        try:
            from ..views.cloud_view import CloudView

            # the window's one undo stack and its one writer thread: cuboid edits and answers are
            # written in order, off the GUI thread
            self.view = CloudView(undo_stack=self.window.undo_stack, writer=self.window.writer)
        except Exception as exc:  # noqa: BLE001 - no GL here: keep the text page, say why once
            self.fallback.label.setToolTip(f"3D view unavailable: {exc}")
            return False
        self.view.message.connect(lambda text: self.window.statusBar().showMessage(text, 8000))
        self.lay.removeWidget(self.fallback)
        self.fallback.hide()
        self.lay.addWidget(self.view)
        self.setFocusProxy(self.view)
        return True

    def show_item(self, details) -> None:
        if not self._ensure_view():
            self.fallback.show_item(details)
            return
        self.view.set_item(self.window.project, details.item.id, details.media_path)
        pred = details.prediction
        centres = getattr(pred, "centres", None) if pred is not None else None
        if centres is not None and pred.attention is not None:
            self.view.set_attention(centres, pred.attention)
        else:
            self.view.set_attention(None, None)

    def clear(self) -> None:
        if self.view is not None:
            self.view.clear()

    def shutdown(self) -> None:
        if self.view is not None:
            self.view.shutdown()


def add_medium_pages(window) -> None:
    """A page for each medium a plugin added (``registry.add_medium(..., view="pkg.qt:Page")``):
    ``Page(window)``, a widget with ``show_item(details)``, registered for the medium's items. A page
    that cannot be built shows why instead (the app goes on)."""
    from ...core.media_kinds import plugin_media
    from ...core.registry import resolve

    for spec in plugin_media():
        if spec.view is None:
            continue
        try:
            page = resolve(spec.view)(window)
        except Exception as exc:  # noqa: BLE001 - a plugin's broken page must not stop the window
            page = CloudPage()
            page.show_item = lambda details, why=f"{type(exc).__name__}: {exc}", name=spec.name: page.label.setText(
                f"<p>The {name} page of plugin {spec.source} could not be built:</p><p>{why}</p>")
        window.register_media_view(spec.name, page)
