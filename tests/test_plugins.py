"""Plugins: discovery reads metadata only; the example plugin's format works end to end."""
import sys
from pathlib import Path

import pytest

from tests.conftest import write_png
from vqa_studio import cli, plugins
from vqa_studio.core.project import Project

EXAMPLE = Path(__file__).resolve().parents[1] / "plugins" / "vqa-studio-jsonl"


@pytest.fixture
def example_plugin(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLE))
    monkeypatch.setattr(plugins, "BUILTIN_PLUGINS", {"jsonl": "vqa_studio_jsonl:register"})
    yield
    for mod in [m for m in sys.modules if m.startswith("vqa_studio_jsonl")]:
        del sys.modules[mod]


def test_discover_imports_nothing(example_plugin):
    infos = plugins.discover()
    assert any(i.name == "jsonl" and i.target == "vqa_studio_jsonl:register" for i in infos)
    assert "vqa_studio_jsonl" not in sys.modules


def test_load_is_lazy_about_the_heavy_part(example_plugin):
    registry, infos = plugins.load_plugins()
    assert "jsonl" in registry.formats and all(i.loaded for i in infos if i.name == "jsonl")
    assert "vqa_studio_jsonl" in sys.modules and "vqa_studio_jsonl.format" not in sys.modules


def test_broken_plugin_is_reported_not_fatal(monkeypatch):
    monkeypatch.setattr(plugins, "BUILTIN_PLUGINS", {"broken": "no_such_module_xyz:register"})
    registry, infos = plugins.load_plugins()
    broken = next(i for i in infos if i.name == "broken")
    assert not broken.loaded and "ModuleNotFoundError" in broken.error


def test_plugin_format_through_the_cli(example_plugin, tmp_path, capsys):
    write_png(tmp_path / "a.png")
    write_png(tmp_path / "b.png", (0, 0, 255))
    (tmp_path / "q.jsonl").write_text('{"image": "a.png", "question": "Is it round?", "answer": "yes"}\n\n'
                                      '{"image": "b.png", "question": "How many?", "split": "val"}\n')
    assert cli.main(["import", "--project", str(tmp_path / "p"), "--format", "jsonl", "--input", str(tmp_path / "q.jsonl"), "-q"]) == 0
    with Project.open(tmp_path / "p") as p:
        assert p.stats().n_questions == 2 and p.stats().by_split == {"train": 1, "val": 1}
    assert cli.main(["export", "--project", str(tmp_path / "p"), "--format", "jsonl", "--out", str(tmp_path / "o")]) == 0
    assert len((tmp_path / "o" / "questions.jsonl").read_text().splitlines()) == 2
    assert cli.main(["plugins"]) == 0
    assert "jsonl" in capsys.readouterr().out


def test_unknown_format(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["import", "--project", str(tmp_path / "p"), "--format", "nope", "--input", "x"])
    assert e.value.code == 2 and "unknown format 'nope'" in capsys.readouterr().err
