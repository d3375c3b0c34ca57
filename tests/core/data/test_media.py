import numpy as np
import pytest

from tests.conftest import write_png
from vqa_studio.core.data import media
from vqa_studio.core.errors import BadInputError
from vqa_studio.core.types import ItemKind


def test_probe_png_and_jpeg(tmp_path):
    import cv2

    png = write_png(tmp_path / "a.png", size=40)
    info = media.probe(png)
    assert (info.kind, info.width, info.height) == (ItemKind.IMAGE, 40, 40)
    assert info.sha256 == media.sha256_file(png)
    jpg = tmp_path / "b.jpg"
    cv2.imwrite(str(jpg), np.zeros((20, 30, 3), np.uint8))
    assert (media.probe(jpg).width, media.probe(jpg).height) == (30, 20)
    assert media.probe(png, verify=False).width == 40


def test_load_image_is_rgb_and_resizes(tmp_path):
    p = write_png(tmp_path / "red.png", (255, 0, 0), size=50)
    img = media.load_image(p)
    assert img.shape == (50, 50, 3) and tuple(img[2, 2]) == (255, 0, 0)
    assert media.load_image(p, size=64).shape == (64, 64, 3)


@pytest.mark.parametrize("content, match", [
    (b"", "empty"),
    (b"hello, I am text", "not a readable image"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 50, "truncated JPEG"),
])
def test_bad_images(tmp_path, content, match):
    p = tmp_path / "bad.jpg"
    p.write_bytes(content)
    with pytest.raises(BadInputError, match=match) as err:
        media.probe(p)
    assert err.value.path == str(p)


def test_truncated_png(tmp_path):
    p = write_png(tmp_path / "a.png")
    p.write_bytes(p.read_bytes()[:-20])
    with pytest.raises(BadInputError, match="truncated PNG"):
        media.load_image(p)


def test_missing_and_unsupported(tmp_path):
    with pytest.raises(BadInputError, match="file not found"):
        media.probe(tmp_path / "none.png")
    (tmp_path / "x.gif").write_bytes(b"GIF89a")
    with pytest.raises(BadInputError, match="unsupported media type"):
        media.probe(tmp_path / "x.gif")


def test_probe_many_keeps_order_and_reports_errors(tmp_path):
    paths = [write_png(tmp_path / f"{i}.png") for i in range(100)]
    paths[37].write_bytes(b"junk")
    out = list(media.probe_many(paths))
    assert [p for p, _ in out] == paths
    assert isinstance(out[37][1], BadInputError) and sum(isinstance(i, BadInputError) for _, i in out) == 1


def test_kind_of():
    assert media.kind_of("a.PNG") is ItemKind.IMAGE
    assert media.kind_of("scan.laz") is ItemKind.CLOUD
    assert media.kind_of("x.txt") is None


def test_a_damaged_byte_inside_a_png_is_caught(tmp_path):
    p = write_png(tmp_path / "a.png", size=40)
    data = bytearray(p.read_bytes())
    idat = data.index(b"IDAT")
    data[idat + 10] ^= 0x55  # one bit pattern flipped inside the compressed image data
    p.write_bytes(bytes(data))
    with pytest.raises(BadInputError, match="corrupt PNG image.*IDAT"):
        media.probe(p)
    assert media.probe(write_png(tmp_path / "ok.png", size=40)).width == 40


def test_full_verification_decodes(tmp_path):
    p = write_png(tmp_path / "a.png", size=24)
    assert media.probe(p, verify="full").height == 24
