"""Label Studio export: ``tasks.json`` (one task per image question) and ``labeling_config.xml`` (the
labeling interface to paste into the Label Studio project's Settings > Labeling Interface > Code).

A task (Label Studio's documented import format)::

    {"data": {"image": "/data/local-files/?d=images/12-cat.png", "question": "What colour is it?",
              "question_id": 7, "question_type": "what color", "split": "train"},
     "annotations": [{"result": [{"id": "q7-answer", "from_name": "answer", "to_name": "image",
                                  "type": "textarea", "value": {"text": ["red"]}}]}],
     "predictions": [{"model_version": "v3", "score": 0.91,
                      "result": [{"id": "q7-proposal", "from_name": "answer", "to_name": "image",
                                  "type": "textarea", "value": {"text": ["red"]}}]}],
     "meta": {"vqa_studio": {"question_id": 7, "item_id": 12, "status": "accepted"}}}

``annotations`` hold the stored answer of a labelled, accepted or corrected question; ``predictions``
the active model's proposal with its confidence as ``score``. Yes/no answers are ``choices`` results
of the ``yesno`` control, other answers ``textarea`` results of ``answer``. Images are copied into
``images/`` next to the tasks (or referenced where they are with ``--no-images``) and named by
Label Studio's local-files URLs: start Label Studio with ``LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED=true``
and ``LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT`` set to the export folder (``/`` with ``--no-images``).
Questions about point clouds or other media are left out (Label Studio's ``Image`` cannot show
them); ``export_report.json`` counts them.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from urllib.parse import quote

LABEL_STATUSES = ("labelled", "accepted", "corrected")
IMAGE = "image"
TEXT_CONTROL, CHOICE_CONTROL = "answer", "yesno"
YES_NO = ("yes", "no")

CONFIG = """<View>
  <Header value="$question"/>
  <Image name="image" value="$image" zoom="true"/>
  <Choices name="yesno" toName="image" choice="single" showInline="true">
    <Choice value="yes"/>
    <Choice value="no"/>
  </Choices>
  <TextArea name="answer" toName="image" maxSubmissions="1" editable="true" placeholder="the answer"/>
</View>
"""


def result(answer: str, qid: int, role: str) -> dict:
    """One Label Studio result: ``choices`` for yes / no, else ``textarea``."""
    if answer.strip().lower() in YES_NO:
        return {"id": f"q{qid}-{role}", "from_name": CHOICE_CONTROL, "to_name": IMAGE, "type": "choices",
                "value": {"choices": [answer.strip().lower()]}}
    return {"id": f"q{qid}-{role}", "from_name": TEXT_CONTROL, "to_name": IMAGE, "type": "textarea",
            "value": {"text": [answer]}}


def local_files_url(path: Path, root: Path) -> str:
    """Label Studio's URL of a file under its local-files document root ``root``."""
    return "/data/local-files/?d=" + quote(path.relative_to(root).as_posix())


def task(row, url: str, prediction=None) -> dict:
    qid = row.question_id
    out = {"data": {IMAGE: url, "question": row.text, "question_id": qid, "question_type": row.question_type,
                    "split": row.split},
           "meta": {"vqa_studio": {"question_id": qid, "item_id": row.item_id, "status": row.status}}}
    if row.answer and row.status in LABEL_STATUSES:
        out["annotations"] = [{"result": [result(row.answer, qid, "answer")], "ground_truth": row.status == "labelled"}]
    if prediction is not None and prediction.answer:
        out["predictions"] = [{"model_version": prediction.model_version, "score": round(float(prediction.confidence), 6),
                               "result": [result(prediction.answer, qid, "proposal")]}]
    return out


def write(project, out_dir, splits=None, copy_images: bool = True) -> list[Path]:
    """Write ``tasks.json``, ``labeling_config.xml`` and ``export_report.json`` into ``out_dir``
    (and the images into ``images/`` with ``copy_images``); returns the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = list(project.export_rows(splits))
    images = [r for r in rows if _is_image(r.media_path)]
    preds = project.predictions([r.question_id for r in images]) if project.active_model and images else {}
    copied: dict[Path, Path] = {}
    tasks = []
    for r in images:
        if copy_images:
            if r.media_path not in copied:
                copied[r.media_path] = _copy(r.media_path, out / "images" / f"{r.item_id}-{r.media_path.name}")
            url = local_files_url(copied[r.media_path], out)
        else:
            url = local_files_url(r.media_path, Path(r.media_path.anchor))
        tasks.append(task(r, url, preds.get(r.question_id)))
    paths = [_write_text(out / "tasks.json", json.dumps(tasks, indent=1, ensure_ascii=False)),
             _write_text(out / "labeling_config.xml", CONFIG)]
    report = {"tasks": len(tasks), "with_annotation": sum("annotations" in t for t in tasks),
              "with_prediction": sum("predictions" in t for t in tasks), "model_version": project.active_model,
              "left_out_not_images": len(rows) - len(images),
              "document_root": str(out.resolve()) if copy_images else "/"}
    paths.append(_write_text(out / "export_report.json", json.dumps(report, indent=1)))
    return paths


def _is_image(path: Path) -> bool:
    from vqa_studio.core.data.media import IMAGE_EXTS

    return Path(path).suffix.lower() in IMAGE_EXTS


def _copy(src: Path, dst: Path) -> Path:
    from vqa_studio.core.errors import BadInputError

    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
        if not dst.exists():
            shutil.copyfile(src, dst)
    except OSError as exc:
        raise BadInputError(src, f"cannot copy the image into the export ({exc.strerror or exc})") from None
    return dst


def _write_text(path: Path, text: str) -> Path:
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path
