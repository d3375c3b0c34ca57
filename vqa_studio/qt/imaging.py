"""Images for the GUI: decoded off the GUI thread, kept in LRU caches, prefetched ahead of the review.

``ImageCache`` decodes with ``core.data.media.load_image`` (RGB uint8) in worker threads and turns
the pixels into ``QImage`` there (a QImage, unlike a QPixmap, may be made in any thread). Full
images and queue thumbnails have separate caches and separate workers, so scrolling the queue never
delays the image the annotator is about to see. Point-cloud items get a thumbnail too: a top-down
picture drawn by ``core.data.clouds.thumbnail`` in the same thumbnail worker, cached the same way.
``attention_image`` colour-maps an attention row.
"""
from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QImage

from .lru import LRU

THUMB_SIZE = 44
#: item kinds with a queue thumbnail (the file decoded per kind in ``_decode``)
THUMB_KINDS = ("image", "cloud")


def rgb_to_qimage(arr: np.ndarray) -> QImage:
    arr = np.ascontiguousarray(arr[..., :3], dtype=np.uint8)
    h, w = arr.shape[:2]
    return QImage(arr.data, w, h, 3 * w, QImage.Format_RGB888).copy()


def _decode(path: str, thumb: int | None, kind: str = "image") -> QImage:
    if kind == "cloud":
        from ..core.data.clouds.thumbnail import cloud_thumbnail

        return rgb_to_qimage(cloud_thumbnail(path, thumb or THUMB_SIZE))
    from ..core.data.media import load_image

    img = load_image(path)
    if thumb:
        import cv2

        h, w = img.shape[:2]
        scale = thumb / max(h, w)
        if scale < 1:
            img = cv2.resize(img, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    return rgb_to_qimage(img)


class ImageCache(QObject):
    """Decoded images by path. ``image(path)`` answers from the cache at once (or None) and asks for
    a decode; ``image_ready(path)`` / ``thumb_ready(path)`` say when one arrived; errors are kept
    (``error(path)``) so a broken file is reported, not retried forever."""

    image_ready = Signal(str)
    thumb_ready = Signal(str)
    _arrived = Signal(str, bool, object, object)  # path, thumb?, QImage | None, error | None

    def __init__(self, capacity: int = 48, thumb_capacity: int = 3000, parent: QObject | None = None):
        super().__init__(parent)
        self._images: LRU[str, QImage] = LRU(capacity)
        self._thumbs: LRU[str, QImage] = LRU(thumb_capacity)
        self._errors: dict[str, str] = {}
        self._pending: set[tuple[str, bool]] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._full_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="vqa-decode")
        self._thumb_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vqa-thumb")
        self._arrived.connect(self._on_arrived)

    # --- queries -----------------------------------------------------------------------------------
    def image(self, path: str | Path, request: bool = True) -> QImage | None:
        key = str(path)
        img = self._images.get(key)
        if img is None and request:
            self.request(key)
        return img

    def thumbnail(self, path: str | Path, request: bool = True, kind: str = "image") -> QImage | None:
        """The thumbnail of an item's file (``kind``: "image" or "cloud", see ``THUMB_KINDS``)."""
        key = str(path)
        img = self._thumbs.get(key)
        if img is None and request:
            self.request(key, thumb=True, kind=kind)
        return img

    def error(self, path: str | Path) -> str | None:
        return self._errors.get(str(path))

    def has_image(self, path: str | Path) -> bool:
        return str(path) in self._images

    def prefetch(self, paths) -> None:
        for p in paths:
            self.request(str(p))

    # --- decoding ----------------------------------------------------------------------------------
    def request(self, key: str, thumb: bool = False, kind: str = "image") -> None:
        if self._closed or key in self._errors:
            return
        if (self._thumbs if thumb else self._images).get(key) is not None:
            return
        with self._lock:
            if (key, thumb) in self._pending:
                return
            self._pending.add((key, thumb))
        pool = self._thumb_pool if thumb else self._full_pool
        try:
            pool.submit(self._work, key, thumb, kind)
        except RuntimeError:  # shut down meanwhile
            pass

    def _work(self, key: str, thumb: bool, kind: str = "image") -> None:
        if self._closed:
            return
        try:
            img = _decode(key, THUMB_SIZE if thumb else None, kind)
            err = None
        except Exception as exc:  # noqa: BLE001 - any unreadable file is reported the same way
            img, err = None, str(exc)
        if not self._closed:
            self._arrived.emit(key, thumb, img, err)

    @Slot(str, bool, object, object)
    def _on_arrived(self, key: str, thumb: bool, img, err) -> None:
        with self._lock:
            self._pending.discard((key, thumb))
        if self._closed:
            return
        if err is not None:
            self._errors[key] = err
        elif thumb:
            self._thumbs.put(key, img)
        else:
            self._images.put(key, img)
        (self.thumb_ready if thumb else self.image_ready).emit(key)

    def wait_idle(self, timeout: float = 10.0) -> None:
        for pool in (self._full_pool, self._thumb_pool):
            try:
                pool.submit(lambda: None).result(timeout)
            except Exception:  # noqa: BLE001
                pass

    def shutdown(self) -> None:
        self._closed = True
        self._full_pool.shutdown(wait=True, cancel_futures=True)
        self._thumb_pool.shutdown(wait=True, cancel_futures=True)


# --- attention overlay ---------------------------------------------------------------------------------

_LUT: np.ndarray | None = None


def attention_lut() -> np.ndarray:
    """The overlay's colours: pyqtgraph's "inferno" map (dark purple -> red -> yellow) as 256 RGB
    uint8 rows. pyqtgraph is imported the first time: call this once on the GUI thread (the window
    does when a project opens) before overlays are made in worker threads."""
    global _LUT
    if _LUT is None:
        import pyqtgraph as pg

        _LUT = np.ascontiguousarray(pg.colormap.get("inferno").getLookupTable(nPts=256, alpha=False), np.uint8)
    return _LUT


def attention_grid(att_row: np.ndarray) -> tuple[np.ndarray, float] | None:
    """One glimpse's attention [K] as a square grid [s, s] (K = s * s), min-max normalised, and its
    peak relative to uniform attention (1.0: the model looked everywhere alike); None if not square."""
    att = np.asarray(att_row, dtype=np.float32).ravel()
    side = int(round(math.sqrt(len(att))))
    if side * side != len(att) or side == 0:
        return None
    grid = att.reshape(side, side)
    lo, hi = float(grid.min()), float(grid.max())
    mean = float(np.abs(grid).mean()) or 1.0
    norm = (grid - lo) / (hi - lo) if hi > lo else np.zeros_like(grid)
    return norm, hi / mean


def attention_image(att_row: np.ndarray, upsample: int = 16) -> QImage | None:
    """An RGBA image of one glimpse: colour by weight, transparent where the model did not look.

    The grid is upsampled bilinearly here (``upsample`` pixels per cell), so the overlay is smooth
    when stretched over the image. A nearly uniform map (a model that has not learnt where to look)
    is drawn faintly, in proportion to how far its peak stands above uniform.
    """
    res = attention_grid(att_row)
    if res is None:
        return None
    grid, peak = res
    strength = float(np.clip((peak - 1.0) / 1.5, 0.25, 1.0))
    side = grid.shape[0]
    n = side * upsample
    # bilinear upsampling with cell centres aligned
    pos = (np.arange(n) + 0.5) / upsample - 0.5
    i0 = np.clip(np.floor(pos).astype(int), 0, side - 1)
    i1 = np.clip(i0 + 1, 0, side - 1)
    f = np.clip(pos - np.floor(pos), 0, 1)
    f[pos < 0] = 0
    rows = grid[i0] * (1 - f)[:, None] + grid[i1] * f[:, None]
    up = rows[:, i0] * (1 - f)[None, :] + rows[:, i1] * f[None, :]
    rgb = attention_lut()[np.clip((up * 255).astype(int), 0, 255)]
    t = np.clip((up - 0.25) / 0.75, 0.0, 1.0)  # where the model hardly looked: transparent
    alpha = (235 * strength * t * t * (3 - 2 * t)).astype(np.uint8)
    rgba = np.ascontiguousarray(np.dstack([rgb, alpha]))
    return QImage(rgba.data, n, n, 4 * n, QImage.Format_RGBA8888).copy()


def attention_peak(att_row: np.ndarray) -> float | None:
    res = attention_grid(att_row)
    return None if res is None else res[1]
