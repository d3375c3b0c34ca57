"""Attention overlays and decoded-image caching."""
from __future__ import annotations

import numpy as np

from vqa_studio.qt.imaging import attention_grid, attention_image


def test_attention_image():
    att = np.zeros(64, np.float32)
    att[9] = 1.0
    grid, peak = attention_grid(att)
    assert grid.shape == (8, 8) and grid[1, 1] == 1.0 and peak > 10
    img = attention_image(att, upsample=4)
    assert img.width() == 32 and img.height() == 32
    assert img.pixelColor(6, 6).alpha() > 150 and img.pixelColor(30, 30).alpha() == 0
    assert attention_grid(np.zeros(10)) is None


def test_overlay_colours_are_pyqtgraphs_inferno():
    import pyqtgraph as pg

    from vqa_studio.qt.imaging import attention_lut

    lut = attention_lut()
    assert lut.shape == (256, 3) and lut.dtype == np.uint8
    assert (lut == pg.colormap.get("inferno").getLookupTable(nPts=256, alpha=False)).all()
    att = np.zeros(16, np.float32)
    att[5] = 1.0                    # one hot cell in the map's last colour, the coldest in its first
    img = attention_image(att, upsample=1)
    hot, cold = img.pixelColor(1, 1), img.pixelColor(3, 3)
    assert (hot.red(), hot.green(), hot.blue()) == tuple(int(v) for v in lut[255])
    assert (cold.red(), cold.green(), cold.blue()) == tuple(int(v) for v in lut[0])


def test_image_cache_keeps_the_most_recent_images(qtbot, tmp_path):
    from tests.conftest import COLORS, write_png
    from vqa_studio.qt.imaging import ImageCache

    paths = [str(write_png(tmp_path / f"{k}.png", COLORS[name], size=24)) for k, name in enumerate(list(COLORS)[:3])]
    cache = ImageCache(capacity=2, thumb_capacity=2)
    try:
        for p in paths:
            with qtbot.waitSignal(cache.image_ready, timeout=10000):
                assert cache.image(p) is None   # not decoded yet: asked for
        assert not cache.has_image(paths[0]) and cache.has_image(paths[1]) and cache.has_image(paths[2])
        img = cache.image(paths[2], request=False)
        assert img is not None and img.width() == 24
        with qtbot.waitSignal(cache.thumb_ready, timeout=10000):
            assert cache.thumbnail(paths[0]) is None
        assert cache.thumbnail(paths[0], request=False).width() <= 44
    finally:
        cache.shutdown()
