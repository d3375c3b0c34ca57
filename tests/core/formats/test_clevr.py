import json

import pytest

from tests.conftest import db_snapshot, write_png
from vqa_studio.core.errors import BadInputError
from vqa_studio.core.formats import clevr
from vqa_studio.core.project import Project


@pytest.fixture
def clevr_files(tmp_path):
    root = tmp_path / "CLEVR"
    qs = []
    for i in range(4):
        name = f"CLEVR_val_{i:06d}.png"
        write_png(root / "images" / "val" / name, (30 * i, 90, 200))
        qs.append({"image_index": i, "image_filename": name, "split": "val", "question": f"How many cubes are there? ({i})",
                   "answer": str(i), "question_family_index": 3,
                   # CLEVR v1.0 keys program steps by 'type'; later tools by 'function': accept both
                   "program": [{"type": "scene", "inputs": [], "value_inputs": []},
                               {"function": "filter_shape", "inputs": [0], "value_inputs": ["cube"]},
                               {"type": "count", "inputs": [1]}]})
    qs.append({"image_index": 0, "image_filename": "CLEVR_val_000000.png", "split": "val",
               "question": "Is there a sphere?", "answer": True})
    qfile = root / "questions" / "CLEVR_val_questions.json"
    qfile.parent.mkdir(parents=True)
    qfile.write_text(json.dumps({"info": {"split": "val"}, "questions": qs}))
    return {"questions": qfile, "images": root / "images"}


def test_import(project, clevr_files):
    rep = Project.run(project.import_records(clevr.read(clevr_files["questions"], clevr_files["images"])))
    assert (rep.questions_added, rep.items_added) == (5, 4)
    rows = list(project.export_rows())
    assert rows[0].question_meta["program"][1] == {"function": "filter_shape", "inputs": [0], "value_inputs": ["cube"]}
    assert rows[0].question_meta["program"][0]["function"] == "scene"
    assert rows[-1].answer == "yes" and rows[-1].answer_type == "yes/no"
    assert {r.split for r in rows} == {"val"}


def test_export_then_reimport(project, clevr_files, tmp_path):
    Project.run(project.import_records(clevr.read(clevr_files["questions"], clevr_files["images"])))
    out = clevr.write(project.export_rows(), tmp_path / "out")
    again = Project.create(tmp_path / "again")
    try:
        Project.run(again.import_records(clevr.read(out, tmp_path / "out" / "images")))
        a = [(r.text, r.answer, r.split, r.question_meta.get("program")) for r in project.export_rows()]
        b = [(r.text, r.answer, r.split, r.question_meta.get("program")) for r in again.export_rows()]
        assert a == b
    finally:
        again.close()


def test_bad_program_step(project, clevr_files):
    data = json.loads(clevr_files["questions"].read_text())
    data["questions"][2]["program"][1] = {"inputs": [0]}
    clevr_files["questions"].write_text(json.dumps(data))
    before = db_snapshot(project)
    with pytest.raises(BadInputError, match=r"questions\[2\] program\[1\].*'type' or 'function'"):
        Project.run(project.import_records(clevr.read(clevr_files["questions"], clevr_files["images"])))
    assert db_snapshot(project) == before


def test_missing_image(project, clevr_files):
    (clevr_files["images"] / "val" / "CLEVR_val_000003.png").unlink()
    with pytest.raises(BadInputError, match="CLEVR_val_000003.png.*image not found"):
        Project.run(project.import_records(clevr.read(clevr_files["questions"], clevr_files["images"])))
