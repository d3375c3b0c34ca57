"""Shared fixtures: real projects (SQLite files on disk) and small real datasets written to tmp folders."""
from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

COLORS = {"red": (220, 30, 30), "green": (30, 180, 60), "blue": (40, 60, 220), "yellow": (230, 210, 40)}


def write_png(path: Path, color=(128, 128, 128), size=32) -> Path:
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    img = np.full((size, size, 3), color[::-1], np.uint8)
    cv2.circle(img, (size // 2, size // 2), size // 4, (255, 255, 255), -1)
    assert cv2.imwrite(str(path), img)
    return path


def make_vqa_v2(folder: Path, n_images: int = 6, per_image: int = 3, subtype: str = "val2014",
                with_annotations: bool = True, coco_names: bool = False) -> dict[str, Path]:
    """A small, real VQA v2 dataset: images, a questions file and an annotations file."""
    images = folder / "images"
    names = list(COLORS)
    questions, annotations = [], []
    for i in range(n_images):
        image_id = 1000 + i
        color = names[i % len(names)]
        fname = f"COCO_{subtype}_{image_id:012d}.jpg" if coco_names else f"{image_id}.png"
        write_png(images / fname, COLORS[color])
        for k in range(per_image):
            qid = image_id * 10 + k
            q, a = [("What color is the background?", color), ("Is there a circle?", "yes"),
                    ("How many circles are there?", "1")][k % 3]
            questions.append({"image_id": image_id, "question": q, "question_id": qid})
            answers = [{"answer_id": j + 1, "answer": a if j < 8 else "maybe " + a, "answer_confidence": "yes"}
                       for j in range(10)]
            annotations.append({"question_id": qid, "image_id": image_id, "question_type": "what color is the",
                                "answer_type": "other", "multiple_choice_answer": a, "answers": answers})
    qfile = folder / f"v2_OpenEnded_mscoco_{subtype}_questions.json"
    qfile.write_text(json.dumps({"info": {}, "task_type": "Open-Ended", "data_type": "mscoco",
                                 "data_subtype": subtype, "questions": questions}))
    out = {"questions": qfile, "images": images}
    if with_annotations:
        afile = folder / f"v2_mscoco_{subtype}_annotations.json"
        afile.write_text(json.dumps({"info": {}, "data_subtype": subtype, "annotations": annotations}))
        out["annotations"] = afile
    return out


def db_snapshot(project) -> dict[str, list]:
    """Every row of every table: to check that a failed operation changed nothing."""
    from sqlalchemy import select

    from vqa_studio.core.store import schema

    with project.engine.connect() as conn:
        return {t.name: sorted(map(tuple, conn.execute(select(t)).all()), key=repr) for t in schema.metadata.sorted_tables}


@pytest.fixture
def project(tmp_path):
    from vqa_studio.core.project import Project

    p = Project.create(tmp_path / "proj", name="test")
    p.annotator = "alice"
    yield p
    p.close()


@pytest.fixture
def vqa_dataset(tmp_path):
    return make_vqa_v2(tmp_path / "vqa")


@pytest.fixture
def one_torch_thread():
    """Run a test on one torch thread: tiny models' ops are microseconds, and with several OpenMP
    threads on a busy machine every op waits at a barrier (measured: 58 s instead of 14 s for the
    model and uncertainty tests under a load average of 6 on 2 cores)."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def _no_leaked_threads():
    """A test that leaves a thread running fails (worker pools must be shut down)."""
    before = set(threading.enumerate())
    yield
    import time

    deadline = time.time() + 5
    while time.time() < deadline:
        extra = [t for t in threading.enumerate() if t not in before and t.is_alive() and not t.daemon]
        if not extra:
            return
        time.sleep(0.05)
    pytest.fail(f"test left threads running: {[t.name for t in extra]}")
