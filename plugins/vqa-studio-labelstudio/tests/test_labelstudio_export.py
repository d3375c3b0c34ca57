"""The Label Studio export: tasks with data, annotations (stored answers) and predictions (the
model's proposals with model_version and score), checked against the labeling config it writes,
and against Label Studio's own parser (label-studio-sdk) when that is installed."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest

from vqa_studio import cli
from vqa_studio.core.driver import drive
from vqa_studio.core.project import Project
from vqa_studio.core.train.config import TrainingArgs
from vqa_studio.core.train.pipeline import run_training
from vqa_studio.core.types import Action

COLORS = {"red": (220, 30, 30), "green": (30, 180, 60), "blue": (40, 60, 220)}


def _png(path: Path, color) -> Path:
    import cv2

    img = np.full((32, 32, 3), color[::-1], np.uint8)
    cv2.circle(img, (16, 16), 8, (255, 255, 255), -1)
    assert cv2.imwrite(str(path), img)
    return path


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A project of six images (colour and yes/no questions, one point cloud), a tiny model trained
    on it, one correction, exported with ``vqa-studio export --format labelstudio``."""
    import torch

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("ls")
    p = Project.create(root / "proj", name="ls")
    p.annotator = "alice"
    for k in range(6):
        name = list(COLORS)[k % 3]
        iid = p.add_item(_png(root / f"img{k}.png", COLORS[name]), split="val" if k == 5 else "train")
        p.add_question(iid, "What color is the background?", [name])
        p.add_question(iid, "Is there a circle?", ["yes"])
    cloud = root / "scan.xyz"
    cloud.write_text("\n".join(f"{x} {x * 0.5} {x * 0.1}" for x in np.linspace(0, 1, 64)) + "\n")
    p.add_question(p.add_item(cloud), "How many boxes are there?", ["1"])
    drive(run_training(p, TrainingArgs(epochs=1, batch_size=16, mc_samples=2)))
    qid = next(r.question_id for r in p.export_rows() if r.text.startswith("What color"))
    p.record(qid, Action.CORRECT, "purple")
    version = p.active_model
    p.close()
    out = root / "out"
    assert cli.main(["export", "--project", str(root / "proj"), "--format", "labelstudio", "--out", str(out), "-q"]) == 0
    tasks = json.loads((out / "tasks.json").read_text())
    return {"out": out, "tasks": tasks, "config": (out / "labeling_config.xml").read_text(), "version": version,
            "corrected": qid, "root": root}


def _controls(config: str) -> dict[str, dict]:
    """name -> {tag, toName, choices} of the config's control tags (stdlib XML parser)."""
    root = ET.fromstring(config)
    objects = {e.get("name"): e for e in root.iter() if e.tag in ("Image", "Text")}
    out = {}
    for e in root.iter():
        if e.tag in ("TextArea", "Choices"):
            assert e.get("toName") in objects, f"{e.tag} {e.get('name')} points at no object"
            out[e.get("name")] = {"tag": e.tag, "toName": e.get("toName"),
                                  "choices": [c.get("value") for c in e.iter("Choice")]}
    variables = {e.get("value") for e in objects.values()} | {e.get("value") for e in root.iter("Header")}
    return out, variables


def _check_result(res: dict, controls: dict) -> None:
    ctl = controls[res["from_name"]]
    assert res["to_name"] == ctl["toName"]
    if ctl["tag"] == "TextArea":
        assert res["type"] == "textarea" and isinstance(res["value"]["text"], list) and res["value"]["text"][0]
    else:
        assert res["type"] == "choices" and set(res["value"]["choices"]) <= set(ctl["choices"])


def test_tasks_follow_the_labeling_config(exported):
    controls, variables = _controls(exported["config"])
    assert variables == {"$image", "$question"}
    tasks = exported["tasks"]
    assert len(tasks) == 12  # the image questions; the point cloud's is left out
    for t in tasks:
        assert set(t["data"]) >= {"image", "question"} and t["data"]["question"]
        for ann in t.get("annotations", []):
            for res in ann["result"]:
                _check_result(res, controls)
        for pred in t.get("predictions", []):
            assert pred["model_version"] == exported["version"] and 0.0 <= pred["score"] <= 1.0
            for res in pred["result"]:
                _check_result(res, controls)
    report = json.loads((exported["out"] / "export_report.json").read_text())
    assert report["left_out_not_images"] == 1 and report["tasks"] == 12


def test_answers_and_proposals_are_the_stored_ones(exported):
    with Project.open(exported["root"] / "proj") as p:
        rows = {r.question_id: r for r in p.export_rows()}
        preds = p.predictions(list(rows))
    by_q = {t["data"]["question_id"]: t for t in exported["tasks"]}
    corrected = by_q[exported["corrected"]]
    assert corrected["annotations"][0]["result"][0]["value"] == {"text": ["purple"]}
    assert corrected["meta"]["vqa_studio"]["status"] == "corrected"
    yes_no = [t for t in exported["tasks"] if t["data"]["question"] == "Is there a circle?"]
    assert yes_no and all(t["annotations"][0]["result"][0]["type"] == "choices" for t in yes_no)
    for qid, t in by_q.items():
        assert t["predictions"][0]["score"] == pytest.approx(preds[qid].confidence, abs=1e-6)
        res = t["predictions"][0]["result"][0]["value"]
        assert (res.get("text") or res.get("choices"))[0] == preds[qid].answer
        assert t["data"]["split"] == rows[qid].split


def test_image_urls_name_the_copied_files(exported):
    for t in exported["tasks"]:
        url = urlparse(t["data"]["image"])
        assert url.path == "/data/local-files/"
        rel = parse_qs(url.query)["d"][0]
        assert (exported["out"] / rel).is_file() and rel.startswith("images/")


def test_no_images_references_the_originals(exported, tmp_path):
    out = tmp_path / "ref"
    assert cli.main(["export", "--project", str(exported["root"] / "proj"), "--format", "labelstudio",
                     "--out", str(out), "--no-images", "-q"]) == 0
    tasks = json.loads((out / "tasks.json").read_text())
    assert not (out / "images").exists()
    for t in tasks:
        d = parse_qs(urlparse(t["data"]["image"]).query)["d"][0]
        assert Path("/" + d).is_file() and Path("/" + d).parent == exported["root"]


def test_label_studio_sdk_accepts_the_export(exported):
    """Label Studio's own parser: the config parses, every prediction and annotation validates, and a
    result naming no control (or a choice the config lacks) is refused, so the check can fail."""
    sdk = pytest.importorskip("label_studio_sdk.label_interface")
    li = sdk.LabelInterface(exported["config"])
    assert {c.name for c in li.controls} == {"answer", "yesno"} and [o.name for o in li.objects] == ["image"]
    for t in exported["tasks"]:
        for pred in t.get("predictions", []):
            assert li.validate_prediction(pred, return_errors=True) == []
        for ann in t.get("annotations", []):
            assert li.validate_annotation(ann)
    bad = {"model_version": "v", "score": 0.5, "result": [dict(exported["tasks"][0]["predictions"][0]["result"][0],
                                                               from_name="nope")]}
    assert li.validate_prediction(bad, return_errors=True)
    maybe = {"model_version": "v", "score": 0.5, "result": [{"from_name": "yesno", "to_name": "image",
                                                             "type": "choices", "value": {"choices": ["maybe"]}}]}
    assert li.validate_prediction(maybe, return_errors=True)


def test_export_is_listed_by_the_cli(capsys):
    assert cli.main(["plugins"]) == 0
    assert "labelstudio" in capsys.readouterr().out
