import json

import pytest

from tests.conftest import db_snapshot, make_vqa_v2
from vqa_studio.core.errors import BadInputError
from vqa_studio.core.formats import vqa_v2
from vqa_studio.core.project import Project
from vqa_studio.core.types import Action, Status


def _import(project, files, **kw):
    return Project.run(project.import_records(
        vqa_v2.read(files["questions"], files.get("annotations"), files["images"], kw.pop("pattern", None)), **kw))


def test_import(project, vqa_dataset):
    report = _import(project, vqa_dataset)
    assert (report.questions_added, report.items_added, report.answers_added) == (18, 6, 18)
    st = project.stats()
    assert st.by_split == {"val": 18}  # from data_subtype val2014
    assert st.by_status == {"labelled": 18}
    q = project.question(project.queue_ids(order_by="id")[0])
    assert q.external_id == "10000" and q.answer == "red"
    answers = project.imported_answers(q.id)
    assert len(answers) == 10 and answers[9] == {"answer": "maybe red", "confidence": "yes", "answer_id": 10}


def test_reimport_adds_nothing(project, vqa_dataset):
    _import(project, vqa_dataset)
    again = _import(project, vqa_dataset)
    assert again.questions_added == 0 and again.duplicates_skipped == 18 and again.items_reused == 6
    assert project.stats().n_questions == 18


def test_questions_without_annotations(project, tmp_path):
    files = make_vqa_v2(tmp_path / "q", with_annotations=False)
    report = _import(project, files)
    assert report.questions_added == 18 and report.answers_added == 0
    assert project.stats().by_status == {"new": 18}


def test_coco_file_names_and_custom_pattern(project, tmp_path):
    files = make_vqa_v2(tmp_path / "coco", coco_names=True, subtype="train2014")
    assert _import(project, files).items_added == 6
    assert project.stats().by_split == {"train": 18}
    other = Project.create(tmp_path / "p2")
    try:
        assert _import(other, files, pattern="COCO_{data_subtype}_{image_id:012d}.jpg").items_added == 6
        with pytest.raises(BadInputError, match="image not found"):
            _import(other, files, pattern="{image_id}.gif")
    finally:
        other.close()


def test_export_then_reimport(project, vqa_dataset, tmp_path):
    _import(project, vqa_dataset)
    ids = project.queue_ids(order_by="id")
    project.record(ids[0], Action.CORRECT, "green")
    project.record(ids[1], Action.CORRECT, "no", annotator="bob")
    project.record(ids[2], Action.FLAG, note="unclear")
    out = vqa_v2.write(project.export_rows(), tmp_path / "export")
    qfile, afile = out
    assert qfile.name == "v2_OpenEnded_vqa_studio_val_questions.json"
    ann = {a["question_id"]: a for a in json.loads(afile.read_text())["annotations"]}
    first = ann[int(project.question(ids[0]).external_id)]
    assert first["multiple_choice_answer"] == "green"
    assert [a["answer"] for a in first["answers"]][-1] == "green" and len(first["answers"]) == 11

    again = Project.create(tmp_path / "again")
    try:
        report = Project.run(again.import_records(vqa_v2.read(qfile, afile, tmp_path / "export" / "images" / "val")))
        assert report.questions_added == 18 and report.items_added == 6
        old = {q.external_id: q for q in project.questions(ids).values()}
        new = again.questions(again.queue_ids(order_by="id"))
        for q in new.values():
            o = old[q.external_id]
            assert (q.text, q.answer, q.question_type, q.answer_type) == (o.text, o.answer, o.question_type, o.answer_type)
        assert again.stats().n_items == 6
        # the images are the same files (same content hash)
        assert {i.sha256 for i in again.items(range(1, 7)).values()} == {i.sha256 for i in project.items(range(1, 7)).values()}
    finally:
        again.close()


def test_results_round_trip(tmp_path):
    path = vqa_v2.write_results(tmp_path / "r.json", [(1, "yes"), ("22", "2")])
    assert json.loads(path.read_text()) == [{"question_id": 1, "answer": "yes"}, {"question_id": 22, "answer": "2"}]
    assert vqa_v2.read_results(path) == {"1": "yes", "22": "2"}


# --- bad input: a clear error naming the file and the record, and the database as it was ------------

def _expect_bad(project, files, match, names):
    before = db_snapshot(project)
    with pytest.raises(BadInputError, match=match) as err:
        _import(project, files)
    msg = str(err.value)
    for n in names:
        assert n in msg, msg
    assert db_snapshot(project) == before
    return err.value


def test_broken_json(project, vqa_dataset):
    vqa_dataset["questions"].write_text('{"questions": [{"image_id": 1,, }]}')
    _expect_bad(project, vqa_dataset, "broken JSON", [vqa_dataset["questions"].name, "line 1 column"])


def test_truncated_json(project, vqa_dataset):
    text = vqa_dataset["annotations"].read_text()
    vqa_dataset["annotations"].write_text(text[: len(text) // 2])
    _expect_bad(project, vqa_dataset, "truncated JSON", [vqa_dataset["annotations"].name])


def test_wrong_field_type(project, vqa_dataset):
    data = json.loads(vqa_dataset["questions"].read_text())
    data["questions"][4]["image_id"] = "1001"
    vqa_dataset["questions"].write_text(json.dumps(data))
    err = _expect_bad(project, vqa_dataset, "should be an integer", ["questions[4]", "image_id"])
    assert err.record.startswith("questions[4]")


def test_wrong_answer_type_in_annotations(project, vqa_dataset):
    data = json.loads(vqa_dataset["annotations"].read_text())
    data["annotations"][2]["answers"][3]["answer"] = 7
    vqa_dataset["annotations"].write_text(json.dumps(data))
    _expect_bad(project, vqa_dataset, "should be a string", ["annotations[2]", "answers[3]", vqa_dataset["annotations"].name])


def test_missing_image(project, vqa_dataset):
    (vqa_dataset["images"] / "1003.png").unlink()
    _expect_bad(project, vqa_dataset, "image not found", ["1003.png", "question_id 10030"])


def test_corrupt_image(project, vqa_dataset):
    (vqa_dataset["images"] / "1002.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 20)
    _expect_bad(project, vqa_dataset, "truncated PNG|not a readable image", ["1002.png", "question_id 10020"])


def test_truncated_image(project, vqa_dataset):
    p = vqa_dataset["images"] / "1001.png"
    p.write_bytes(p.read_bytes()[:-30])
    _expect_bad(project, vqa_dataset, "truncated PNG", ["1001.png"])


def test_skip_bad_imports_the_rest_and_reports(project, vqa_dataset, tmp_path):
    (vqa_dataset["images"] / "1003.png").unlink()
    data = json.loads(vqa_dataset["questions"].read_text())
    data["questions"][0]["question"] = ["not", "a", "string"]
    vqa_dataset["questions"].write_text(json.dumps(data))
    report = Project.run(project.import_records(
        vqa_v2.read(vqa_dataset["questions"], vqa_dataset["annotations"], vqa_dataset["images"]),
        skip_bad=True, report_path=tmp_path / "skipped.json"))
    assert report.questions_added == 18 - 3 - 1 and len(report.skipped) == 4
    skipped = json.loads((tmp_path / "skipped.json").read_text())["skipped"]
    assert any("image not found for image_id 1003" in s["problem"] and "1003.png" in s["problem"] for s in skipped)
    assert any(s["record"].startswith("questions[0]") for s in skipped)
    assert project.stats().n_questions == 14


def test_cancel_rolls_back(project, vqa_dataset):
    before = db_snapshot(project)
    gen = project.import_records(vqa_v2.read(vqa_dataset["questions"], vqa_dataset["annotations"], vqa_dataset["images"]))
    for p in gen:
        if p.stage == "writing":
            break  # the user pressed Cancel while it was writing
    gen.close()
    assert db_snapshot(project) == before


def test_not_a_questions_file(project, vqa_dataset):
    vqa_dataset["questions"].write_text("[1, 2, 3]")
    _expect_bad(project, vqa_dataset, "expected a JSON object", [vqa_dataset["questions"].name])
    vqa_dataset["questions"].write_text("")
    _expect_bad(project, vqa_dataset, "empty", [vqa_dataset["questions"].name])


# --- big files: read as streams (issue 16) ----------------------------------------------------------------------

def _records(files):
    return [(r.media_path, r.question, r.split, [tuple(a) for a in r.answers], r.answer, r.question_id, r.media_id,
             r.question_type, r.answer_type, r.where) if not hasattr(r, "error") else str(r.error)
            for r in vqa_v2.read(files["questions"], files.get("annotations"), files["images"])]


def test_streamed_read_gives_the_same_records(vqa_dataset, monkeypatch):
    whole = _records(vqa_dataset)
    monkeypatch.setattr(vqa_v2, "STREAM_BYTES", 0)  # every file is big
    assert _records(vqa_dataset) == whole and len(whole) == 18


def test_streamed_read_with_the_subtype_after_the_questions(tmp_path, monkeypatch):
    files = make_vqa_v2(tmp_path / "vqa", subtype="train2014")
    data = json.loads(files["questions"].read_text())
    subtype = data.pop("data_subtype")
    data["data_subtype"] = subtype  # now after "questions"
    files["questions"].write_text(json.dumps(data))
    monkeypatch.setattr(vqa_v2, "STREAM_BYTES", 0)
    assert {r.split for r in vqa_v2.read(files["questions"], files["annotations"], files["images"])} == {"train"}


def test_streamed_read_names_a_bad_annotation_at_its_question(vqa_dataset, monkeypatch):
    data = json.loads(vqa_dataset["annotations"].read_text())
    data["annotations"][2]["answers"] = "red"
    vqa_dataset["annotations"].write_text(json.dumps(data))
    monkeypatch.setattr(vqa_v2, "STREAM_BYTES", 0)
    out = list(vqa_v2.read(vqa_dataset["questions"], vqa_dataset["annotations"], vqa_dataset["images"]))
    bad = [r for r in out if hasattr(r, "error")]
    assert len(bad) == 1 and "annotations[2]" in str(bad[0].error) and "'answers' should be a list" in str(bad[0].error)
    assert len(out) == 18
