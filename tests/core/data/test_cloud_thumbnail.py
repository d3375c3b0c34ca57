"""The point cloud's queue thumbnail: a top-down picture, the highest point of each pixel."""
from __future__ import annotations

import numpy as np
import pytest

from vqa_studio.core.data.clouds import Cloud, save_cloud
from vqa_studio.core.data.clouds.thumbnail import cloud_thumbnail, height_colours
from vqa_studio.core.errors import BadInputError

BG = (22, 25, 31)


def _ground_and_tower(n: int = 20_000, seed: int = 0):
    rng = np.random.default_rng(seed)
    ground = np.column_stack([rng.uniform(-5, 5, n), rng.uniform(-5, 5, n), rng.uniform(0, 0.05, n)])
    tower = np.column_stack([rng.uniform(2, 3, n // 10), rng.uniform(2, 3, n // 10), rng.uniform(0, 3, n // 10)])
    return np.concatenate([ground, tower]).astype(np.float32), n


def test_a_written_cloud_gives_a_filled_picture_of_the_right_size(tmp_path):
    xyz, n = _ground_and_tower()
    rgb = np.zeros_like(xyz)
    rgb[:n] = (0.5, 0.5, 0.5)          # grey ground
    rgb[n:] = (1.0, 0.0, 0.0)          # a red tower
    path = save_cloud(tmp_path / "scene.ply", Cloud(xyz, rgb)) or tmp_path / "scene.ply"
    img = cloud_thumbnail(path, 44)
    assert img.shape == (44, 44, 3) and img.dtype == np.uint8
    filled = (img != BG).any(axis=-1)
    assert filled.mean() > 0.6          # the ground covers the square
    # the tower stands at x, y in 2..3: top-right of the picture (y up), drawn red (its top is highest)
    # (x 2..3 -> columns ~30-35, y 2..3 -> rows ~8-13 at 4.4 px/m)
    corner = img[9:12, 31:34].reshape(-1, 3).astype(int)
    assert ((corner[:, 0] > 150) & (corner[:, 1] < 40)).mean() > 0.7
    # the ground elsewhere keeps its grey, darkened because it is low
    g = img[30, 8].astype(int)
    assert abs(g[0] - g[1]) < 8 and 50 < g[0] < 110


def test_without_colours_the_height_ramp_is_used():
    xyz, _ = _ground_and_tower()
    img = cloud_thumbnail(xyz, 32)
    assert img.shape == (32, 32, 3)
    low, high = height_colours(np.array([0.0, 1.0]))
    assert np.allclose(img[22, 6], low, atol=12)       # the ground: the ramp's low end
    top = img[7:9, 22:24].reshape(-1, 3).astype(float)
    assert (np.abs(top - high).sum(axis=1) < 80).mean() > 0.3  # the tower's top: near the high end


def test_large_clouds_are_subsampled_and_empty_ones_are_background():
    xyz, _ = _ground_and_tower(300_000)
    a = cloud_thumbnail(xyz, 40, max_points=50_000)
    b = cloud_thumbnail(xyz, 40, max_points=50_000)
    assert (a == b).all() and (a != BG).any(axis=-1).mean() > 0.6   # fixed subset: the same picture
    empty = cloud_thumbnail(np.zeros((0, 3), np.float32), 20)
    assert empty.shape == (20, 20, 3) and (empty == BG).all()
    with pytest.raises(ValueError):
        cloud_thumbnail(xyz, 0)


def test_an_unreadable_file_is_bad_input_naming_it(tmp_path):
    bad = tmp_path / "broken.ply"
    bad.write_text("ply\nformat nonsense\n")
    with pytest.raises(BadInputError) as err:
        cloud_thumbnail(bad)
    assert "broken.ply" in str(err.value)
