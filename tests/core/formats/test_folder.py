import pytest

from tests.conftest import write_png
from vqa_studio.core.errors import BadInputError
from vqa_studio.core.formats import folder
from vqa_studio.core.project import Project


def test_import_folder_with_split_subfolders(project, tmp_path):
    root = tmp_path / "pics"
    write_png(root / "train" / "a.png")
    write_png(root / "val" / "b.png", (0, 200, 0))
    write_png(root / "c.png", (0, 0, 200))
    (root / "notes.txt").write_text("not media")
    rep = Project.run(project.import_records(folder.read(root, split="test")))
    assert rep.items_added == 3 and rep.questions_added == 0
    assert sorted((split, p.name) for split, _, p in project.export_items()) == [("test", "c.png"), ("train", "a.png"), ("val", "b.png")]


def test_export_then_reimport(project, tmp_path):
    root = tmp_path / "pics"
    for i in range(3):
        write_png(root / ("train" if i else "test") / f"{i}.png", (60 * i, 0, 0))
    Project.run(project.import_records(folder.read(root)))
    folder.write(project.export_items(), tmp_path / "out")
    again = Project.create(tmp_path / "again")
    try:
        Project.run(again.import_records(folder.read(tmp_path / "out")))
        assert sorted((s, i.sha256) for s, i in ((s, again.item(iid)) for s, iid, _ in again.export_items())) == \
            sorted((s, i.sha256) for s, i in ((s, project.item(iid)) for s, iid, _ in project.export_items()))
    finally:
        again.close()


def test_empty_folder(project, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInputError, match="no images"):
        Project.run(project.import_records(folder.read(tmp_path / "empty")))
    with pytest.raises(BadInputError, match="not a folder"):
        Project.run(project.import_records(folder.read(tmp_path / "nope")))
