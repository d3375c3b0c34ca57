"""Names that come from input files are data, never paths: a split (CSV column, VQA v2 data_subtype)
like ``../../../X`` or ``/abs/path`` is stored as given and exported under ``--out`` only."""
from __future__ import annotations

import os

import pytest

from tests.conftest import write_png
from vqa_studio import cli
from vqa_studio.core.formats.base import safe_name

HOSTILE = ["../../../escaped", "/tmp/vqa-abs-escape", "..", "C:\\Windows\\evil", "CON", "a/b/../../c", ".hidden"]


@pytest.mark.parametrize("name", HOSTILE + ["train", "val2014", "test-dev.v2", ""])
def test_safe_name_is_one_harmless_component(name):
    out = safe_name(name)
    assert out and os.sep not in out and "/" not in out and "\\" not in out
    assert out not in (".", "..") and not out.startswith(".") and ":" not in out
    assert out.split(".")[0].upper() not in ("CON", "PRN", "AUX", "NUL")
    if name in ("train", "val2014", "test-dev.v2"):
        assert out == name  # ordinary names are kept as they are


def _files_outside(root, allowed):
    found = []
    for folder, _, files in os.walk(root):
        for f in files:
            path = os.path.join(folder, f)
            if not any(path.startswith(str(a)) for a in allowed):
                found.append(path)
    return found


@pytest.mark.parametrize("fmt", ["vqa_v2", "folder", "clevr", "csv"])
def test_export_writes_only_under_out(fmt, tmp_path, capsys):
    images = tmp_path / "images"
    images.mkdir()
    rows = ["image,question,answer,split"]
    for n, split in enumerate(HOSTILE):
        write_png(images / f"img{n}.png", color=(10 * n, 40, 90))
        rows.append(f"img{n}.png,what colour is it?,red,{split}")
    (tmp_path / "in.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    project, out = tmp_path / "p", tmp_path / "deep" / "deeper" / "out"
    assert cli.main(["import", "--project", str(project), "--format", "csv", "--input", str(tmp_path / "in.csv"),
                     "--images", str(images), "-q"]) == 0
    before = set(_files_outside(tmp_path, [project, out]))
    assert cli.main(["export", "--project", str(project), "--format", fmt, "--out", str(out)]) == 0
    assert set(_files_outside(tmp_path, [project, out])) == before  # nothing new outside --out
    assert not os.path.exists("/tmp/vqa-abs-escape")
    written = [os.path.join(d, f) for d, _, fs in os.walk(out) for f in fs]
    assert written and all(os.path.realpath(w).startswith(os.path.realpath(out)) for w in written)
    from vqa_studio.core.project import Project

    with Project.open(project) as p:  # the splits themselves are kept as data
        assert set(p.stats().by_split) == set(HOSTILE)
