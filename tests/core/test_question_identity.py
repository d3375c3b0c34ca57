"""Every question of an input keeps its identity: distinct ids stay distinct questions (two people
may ask the same words about one image), a repeated id in one file is an error naming it (or a
reported skip with --skip-bad), and a re-import adds nothing."""
from __future__ import annotations

import json

from tests.conftest import make_vqa_v2
from vqa_studio import cli
from vqa_studio.core.project import Project


def _run(*args):
    return cli.main([str(a) for a in args])


def _same_words_twice(tmp_path, repeat_id: bool):
    data = make_vqa_v2(tmp_path, n_images=2, per_image=3)
    qs = json.loads(data["questions"].read_text())
    ann = json.loads(data["annotations"].read_text())
    first_q, first_a = qs["questions"][0], ann["annotations"][0]
    new_id = first_q["question_id"] if repeat_id else 99999
    qs["questions"].append({**first_q, "question_id": new_id})  # same image, same words
    other = [{"answer_id": j + 1, "answer": "teal", "answer_confidence": "yes"} for j in range(10)]
    ann["annotations"].append({**first_a, "question_id": new_id, "multiple_choice_answer": "teal", "answers": other})
    data["questions"].write_text(json.dumps(qs))
    data["annotations"].write_text(json.dumps(ann))
    return data


def _import(project, data, *extra):
    return _run("import", "--project", project, "--format", "vqa_v2", "--questions", data["questions"],
                "--annotations", data["annotations"], "--images", data["images"], "-q", *extra)


def test_distinct_ids_with_the_same_words_stay_distinct(tmp_path, capsys):
    data = _same_words_twice(tmp_path, repeat_id=False)
    project = tmp_path / "p"
    assert _import(project, data) == 0
    with Project.open(project) as p:
        assert p.stats().n_questions == 7
        by_ext = {q.external_id: q for q in p.questions(p.queue_ids(filters=None, order_by="id")).values()}
        assert by_ext["99999"].answer == "teal" and by_ext["10000"].answer != "teal"
    assert _import(project, data) == 0  # the same file again: nothing new
    assert "7 duplicate questions left out" in capsys.readouterr().out
    with Project.open(project) as p:
        assert p.stats().n_questions == 7
    out = tmp_path / "export"
    assert _run("export", "--project", project, "--format", "vqa_v2", "--out", out, "--no-images") == 0
    exported = json.loads(next(out.glob("*questions.json")).read_text())["questions"]
    assert sorted(q["question_id"] for q in exported) == sorted([99999] + [1000 * 10 + k for k in range(3)]
                                                                + [1001 * 10 + k for k in range(3)])


def test_a_repeated_id_is_an_error_naming_it_or_a_reported_skip(tmp_path, capsys):
    data = _same_words_twice(tmp_path, repeat_id=True)
    project = tmp_path / "p"
    assert _import(project, data) == 2
    err = capsys.readouterr().err
    assert "question_id 10000 is used by more than one question" in err and data["questions"].name in err
    if (project / "project.db").exists():  # the refused import left the project as it was
        with Project.open(project) as p:
            assert p.stats().n_questions == 0
    assert _import(project, data, "--skip-bad") == 0
    assert "question_id 10000" in capsys.readouterr().err
    with Project.open(project) as p:
        assert p.stats().n_questions == 6
