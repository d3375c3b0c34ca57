"""Media files: what kind a file is, checking it at import, loading it for display and training.

Images are decoded with OpenCV (RGB uint8 out). Point clouds are handled by ``core.data.clouds``
(imported lazily: open3d is heavy). Every problem is a ``BadInputError`` naming the file.
"""
from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from ..errors import BadInputError
from ..types import ItemKind

IMAGE_EXTS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"})
CLOUD_EXTS = frozenset({".ply", ".pcd", ".xyz", ".xyzrgb", ".xyzn", ".pts", ".bin", ".las", ".laz"})
MEDIA_EXTS = IMAGE_EXTS | CLOUD_EXTS


@dataclass(frozen=True)
class MediaInfo:
    kind: ItemKind
    sha256: str
    width: int | None = None
    height: int | None = None
    n_points: int | None = None


def kind_of(path: str | Path) -> ItemKind | None:
    """The kind of media a file name says it is, or None for other files."""
    ext = Path(path).suffix.lower()
    if ext in IMAGE_EXTS:
        return ItemKind.IMAGE
    if ext in CLOUD_EXTS:
        return ItemKind.CLOUD
    return None


def _cv2():
    import cv2  # local: keeps `import vqa_studio.core` light

    return cv2


def _check_complete(path: Path, data: bytes) -> None:
    """Catch the common corruption OpenCV lets through: a PNG or JPEG cut short."""
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        if b"IEND" not in data[-16:]:
            raise BadInputError(path, "truncated PNG image (no IEND chunk at the end)")
    elif data[:2] == b"\xff\xd8":
        if b"\xff\xd9" not in data[-4:]:
            raise BadInputError(path, "truncated JPEG image (no end-of-image marker)")


def decode_image(path: Path, data: bytes) -> np.ndarray:
    """Decode image bytes to RGB uint8 [H, W, 3]; a clear error if they are not a usable image."""
    if not data:
        raise BadInputError(path, "the image file is empty")
    _check_complete(path, data)
    cv2 = _cv2()
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise BadInputError(path, "not a readable image (corrupt, or a format OpenCV cannot decode)")
    if img.shape[0] < 2 or img.shape[1] < 2:
        raise BadInputError(path, f"image too small ({img.shape[1]}x{img.shape[0]})")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def _read_bytes(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        raise BadInputError(path, "file not found") from None
    except IsADirectoryError:
        raise BadInputError(path, "is a folder, not a file") from None
    except OSError as exc:
        raise BadInputError(path, f"cannot read the file ({exc.strerror or exc})") from None


def load_image(path: str | Path, size: int | None = None) -> np.ndarray:
    """RGB uint8 [H, W, 3], optionally resized to ``size`` x ``size`` (area interpolation)."""
    path = Path(path)
    img = decode_image(path, _read_bytes(path))
    if size is not None and (img.shape[0] != size or img.shape[1] != size):
        cv2 = _cv2()
        interp = cv2.INTER_AREA if img.shape[0] > size else cv2.INTER_LINEAR
        img = cv2.resize(img, (size, size), interpolation=interp)
    return img


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def probe(path: str | Path, verify: bool = True) -> MediaInfo:
    """Check one media file and describe it (kind, size, sha256). Raises BadInputError.

    Images are fully decoded when ``verify`` (a corrupt image is caught at import, not while an
    annotator works); point clouds are parsed by ``clouds.probe_cloud``.
    """
    path = Path(path)
    kind = kind_of(path)
    if kind is None:
        raise BadInputError(path, f"unsupported media type '{path.suffix or '(no extension)'}'; "
                                  f"images: {', '.join(sorted(IMAGE_EXTS))}; point clouds: {', '.join(sorted(CLOUD_EXTS))}")
    if kind is ItemKind.CLOUD:
        from . import clouds

        n_points, digest = clouds.probe_cloud(path)
        return MediaInfo(ItemKind.CLOUD, digest, n_points=n_points)
    data = _read_bytes(path)
    digest = hashlib.sha256(data).hexdigest()
    if verify:
        img = decode_image(path, data)
        h, w = img.shape[:2]
    else:
        h, w = _image_size_from_header(path, data)
    return MediaInfo(ItemKind.IMAGE, digest, width=int(w), height=int(h))


def _image_size_from_header(path: Path, data: bytes) -> tuple[int, int]:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        _check_complete(path, data)
        return int.from_bytes(data[20:24], "big"), int.from_bytes(data[16:20], "big")
    img = decode_image(path, data)
    return img.shape[0], img.shape[1]


def probe_many(paths: Iterable[Path], verify: bool = True, workers: int | None = None):
    """Probe many files in a thread pool (decoding releases the GIL).

    Yields ``(path, MediaInfo | BadInputError)`` in the order given.
    """
    paths = list(paths)
    workers = workers or min(8, (os.cpu_count() or 2))

    def one(p: Path):
        try:
            return p, probe(p, verify=verify)
        except BadInputError as exc:
            return p, exc

    if len(paths) < 64 or workers <= 1:
        for p in paths:
            yield one(p)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vqa-probe") as pool:
        yield from pool.map(one, paths, chunksize=64)
