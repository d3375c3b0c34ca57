"""The JSON Lines plugin: read, write, export then import, bad lines named, its acquisition function."""
from __future__ import annotations

import json

import numpy as np
import pytest

from vqa_studio import cli
from vqa_studio.core.errors import BadInputError
from vqa_studio.core.formats.base import BadRecord
from vqa_studio.core.project import Project
from vqa_studio_jsonl.acquisition import prob_variance
from vqa_studio_jsonl.format import read


def _png(path):
    import cv2

    img = np.zeros((16, 16, 3), np.uint8)
    img[4:12, 4:12] = (0, 200, 0)
    assert cv2.imwrite(str(path), img)
    return path


def test_read_resolves_images_and_names_bad_lines(tmp_path):
    _png(tmp_path / "a.png")
    f = tmp_path / "q.jsonl"
    f.write_text('{"image": "a.png", "question": "Is it green?", "answer": "yes", "split": "val"}\n'
                 '{broken\n\n{"image": "a.png"}\n{"image": "a.png", "question": "What shape?"}\n')
    recs = list(read(f))
    assert len(recs) == 4
    assert recs[0].media_path == (tmp_path / "a.png").resolve() and recs[0].split == "val" and recs[0].answer == "yes"
    assert isinstance(recs[1], BadRecord) and "line 2" in str(recs[1].error) and "broken JSON" in str(recs[1].error)
    assert isinstance(recs[2], BadRecord) and "line 4" in str(recs[2].error) and "'question'" in str(recs[2].error)
    assert recs[3].answer is None and recs[3].answers == () and recs[3].split == "train"


def test_unreadable_file_is_named(tmp_path):
    with pytest.raises(BadInputError, match="nope.jsonl"):
        list(read(tmp_path / "nope.jsonl"))


def test_export_then_import_gives_the_same_questions(tmp_path, capsys):
    for name in ("a", "b", "c"):
        _png(tmp_path / f"{name}.png")
    rows = [{"image": "a.png", "question": "Is it green?", "answer": "yes"},
            {"image": "b.png", "question": "How many squares?", "answer": "1", "split": "test"},
            {"image": "c.png", "question": "What is it?", "split": "val"}]
    (tmp_path / "q.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert cli.main(["import", "--project", str(tmp_path / "p"), "--format", "jsonl", "--input", str(tmp_path / "q.jsonl"), "-q"]) == 0
    assert cli.main(["export", "--project", str(tmp_path / "p"), "--format", "jsonl", "--out", str(tmp_path / "o"), "-q"]) == 0
    assert cli.main(["import", "--project", str(tmp_path / "p2"), "--format", "jsonl", "--input",
                     str(tmp_path / "o" / "questions.jsonl"), "-q"]) == 0
    with Project.open(tmp_path / "p") as p, Project.open(tmp_path / "p2") as p2:
        one = sorted((r.media_path.name, r.text, r.answer, r.split) for r in p.export_rows())
        two = sorted((r.media_path.name, r.text, r.answer, r.split) for r in p2.export_rows())
    assert one == two and len(one) == 3


def test_bad_line_stops_the_import_with_its_line(tmp_path, capsys):
    _png(tmp_path / "a.png")
    (tmp_path / "q.jsonl").write_text('{"image": "a.png", "question": "Ok?"}\n[1, 2]\n')
    assert cli.main(["import", "--project", str(tmp_path / "p"), "--format", "jsonl", "--input", str(tmp_path / "q.jsonl"), "-q"]) != 0
    err = capsys.readouterr().err
    assert "q.jsonl" in err and "line 2" in err and "Traceback" not in err


def test_prob_variance_is_the_disagreement_of_the_samples():
    agree = np.tile(np.array([0.7, 0.3])[None, :, None], (1, 1, 4))
    disagree = np.array([[[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0]]])
    scores = prob_variance(np.concatenate([agree, disagree]))
    assert scores[0] == pytest.approx(0.0) and scores[1] == pytest.approx(0.25)
    assert prob_variance(np.array([[0.5, 0.5]])).shape == (1,)  # [N, C] is one sample
