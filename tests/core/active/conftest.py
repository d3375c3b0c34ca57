import shutil

import pytest

from vqa_studio.core.demo import build_demo
from vqa_studio.core.project import Project
from vqa_studio.core.train.config import TrainingArgs
from vqa_studio.core.train.pipeline import run_training


@pytest.fixture(scope="module")
def trained_folder(tmp_path_factory):
    """A small real demo project (60 scenes, 300 questions, half the training scenes labelled) with a
    trained model (3 quick epochs)."""
    folder = tmp_path_factory.mktemp("demo") / "project"
    Project.run(build_demo(folder, n_scenes=60, seed=3, labelled_fraction=0.5, questions_per_scene=5))
    with Project.open(folder) as p:
        p.run(run_training(p, TrainingArgs(epochs=3, batch_size=32, mc_samples=2)))
    return folder


@pytest.fixture
def trained(trained_folder, tmp_path):
    """A fresh copy of the trained demo project for each test."""
    dst = tmp_path / "project"
    shutil.copytree(trained_folder, dst)
    p = Project.open(dst)
    p.annotator = "tester"
    yield p
    p.close()
