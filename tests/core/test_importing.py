"""Imports stream: records are read, checked and written a chunk at a time inside one transaction."""
import json

import pytest

from tests.conftest import db_snapshot, make_vqa_v2
from vqa_studio.core import importing
from vqa_studio.core.errors import BadInputError
from vqa_studio.core.formats import vqa_v2
from vqa_studio.core.project import Project


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(importing, "RECORD_CHUNK", 4)


def test_records_are_taken_a_chunk_at_a_time(project, tmp_path, small_chunks):
    files = make_vqa_v2(tmp_path / "vqa", n_images=10, per_image=3)
    pulled = []

    def records():
        for r in vqa_v2.read(files["questions"], files["annotations"], files["images"]):
            pulled.append(r)
            yield r

    gen = project.import_records(records())
    at_first_write = None
    try:
        while True:
            p = next(gen)
            if p.stage == "writing" and at_first_write is None:
                at_first_write = len(pulled)
    except StopIteration as stop:
        report = stop.value
    assert at_first_write == 4  # the first chunk was written before the rest was read
    assert (report.n_records, report.questions_added, report.items_added, report.answers_added) == (30, 30, 10, 30)
    st = project.stats()
    assert st.n_questions == 30 and st.n_items == 10


def test_a_bad_record_in_a_later_chunk_writes_nothing(project, tmp_path, small_chunks):
    files = make_vqa_v2(tmp_path / "vqa", n_images=10, per_image=3)
    data = json.loads(files["questions"].read_text())
    data["questions"][25]["question"] = "   "
    files["questions"].write_text(json.dumps(data))
    before = db_snapshot(project)
    with pytest.raises(BadInputError, match=r"questions\[25\]"):
        Project.run(project.import_records(vqa_v2.read(files["questions"], files["annotations"], files["images"])))
    assert db_snapshot(project) == before
    report = Project.run(project.import_records(vqa_v2.read(files["questions"], files["annotations"], files["images"]),
                                                skip_bad=True))
    assert report.questions_added == 29 and len(report.skipped) == 1


def test_duplicates_and_repeated_ids_are_found_across_chunks(project, tmp_path, small_chunks):
    files = make_vqa_v2(tmp_path / "vqa", n_images=10, per_image=3)
    data = json.loads(files["questions"].read_text())
    data["questions"][20]["question_id"] = data["questions"][1]["question_id"]
    files["questions"].write_text(json.dumps(data))
    with pytest.raises(BadInputError, match=r"used by more than one question \(also by questions\[1\]"):
        Project.run(project.import_records(vqa_v2.read(files["questions"], files["annotations"], files["images"])))
    files = make_vqa_v2(tmp_path / "vqa2", n_images=10, per_image=3)
    first = Project.run(project.import_records(vqa_v2.read(files["questions"], files["annotations"], files["images"])))
    again = Project.run(project.import_records(vqa_v2.read(files["questions"], files["annotations"], files["images"])))
    assert first.questions_added == 30 and (again.questions_added, again.duplicates_skipped) == (0, 30)
    assert again.items_reused == 10 and again.items_added == 0


def test_a_bad_image_met_in_an_earlier_chunk_is_skipped_in_later_ones(project, tmp_path, small_chunks):
    files = make_vqa_v2(tmp_path / "vqa", n_images=4, per_image=3)
    data = json.loads(files["questions"].read_text())
    data["questions"][11]["image_id"] = 1000  # the last question uses the first image again
    files["questions"].write_text(json.dumps(data))
    anns = json.loads(files["annotations"].read_text())
    anns["annotations"][11]["image_id"] = 1000
    files["annotations"].write_text(json.dumps(anns))
    (files["images"] / "1000.png").write_bytes(b"not a png")
    report = Project.run(project.import_records(
        vqa_v2.read(files["questions"], files["annotations"], files["images"]), skip_bad=True))
    assert report.questions_added == 8 and len(report.skipped) == 4
    assert all("1000.png" in str(e) for e in report.skipped)
