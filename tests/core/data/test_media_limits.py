"""Media are checked at import for what later steps need: regular files only (a pipe would block the
import forever, /dev/zero never ends), an image's declared size within the documented limit, and a
PNG's compressed stream inflated (valid chunk checksums around a broken stream are not enough)."""
from __future__ import annotations

import os
import struct
import zlib

import pytest

from tests.conftest import write_png
from vqa_studio.core.data import media
from vqa_studio.core.errors import BadInputError


def _chunks(data: bytes):
    pos, out = 8, []
    while pos < len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        out.append([data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]])
        pos += 12 + length
    return out


def _png(chunks) -> bytes:
    body = b"".join(struct.pack(">I", len(d)) + k + d + struct.pack(">I", zlib.crc32(k + d)) for k, d in chunks)
    return b"\x89PNG\r\n\x1a\n" + body


@pytest.fixture
def png(tmp_path):
    return write_png(tmp_path / "ok.png", size=32).read_bytes()


def test_a_pipe_and_a_device_are_refused_without_reading(tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)  # opening it for reading would block until a writer comes: never here
    with pytest.raises(BadInputError, match="not a regular file"):
        media.probe(fifo)
    dev = tmp_path / "zero.png"
    dev.symlink_to("/dev/zero")
    with pytest.raises(BadInputError, match="not a regular file"):
        media.probe(dev)
    with pytest.raises(BadInputError, match="not a regular file"):
        media.load_image(dev)


def test_a_header_declaring_65535_squared_pixels(tmp_path, png):
    chunks = _chunks(png)
    ihdr = bytearray(chunks[0][1])
    ihdr[0:8] = struct.pack(">II", 65535, 65535)
    chunks[0][1] = bytes(ihdr)
    path = tmp_path / "huge.png"
    path.write_bytes(_png(chunks))  # every chunk checksum is right
    with pytest.raises(BadInputError, match="over the limit"):
        media.probe(path)


def test_valid_checksums_around_a_broken_stream(tmp_path, png):
    chunks = _chunks(png)
    for c in chunks:
        if c[0] == b"IDAT":
            c[1] = c[1][:2] + bytes(b ^ 0x5A for b in c[1][2:])
    path = tmp_path / "broken-stream.png"
    path.write_bytes(_png(chunks))
    with pytest.raises(BadInputError, match="corrupt PNG"):
        media.probe(path)
    assert media.probe(tmp_path / "ok.png").width == 32  # the good one still passes
