import pytest

from vqa_studio.core.demo import build_demo
from vqa_studio.core.project import Project


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory):
    """A small real demo project (60 scenes, 300 questions, half the training scenes labelled)."""
    folder = tmp_path_factory.mktemp("demo") / "project"
    Project.run(build_demo(folder, n_scenes=60, seed=3, labelled_fraction=0.5, questions_per_scene=5))
    return folder


@pytest.fixture
def demo(demo_folder, tmp_path):
    """A fresh copy of the small demo project for each test."""
    import shutil

    dst = tmp_path / "project"
    shutil.copytree(demo_folder, dst)
    p = Project.open(dst)
    p.annotator = "tester"
    yield p
    p.close()
