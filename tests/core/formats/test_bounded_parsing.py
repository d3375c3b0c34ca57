"""Bounded parsing: hostile inputs are bad input (exit 2, the file and the problem named), never a
bug (exit 1): JSON nested thousands deep, integers of thousands of digits, lone surrogates in any
text field, a file-name pattern that would expand to gigabytes."""
from __future__ import annotations

import json

import pytest

from tests.conftest import make_vqa_v2
from vqa_studio import cli
from vqa_studio.core.project import Project


def _import(project, data, *extra):
    return cli.main([str(a) for a in ("import", "--project", project, "--format", "vqa_v2", "--questions",
                                      data["questions"], "--annotations", data["annotations"], "--images",
                                      data["images"], "-q", *extra)])


def test_json_nested_thousands_deep(tmp_path, capsys):
    data = make_vqa_v2(tmp_path, n_images=1, per_image=1)
    data["questions"].write_text('{"questions": ' + "[" * 3000 + "]" * 3000 + "}")
    assert _import(tmp_path / "p", data) == 2
    err = capsys.readouterr().err
    assert data["questions"].name in err and "nested too deeply" in err


def test_an_integer_of_thousands_of_digits(tmp_path, capsys):
    data = make_vqa_v2(tmp_path, n_images=1, per_image=1)
    text = data["questions"].read_text()
    data["questions"].write_text(text.replace('"question_id": 10000', '"question_id": ' + "9" * 5000))
    assert _import(tmp_path / "p", data) == 2
    assert data["questions"].name in capsys.readouterr().err


@pytest.mark.parametrize("where", ["question", "answer"])
def test_a_lone_surrogate_is_named_and_skippable(where, tmp_path, capsys):
    data = make_vqa_v2(tmp_path, n_images=2, per_image=2)
    qs, ann = json.loads(data["questions"].read_text()), json.loads(data["annotations"].read_text())
    if where == "question":
        qs["questions"][0]["question"] = "What colour \ud800 is it?"
    else:
        ann["annotations"][0]["multiple_choice_answer"] = "re\udfffd"
    data["questions"].write_text(json.dumps(qs))  # json writes the surrogate as an escape: valid JSON
    data["annotations"].write_text(json.dumps(ann))
    project = tmp_path / "p"
    assert _import(project, data) == 2
    err = capsys.readouterr().err
    assert "lone surrogate" in err and ("'question'" in err or "'answer'" in err)
    assert _import(project, data, "--skip-bad") == 0
    with Project.open(project) as p:
        assert p.stats().n_questions == 3


def test_an_image_pattern_that_would_expand_to_gigabytes(tmp_path, capsys):
    data = make_vqa_v2(tmp_path, n_images=1, per_image=1)
    assert _import(tmp_path / "p", data, "--image-pattern", "{image_id:>99999999999}") == 2
    assert "bad image pattern" in capsys.readouterr().err
    assert _import(tmp_path / "p", data, "--image-pattern", "{image_id}.png") == 0


@pytest.mark.parametrize("fmt", ["vqa_v2", "csv"])
def test_an_input_file_that_is_a_pipe(fmt, tmp_path, capsys):
    import os

    pipe = tmp_path / ("q.json" if fmt == "vqa_v2" else "in.csv")
    os.mkfifo(pipe)  # reading it would block forever
    flag = "--questions" if fmt == "vqa_v2" else "--input"
    assert cli.main(["import", "--project", str(tmp_path / "p"), "--format", fmt, flag, str(pipe),
                     "--images", str(tmp_path), "-q"]) == 2
    assert "not a regular file" in capsys.readouterr().err
