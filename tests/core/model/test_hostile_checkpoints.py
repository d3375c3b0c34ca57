"""A model file that carries code is refused wherever a model file is read, its code never runs, and
the message names the file without suggesting ``weights_only=False``."""
from __future__ import annotations

import pickle

import pytest

from vqa_studio import cli
from vqa_studio.core.errors import CheckpointError
from vqa_studio.core.model import registry, transfer


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):  # what unpickling would run: create the marker file
        return (open, (str(self.marker), "w"))


def _evil(path, marker):
    with open(path, "wb") as fh:
        pickle.dump({"format": registry.FORMAT, "nets": {"image": _Payload(marker)}}, fh, protocol=2)
    return path


@pytest.fixture
def evil(tmp_path):
    marker = tmp_path / "code-ran"
    return _evil(tmp_path / "other-project.pt", marker), marker


@pytest.mark.parametrize("read", [registry.load_bundle, transfer.load_source, registry.read_model_file])
def test_code_in_a_model_file_never_runs(evil, read):
    path, marker = evil
    with pytest.raises(CheckpointError) as err:
        read(path)
    text = str(err.value)
    assert str(path) in text and "weights_only" not in text and "Python objects or code" in text
    assert not marker.exists()


def test_through_the_cli(evil, tmp_path, capsys):
    from vqa_studio.core.demo import build_demo
    from vqa_studio.core.project import Project

    path, marker = evil
    proj = tmp_path / "p"
    Project.run(build_demo(proj, n_scenes=6, seed=1, questions_per_scene=2))
    for args in (["train", "--project", proj, "--init-from", path, "--epochs", "1", "-q"],
                 ["score", "--project", proj, "--model", path]):
        assert cli.main([str(a) for a in args]) == 2
        err = capsys.readouterr().err
        assert str(path) in err and "weights_only" not in err
    assert not marker.exists()
