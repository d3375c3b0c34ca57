"""Knowledge that transfers, through the command line: a pretrained backbone from a folder
(``--encoder hf:<folder>``, features cached on disk), ``--init-from`` another model file, the
``encoders`` listing and the error-detection lines of ``evaluate``."""
from __future__ import annotations

import pytest

from vqa_studio import cli

pytest.importorskip("transformers")

from tests.core.model.test_pretrained import save_tiny  # noqa: E402


def run(*args):
    return cli.main([str(a) for a in args])


@pytest.fixture
def tiny_demo(tmp_path):
    from vqa_studio.core.demo import build_demo
    from vqa_studio.core.project import Project

    proj = tmp_path / "demo"
    Project.run(build_demo(proj, n_scenes=30, seed=5, questions_per_scene=5))
    return proj


def _feature_files(proj):
    return sorted(p for p in (proj / "cache" / "features").rglob("*.npy"))


def test_pretrained_encoder_from_a_folder_with_cached_features(tiny_demo, tmp_path, capsys, one_torch_thread):
    folder = save_tiny("resnet", tmp_path / "my-resnet")
    args = ["train", "--project", tiny_demo, "--encoder", "hf", "--encoder-weights", folder, "--epochs", "1",
            "--batch-size", "32", "--mc-samples", "2", "--device", "cpu", "-q"]
    assert run(*args) == 0
    files = _feature_files(tiny_demo)
    assert len(files) == 30  # one per image, keyed by content hash
    stamps = [f.stat().st_mtime_ns for f in files]
    capsys.readouterr()
    # the second run reads the cached features: the backbone does not run, nothing is rewritten
    from vqa_studio.core.model import pretrained

    calls = []
    backbone = pretrained.load_backbone(folder)
    hook = backbone.register_forward_hook(lambda *a: calls.append(1))
    try:
        assert run(*args) == 0
    finally:
        hook.remove()
    assert [f.stat().st_mtime_ns for f in _feature_files(tiny_demo)] == stamps
    assert not calls
    assert run("models", "--project", tiny_demo) == 0
    assert "v2" in capsys.readouterr().out
    assert run("evaluate", "--project", tiny_demo, "--split", "test") == 0
    out = capsys.readouterr().out.splitlines()
    i = next(k for k, line in enumerate(out) if line.startswith("overall: "))
    assert out[i + 1].startswith("error detection: AUROC ") and out[i + 1].endswith("(entropy)")
    assert out[i + 2].startswith("error rate of the most confident tenth: ")


def test_init_from_another_projects_model_reports_what_it_loaded(tiny_demo, tmp_path, capsys, one_torch_thread):
    from vqa_studio.core.demo import build_demo
    from vqa_studio.core.project import Project

    other = tmp_path / "other"
    Project.run(build_demo(other, n_scenes=20, seed=9, questions_per_scene=5))
    common = ["--epochs", "1", "--batch-size", "32", "--mc-samples", "2", "--device", "cpu", "-q"]
    assert run("train", "--project", other, *common) == 0
    capsys.readouterr()
    assert run("train", "--project", tiny_demo, "--init-from", other / "models" / "v1.pt", *common) == 0
    out = capsys.readouterr().out
    assert "image: initialised from" in out and "tensors loaded" in out and "matched by word / answer" in out
    assert run("train", "--project", tiny_demo, "--init-from", tmp_path / "missing.pt", *common) == 2
    assert "missing.pt" in capsys.readouterr().err


def test_encoders_listing_and_bad_encoder_names(tmp_path, capsys):
    assert run("encoders") == 0
    out = capsys.readouterr().out
    assert "cnn_grid" in out and "pointnet" in out and "hf:<folder or hub id>" in out
    with pytest.raises(SystemExit) as exit_:
        run("train", "--project", tmp_path / "p", "--encoder", "hf")
    assert exit_.value.code == 2 and "--encoder-weights" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        run("train", "--project", tmp_path / "p", "--encoder", "nonsense")
    assert exit_.value.code == 2 and "unknown image encoder" in capsys.readouterr().err
