import pytest

from tests.conftest import db_snapshot, write_png
from vqa_studio.core.errors import BadInputError
from vqa_studio.core.formats import csv_format
from vqa_studio.core.project import Project
from vqa_studio.core.types import Action


@pytest.fixture
def csv_file(tmp_path):
    d = tmp_path / "data"
    write_png(d / "img" / "a.png", (200, 20, 20))
    write_png(d / "img" / "b.png", (20, 20, 200))
    f = d / "qa.csv"
    f.write_text('image,question,answer,split\nimg/a.png,What color is it?,red,train\n'
                 'img/b.png,"What color is it, really?",blue,test\nimg/b.png,Is it round?,,\n')
    return f


def test_import_with_header_and_relative_paths(project, csv_file):
    rep = Project.run(project.import_records(csv_format.read(csv_file)))
    assert (rep.questions_added, rep.items_added, rep.answers_added) == (3, 2, 2)
    rows = list(project.export_rows())
    assert {(r.text, r.answer, r.split) for r in rows} == {
        ("What color is it?", "red", "train"), ("What color is it, really?", "blue", "test"), ("Is it round?", None, "test")}


def test_no_header_and_images_folder(project, tmp_path):
    write_png(tmp_path / "pics" / "x.png")
    f = tmp_path / "plain.csv"
    f.write_text("x.png,How many circles?,1\n")
    rep = Project.run(project.import_records(csv_format.read(f, images_dir=tmp_path / "pics", split="val")))
    assert rep.questions_added == 1 and project.stats().by_split == {"val": 1}


def test_export_then_reimport(project, csv_file, tmp_path):
    Project.run(project.import_records(csv_format.read(csv_file)))
    qid = project.queue_ids(order_by="id")[0]
    project.record(qid, Action.CORRECT, "crimson")
    out = csv_format.write(project.export_rows(), tmp_path / "out")
    again = Project.create(tmp_path / "again")
    try:
        Project.run(again.import_records(csv_format.read(out)))
        key = lambda r: (r.text, r.answer, r.split, r.media_path)  # noqa: E731
        assert sorted(map(key, again.export_rows()), key=repr) == sorted(map(key, project.export_rows()), key=repr)
    finally:
        again.close()


@pytest.mark.parametrize("line, match", [
    ("img/missing.png,What?,x", "image not found"),
    ("img/a.png,,x", "question column is empty"),
    ("notes.txt,What?,x", "not an image or point-cloud file"),
    ("img/a.png", "at least 2 columns"),
])
def test_bad_lines(project, csv_file, line, match):
    csv_file.write_text(csv_file.read_text() + line + "\n")
    before = db_snapshot(project)
    with pytest.raises(BadInputError, match=match) as err:
        Project.run(project.import_records(csv_format.read(csv_file)))
    assert "line 5" in str(err.value) and "qa.csv" in str(err.value)
    assert db_snapshot(project) == before


def test_not_utf8(project, tmp_path):
    f = tmp_path / "bad.csv"
    f.write_bytes(b"image,question\n\xff\xfe\x00bad")
    with pytest.raises(BadInputError, match="bad.csv.*not UTF-8"):
        Project.run(project.import_records(csv_format.read(f)))
