"""Keep the window's native surface fit for OpenGL from the start.

Qt draws a window that holds an OpenGL widget through OpenGL, and a window first shown without one
through the raster backing store. When the first OpenGL widget (the 3D editor of a point-cloud item,
built the first time such an item is shown) joins a window that is already on screen, Qt destroys the
window's native (X11 / Windows / Cocoa) window and makes a new one. The new one has lost the keyboard
focus the window manager gave the old one: keys then reach no widget, the review's shortcuts and the
menus' accelerators (Enter, Ctrl+M, Alt+R) included, until a click gives the focus back. That is what
annotators saw when the queue opened on a point-cloud question.

``reserve_gl_surface(window)`` adds a hidden, empty OpenGL widget to the window before it is shown, so
the window is created for OpenGL once and the 3D editor joins it later without a new native window.
It does nothing where there is no OpenGL (the offscreen and minimal platforms, or no context can be
made), where the 3D editor falls back to a text page anyway.
"""
from __future__ import annotations

from PySide6.QtWidgets import QApplication, QWidget

NO_GL_PLATFORMS = ("offscreen", "minimal")


def gl_platform() -> bool:
    """Whether this platform can host the OpenGL views (the 3D editor is built only where it can)."""
    return QApplication.platformName() not in NO_GL_PLATFORMS


def reserve_gl_surface(window: QWidget) -> QWidget | None:
    """A hidden OpenGL widget parented to ``window`` (call before ``show()``); None where there is no
    OpenGL. Returns the widget, which the window keeps for its lifetime."""
    if not gl_platform():
        return None
    try:
        from PySide6.QtGui import QOpenGLContext
        from PySide6.QtOpenGLWidgets import QOpenGLWidget
    except ImportError:  # a Qt build without OpenGL: no 3D editor either
        return None
    if not QOpenGLContext().create():  # no usable OpenGL (a remote display without GLX, ...): a window
        return None                    # made for it could not be drawn; the 3D editor falls back to text
    keeper = QOpenGLWidget(window)
    keeper.setObjectName("glSurfaceKeeper")
    keeper.setFixedSize(1, 1)
    keeper.hide()
    return keeper
