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
    ext = (path if isinstance(path, Path) else Path(path)).suffix.lower()
    if ext in IMAGE_EXTS:
        return ItemKind.IMAGE
    if ext in CLOUD_EXTS:
        return ItemKind.CLOUD
    from ..media_kinds import kind_of_suffix  # a medium a plugin added (core/media_kinds.py)

    return kind_of_suffix(ext)


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
    try:
        img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    except cv2.error as exc:  # e.g. over OpenCV's pixel limit: the image, not the program, is at fault
        last = (str(exc).strip().splitlines() or ["OpenCV refused it"])[-1]
        raise BadInputError(path, f"not a readable image ({last[:120]})") from None
    if img is None:
        raise BadInputError(path, "not a readable image (corrupt, or a format OpenCV cannot decode)")
    if img.shape[0] < 2 or img.shape[1] < 2:
        raise BadInputError(path, f"image too small ({img.shape[1]}x{img.shape[0]})")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


#: the largest image accepted (pixels, and pixels a side): decoders refuse or run out of memory beyond
MAX_PIXELS = 100_000_000
MAX_SIDE = 30_000
#: the largest media file read (a file past this is refused before it is read)
MAX_IMAGE_BYTES = 1 << 30
MAX_CLOUD_BYTES = 16 << 30


def check_regular_file(path: Path, limit: int) -> None:
    """A media file must be a regular file (not a device such as /dev/zero, a pipe that would block
    forever, or a socket) of at most ``limit`` bytes."""
    import os
    import stat

    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise BadInputError(path, "file not found") from None
    except OSError as exc:
        raise BadInputError(path, f"cannot read the file ({exc.strerror or exc})") from None
    if stat.S_ISDIR(st.st_mode):
        raise BadInputError(path, "is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise BadInputError(path, "not a regular file (a device, pipe or socket): not read")
    if st.st_size > limit:
        raise BadInputError(path, f"the file is {st.st_size / 2**30:.1f} GiB, over the {limit / 2**30:.0f} GiB limit")


def _check_pixels(path: Path, w: int, h: int) -> None:
    if w > MAX_SIDE or h > MAX_SIDE or w * h > MAX_PIXELS:
        raise BadInputError(path, f"an image of {w} x {h} pixels: over the limit of {MAX_PIXELS // 1_000_000} "
                                  f"megapixels and {MAX_SIDE:,} pixels a side")


def _read_bytes(path: Path) -> bytes:
    check_regular_file(path, MAX_IMAGE_BYTES)
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


def _png_check(path: Path, data: bytes, inflate: bool = False) -> tuple[int, int]:
    """Walk a PNG's chunks: the header, every chunk's CRC (so truncation and any damaged byte are
    caught) and, with ``inflate``, the compressed image stream inflated and its size checked.
    A fraction of the cost of a full decode. Returns (height, width)."""
    import zlib

    n = len(data)
    pos = 8
    ihdr = None
    idat = []
    while True:
        if pos + 12 > n:
            raise BadInputError(path, "truncated PNG image (it ends inside a chunk)")
        length = int.from_bytes(data[pos:pos + 4], "big")
        end = pos + 12 + length
        if end > n:
            raise BadInputError(path, "truncated PNG image (it ends inside a chunk)")
        kind = data[pos + 4:pos + 8]
        if zlib.crc32(data[pos + 4:pos + 8 + length]) != int.from_bytes(data[end - 4:end], "big"):
            raise BadInputError(path, f"corrupt PNG image (checksum of its {kind.decode('latin-1')!r} chunk is wrong)")
        if kind == b"IHDR":
            ihdr = data[pos + 8:pos + 8 + length]
        elif kind == b"IDAT":
            idat.append(data[pos + 8:pos + 8 + length])
        elif kind == b"IEND":
            break
        pos = end
    if ihdr is None or len(ihdr) != 13 or not idat:
        raise BadInputError(path, "corrupt PNG image (no header or no image data)")
    width, height = int.from_bytes(ihdr[0:4], "big"), int.from_bytes(ihdr[4:8], "big")
    depth, colour, interlace = ihdr[8], ihdr[9], ihdr[12]
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(colour)
    if channels is None or width < 1 or height < 1 or depth not in (1, 2, 4, 8, 16):
        raise BadInputError(path, f"corrupt PNG image (bad header: {width}x{height}, colour type {colour})")
    _check_pixels(path, width, height)  # before anything is inflated: a header may lie about its size
    if inflate:
        expected = height * (1 + (width * channels * depth + 7) // 8)
        try:
            inflater = zlib.decompressobj()
            raw = inflater.decompress(b"".join(idat), expected + 1)  # never more than the image can hold
            complete = inflater.eof
        except zlib.error as exc:
            raise BadInputError(path, f"corrupt PNG image (its compressed data is damaged: {exc})") from None
        if not complete and len(raw) <= expected:
            raise BadInputError(path, "corrupt PNG image (its compressed data ends early)")
        if interlace == 0 and len(raw) != expected:
            raise BadInputError(path, "corrupt PNG image (the image data has the wrong size)")
    return height, width


_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_check(path: Path, data: bytes) -> tuple[int, int]:
    """Walk a JPEG's marker segments up to the scan, and check it ends with the end-of-image
    marker. Returns (height, width)."""
    n = len(data)
    if not data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        raise BadInputError(path, "truncated JPEG image (no end-of-image marker)")
    pos = 2
    size = None
    while pos + 4 <= n:
        if data[pos] != 0xFF:
            raise BadInputError(path, f"corrupt JPEG image (no marker at byte {pos})")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        if length < 2 or pos + 2 + length > n:
            raise BadInputError(path, "truncated JPEG image (a segment runs past the end)")
        if marker in _SOF and length >= 7:
            size = (int.from_bytes(data[pos + 5:pos + 7], "big"), int.from_bytes(data[pos + 7:pos + 9], "big"))
        if marker == 0xDA:  # start of scan: the compressed data follows
            break
        pos += 2 + length
    if size is None or size[0] < 1 or size[1] < 1:
        raise BadInputError(path, "corrupt JPEG image (no frame header before the image data)")
    return size


def probe(path: str | Path, verify: bool | str = True) -> MediaInfo:
    """Check one media file and describe it (kind, size, sha256). Raises BadInputError.

    ``verify``: ``"full"`` decodes every image; ``True`` (``"structure"``) checks PNG files byte for
    byte (every chunk checksum, the inflated image stream and its size) and JPEG files by their
    segment structure and end marker, and decodes other formats; ``False`` reads only the header.
    Point clouds are parsed by ``clouds.probe_cloud``.
    """
    path = Path(path)
    kind = kind_of(path)
    if kind is None:
        raise BadInputError(path, f"unsupported media type '{path.suffix or '(no extension)'}'; "
                                  f"images: {', '.join(sorted(IMAGE_EXTS))}; point clouds: {', '.join(sorted(CLOUD_EXTS))}")
    if not kind.builtin:  # a plugin's medium checks its own files
        from .. import media_kinds

        return media_kinds.probe(kind, path)
    if kind is ItemKind.CLOUD:
        from . import clouds

        check_regular_file(path, MAX_CLOUD_BYTES)
        n_points, digest = clouds.probe_cloud(path)
        return MediaInfo(ItemKind.CLOUD, digest, n_points=n_points)
    data = _read_bytes(path)
    digest = hashlib.sha256(data).hexdigest()
    if not data:
        raise BadInputError(path, "the image file is empty")
    if verify == "full":
        img = decode_image(path, data)
        h, w = img.shape[:2]
    elif verify and data[:8] == b"\x89PNG\r\n\x1a\n":
        h, w = _png_check(path, data, inflate=True)
    elif verify and data[:3] == b"\xff\xd8\xff":
        h, w = _jpeg_check(path, data)
    elif verify:
        img = decode_image(path, data)
        h, w = img.shape[:2]
    else:
        h, w = _image_size_from_header(path, data)
    if h < 2 or w < 2:
        raise BadInputError(path, f"image too small ({w}x{h})")
    _check_pixels(path, int(w), int(h))
    return MediaInfo(ItemKind.IMAGE, digest, width=int(w), height=int(h))


def _image_size_from_header(path: Path, data: bytes) -> tuple[int, int]:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        _check_complete(path, data)
        return int.from_bytes(data[20:24], "big"), int.from_bytes(data[16:20], "big")
    img = decode_image(path, data)
    return img.shape[0], img.shape[1]


def probe_many(paths: Iterable[Path], verify: bool | str = True, workers: int | None = None, chunk: int = 256):
    """Probe many files, in chunks on a thread pool (reading, hashing, inflating and decoding release
    the GIL). Yields ``(path, MediaInfo | BadInputError)`` in the order given."""
    paths = list(paths)
    workers = workers or min(8, (os.cpu_count() or 2))

    def one(p: Path):
        try:
            return p, probe(p, verify=verify)
        except BadInputError as exc:
            return p, exc

    def many(ps: list[Path]):
        return [one(p) for p in ps]

    # structure checks hold the GIL (small reads, inflate): threads only pay off when decoding
    if len(paths) < 2 * chunk or workers <= 1 or verify != "full":
        for p in paths:
            yield one(p)
        return
    chunks = [paths[k:k + chunk] for k in range(0, len(paths), chunk)]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vqa-probe") as pool:
        for result in pool.map(many, chunks):
            yield from result
