"""Plugins: discovery reads metadata only; the example plugin's format works end to end."""
import sys
from pathlib import Path

import pytest

from tests.conftest import write_png
from vqa_studio import cli, plugins
from vqa_studio.core import registry as registry_mod
from vqa_studio.core.project import Project

EXAMPLE = Path(__file__).resolve().parents[1] / "plugins" / "vqa-studio-jsonl"


@pytest.fixture(autouse=True)
def fresh_registry(monkeypatch):
    """Each test starts from a registry with the built-ins only; the app's registry comes back after."""
    monkeypatch.setattr(registry_mod, "_default", None)


class _EntryPoint:
    """What ``importlib.metadata.entry_points(group=...)`` gives for an installed plugin."""

    def __init__(self, name: str, value: str, dist: str):
        self.name, self.value, self.group = name, value, plugins.GROUP
        self.dist = type("Dist", (), {"name": dist})()


@pytest.fixture
def example_plugin(monkeypatch):
    """The example plugin of plugins/ installed: importable, and its entry point in the metadata
    (the only way the app learns of it). The app's registry is a fresh one for the test."""
    monkeypatch.setattr(registry_mod, "_default", None)
    monkeypatch.syspath_prepend(str(EXAMPLE))
    real = plugins.metadata.entry_points

    def entry_points(**kw):
        if kw.get("group") == plugins.GROUP:
            return [_EntryPoint("jsonl", "vqa_studio_jsonl:register", "vqa-studio-jsonl")]
        return real(**kw)

    monkeypatch.setattr(plugins.metadata, "entry_points", entry_points)
    for mod in [m for m in sys.modules if m.startswith("vqa_studio_jsonl")]:
        monkeypatch.delitem(sys.modules, mod)  # installed, an earlier CLI call in the session imported it
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


def test_plugin_format_in_export_help_and_choices(example_plugin, capsys):
    plugins.load_plugins()                                   # what the CLI's main does first
    with pytest.raises(SystemExit):
        cli.main(["export", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "jsonl: JSON Lines" in help_text and "(plugin jsonl)" in help_text
    assert "kitti:" in help_text and "datumaro:" in help_text and "labelcloud:" in help_text
    assert "vqa_studio_jsonl.format" not in sys.modules     # listed without importing the format's code


def test_plugin_acquisition_reaches_the_core_without_activation(example_plugin):
    import numpy as np

    from vqa_studio.core.uncertainty import acquisition

    assert "prob_variance" not in acquisition.acquisition_names()
    plugins.load_plugins()
    names = acquisition.acquisition_names()
    assert names[-1] == "prob_variance" and names[:7] == list(acquisition._BUILTIN)
    assert "vqa_studio_jsonl.acquisition" not in sys.modules  # imported on first use only
    probs = np.array([[[0.9, 0.1], [0.1, 0.9]], [[0.5, 0.5], [0.5, 0.5]]])  # [N=2, C=2, T=2]
    scores = acquisition.score_all(probs)                      # what scoring computes and stores
    np.testing.assert_allclose(scores["prob_variance"], [0.16, 0.0])
    assert acquisition.get_acquisition("prob_variance") is sys.modules["vqa_studio_jsonl.acquisition"].prob_variance
    # the queue's sort list: every registered method, plugins' included, then stored-only ones
    assert acquisition.sort_methods(["entropy", "old_plugin_method"]) == [*names, "old_plugin_method"]


def test_load_plugins_runs_each_register_once(example_plugin):
    registry, _ = plugins.load_plugins()
    again, infos_again = plugins.load_plugins()
    assert again is registry and [i.name for i in infos_again] == ["jsonl"]
    with pytest.raises(ValueError, match="already registered"):
        registry.add_format("jsonl", reader="x:y")


def test_broken_plugin_is_listed_and_its_partial_registrations_removed(monkeypatch, capsys):
    def half_broken(registry):
        registry.add_acquisition("half_done", lambda probs: probs)
        raise RuntimeError("cannot find its model files")

    monkeypatch.setattr(plugins, "BUILTIN_PLUGINS", {"half": "tests.test_plugins:HALF", "broken": "no_such_xyz:register"})
    monkeypatch.setattr(sys.modules[__name__], "HALF", half_broken, raising=False)
    assert cli.main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "half" in out and "FAILED: RuntimeError: cannot find its model files" in out
    assert "broken" in out and "ModuleNotFoundError" in out
    from vqa_studio.core.uncertainty.acquisition import acquisition_names

    assert "half_done" not in acquisition_names()
    with pytest.raises(SystemExit) as exit_:                   # the app keeps working
        cli.main(["export", "--help"])
    assert exit_.value.code == 0 and "csv:" in capsys.readouterr().out


def test_unavailable_encoder_is_listed_with_its_install_command():
    from vqa_studio.core.model import encoders
    from vqa_studio.core.registry import default_registry

    reg = default_registry()
    reg.add_media_encoder("hf_vit", "no_such_transformers_xyz:vit", modality="image", available=False,
                          error="transformers is not installed", install="pip install 'vqa-studio[hf]'")
    assert "hf_vit" in encoders.media_encoder_names() and "hf_vit" not in reg.media_encoder_names(available_only=True)
    with pytest.raises(RuntimeError, match=r"not available here: transformers is not installed.*pip install"):
        encoders.make_media_encoder("hf_vit", 8)


def test_plugins_command_lists_an_unavailable_encoder_with_its_install_command(capsys):
    from vqa_studio.core.registry import default_registry

    default_registry().add_media_encoder("hf_clip", "no_such_xyz:clip", available=lambda: False,
                                         error="transformers is not installed", install="pip install transformers")
    assert cli.main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "media encoder hf_clip" in out and "UNAVAILABLE (transformers is not installed" in out
    assert "install with: pip install transformers" in out and "cnn_grid" not in out


def test_plugin_acquisition_scores_and_orders_the_queue_from_the_cli(example_plugin, tmp_path, capsys,
                                                                    one_torch_thread):
    """Installed, the plugin's acquisition function is computed by scoring, stored, and sorts the queue."""
    from vqa_studio.core import insights
    from vqa_studio.core.demo import build_demo

    proj = tmp_path / "demo"
    Project.run(build_demo(proj, n_scenes=30, seed=2, questions_per_scene=4, n_scenes_3d=0, train=False))
    assert cli.main(["train", "--project", str(proj), "--epochs", "1", "--batch-size", "32", "--mc-samples", "3",
                     "--device", "cpu", "-q"]) == 0
    capsys.readouterr()
    assert cli.main(["score", "--project", str(proj), "--method", "prob_variance", "--mc-samples", "3", "-q"]) == 0
    assert "most informative by prob_variance:" in capsys.readouterr().out
    with Project.open(proj) as p:
        assert "prob_variance" in insights.scored_methods(p) and p.acquisition == "prob_variance"
        scores = [r.score for r in p.queue(order_by="prob_variance", limit=20)]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0


# --- the example plugins of plugins/, installed (scripts/run-tests.sh: pip install -e plugins/<each>) ----------

INSTALLED = {"jsonl": "vqa-studio-jsonl", "labelstudio": "vqa-studio-labelstudio", "textqa": "vqa-studio-textqa"}


def test_the_three_example_plugins_are_discovered_when_installed(monkeypatch):
    """From the installed packages' metadata alone (no monkeypatching of it): each plugins/ package,
    once ``pip install -e plugins/<name>`` ran, is found, loads, and adds what it says."""
    for mod in [m for m in sys.modules if m.startswith(("vqa_studio_textqa", "vqa_studio_labelstudio"))]:
        monkeypatch.delitem(sys.modules, mod)  # imported by an earlier test of the session: load afresh
    found = {i.name: i for i in plugins.discover()}
    missing = [f"{name} ({dist})" for name, dist in INSTALLED.items() if name not in found]
    assert not missing, f"not installed: {missing}; run: pip install -e plugins/<name> (scripts/run-tests.sh does)"
    assert {found[n].dist for n in INSTALLED} == set(INSTALLED.values())
    registry, infos = plugins.load_plugins()
    assert all(i.loaded and i.error is None for i in infos if i.name in INSTALLED), [(i.name, i.error) for i in infos]
    assert registry.formats["jsonl"].source == "jsonl" and registry.formats["labelstudio"].can_export
    assert registry.formats["babi"].can_import and registry.formats["babi"].source == "textqa"
    story = registry.media["story"]
    assert story.source == "textqa" and story.extensions == (".story",) and story.view
    assert "vqa_studio_textqa.model" not in sys.modules and "vqa_studio_labelstudio.export" not in sys.modules
    assert {"image", "cloud", "story"} <= set(registry.media)


def test_a_medium_is_registered_like_the_built_ins():
    from vqa_studio.core.registry import Registry
    from vqa_studio.core.types import ItemKind

    reg = registry_mod.default_registry()
    assert set(reg.media) >= {"image", "cloud"} and reg.media["image"].source == "built-in"
    fresh = Registry()
    fresh.add_medium("sketch", extensions=("SKT", ".skt2"), probe="x:probe")
    assert fresh.media["sketch"].extensions == (".skt", ".skt2") and fresh.medium_of_suffix(".SKT").name == "sketch"
    assert ItemKind("sketch") is ItemKind("sketch") and ItemKind("sketch").value == "sketch"
    assert "sketch" not in [k.value for k in ItemKind]
    with pytest.raises(ValueError, match="already taken"):
        fresh.add_medium("doodle", extensions=(".skt",))
    with pytest.raises(ValueError, match="lower-case identifier"):
        fresh.add_medium("Bad Name")
    with pytest.raises(ValueError, match="not a valid ItemKind"):
        ItemKind("never_registered_xyz")


def test_a_plugin_failing_after_adding_a_medium_leaves_no_medium(monkeypatch, capsys):
    def half_medium(registry):
        registry.add_medium("halfmedium", extensions=(".half",), probe="x:y")
        raise RuntimeError("its model is missing")

    monkeypatch.setattr(plugins, "BUILTIN_PLUGINS", {"halfmedium": "tests.test_plugins:HALF_MEDIUM"})
    monkeypatch.setattr(sys.modules[__name__], "HALF_MEDIUM", half_medium, raising=False)
    registry, infos = plugins.load_plugins()
    info = next(i for i in infos if i.name == "halfmedium")
    assert not info.loaded and "its model is missing" in info.error
    assert "halfmedium" not in registry.media and registry.medium_of_suffix(".half") is None
    from vqa_studio.core.data.media import kind_of

    assert kind_of("x.half") is None  # its files are not importable as a medium
    assert cli.main(["plugins"]) == 0 and "FAILED: RuntimeError: its model is missing" in capsys.readouterr().out
