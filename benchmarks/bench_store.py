"""Project store speed: import, review queue, correction commits. Prints figures and ratios.

    python benchmarks/bench_store.py [--questions 100000] [--per-image 4] [--workdir DIR]

Targets (issue 2): importing 100,000 questions from VQA v2 JSON (with annotations, ten answers each,
every image checked) in at most 10 s; the top 1,000 of the review queue by score out of 100,000 in at
most 50 ms; one durable correction commit at p95 in at most 10 ms. Each figure is printed beside a
naive baseline run in the same process.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select  # noqa: E402

from vqa_studio.core.formats import vqa_v2  # noqa: E402
from vqa_studio.core.project import Project  # noqa: E402
from vqa_studio.core.store import db, schema  # noqa: E402
from vqa_studio.core.types import Action, QueueFilter, Status  # noqa: E402

ANSWERS = {"what color is the": ["red", "blue", "green", "yellow"], "how many": ["1", "2", "3", "4"],
           "is there a": ["yes", "no"], "what shape is the": ["circle", "square", "triangle"]}
TEMPLATES = [("What color is the {n} thing?", "what color is the"), ("How many {n} things are there?", "how many"),
             ("Is there a {n} circle?", "is there a"), ("What shape is the {n} object?", "what shape is the")]


def make_dataset(folder: Path, n_questions: int, per_image: int, seed: int = 0) -> dict[str, Path]:
    """Real PNG files and real VQA v2 questions/annotations JSON (ten answers per question)."""
    import cv2

    rng = np.random.default_rng(seed)
    images = folder / "images"
    images.mkdir(parents=True, exist_ok=True)
    n_images = (n_questions + per_image - 1) // per_image
    t = time.perf_counter()
    for i in range(n_images):
        img = np.full((64, 64, 3), rng.integers(0, 255, 3), np.uint8)
        for _ in range(rng.integers(1, 4)):
            c = tuple(int(v) for v in rng.integers(0, 255, 3))
            cv2.circle(img, tuple(int(v) for v in rng.integers(8, 56, 2)), int(rng.integers(4, 12)), c, -1)
        cv2.imwrite(str(images / f"{i}.png"), img)
    questions, annotations = [], []
    for q in range(n_questions):
        image_id = q // per_image
        tmpl, qtype = TEMPLATES[q % len(TEMPLATES)]
        pool = ANSWERS[qtype]
        right = pool[int(rng.integers(len(pool)))]
        answers = [{"answer_id": k + 1, "answer": right if rng.random() < 0.8 else pool[int(rng.integers(len(pool)))],
                    "answer_confidence": "yes"} for k in range(10)]
        questions.append({"image_id": image_id, "question": tmpl.format(n=q), "question_id": q})
        annotations.append({"question_id": q, "image_id": image_id, "question_type": qtype,
                            "answer_type": "other", "multiple_choice_answer": right, "answers": answers})
    qfile = folder / "v2_OpenEnded_mscoco_train2014_questions.json"
    afile = folder / "v2_mscoco_train2014_annotations.json"
    qfile.write_text(json.dumps({"info": {}, "task_type": "Open-Ended", "data_type": "mscoco",
                                 "data_subtype": "train2014", "questions": questions}))
    afile.write_text(json.dumps({"info": {}, "data_subtype": "train2014", "annotations": annotations}))
    print(f"  (made {n_images} images and {n_questions} questions in {time.perf_counter() - t:.1f} s)")
    return {"questions": qfile, "annotations": afile, "images": images}


def naive_import(project: Project, files: dict[str, Path], limit: int) -> float:
    """Baseline: one INSERT ... RETURNING per item, question and answer (what a first ORM version does)."""
    records = [r for r, _ in zip(vqa_v2.read(files["questions"], files["annotations"], files["images"]), range(limit))]
    t = time.perf_counter()
    with project.engine.begin() as conn:
        item_ids: dict[str, int] = {}
        for r in records:
            uri = r.media_path.as_posix()
            if uri not in item_ids:
                from vqa_studio.core.data.media import probe

                info = probe(r.media_path)
                item_ids[uri] = conn.execute(insert(schema.items).values(
                    kind="image", uri=uri, sha256=info.sha256, split=r.split, width=info.width, height=info.height,
                    created_at=db.utcnow()).returning(schema.items.c.id)).scalar_one()
            qid = conn.execute(insert(schema.questions).values(
                item_id=item_ids[uri], text=r.question, question_type="x", answer_type="other", status="labelled",
                answer=r.answer, created_at=db.utcnow(), updated_at=db.utcnow()).returning(schema.questions.c.id)).scalar_one()
            for answer, confidence, _ in r.answers:
                conn.execute(insert(schema.answers).values(question_id=qid, answer=answer, source="import",
                                                           confidence=confidence, created_at=db.utcnow()))
    return time.perf_counter() - t


def add_scores(project: Project, version: str = "bench", seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    now = db.utcnow()
    with project.engine.begin() as conn:
        ids = list(conn.execute(select(schema.questions.c.id)).scalars())
        conn.execute(insert(schema.models).values(version=version, path="-", created_at=now))
        conn.execute(insert(schema.predictions), [
            {"question_id": q, "model_version": version, "answers": ["red", "blue", "green", "1", "yes"],
             "probs": [0.4, 0.3, 0.1, 0.1, 0.1], "scores": {}, "in_vocab": True, "created_at": now} for q in ids])
        for method in ("entropy", "margin", "bald"):
            vals = rng.random(len(ids))
            conn.execute(insert(schema.prediction_scores), [
                {"model_version": version, "method": method, "question_id": q, "value": float(v)} for q, v in zip(ids, vals)])
    project.set_setting("active_model", version)


def timeit(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=int, default=100_000)
    ap.add_argument("--per-image", type=int, default=4, help="questions per image (VQA v2 has about 5)")
    ap.add_argument("--naive", type=int, default=10_000, help="questions for the naive import baseline")
    ap.add_argument("--workdir", type=Path)
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="vqa-bench-store-"))
    try:
        print(f"bench_store: {args.questions} questions, {args.per_image} per image, in {work}")
        files = make_dataset(work / "data", args.questions, args.per_image)

        project = Project.create(work / "project")
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        t, c = time.perf_counter(), time.process_time()
        report = Project.run(project.import_records(vqa_v2.read(files["questions"], files["annotations"], files["images"])))
        t_import, c_import = time.perf_counter() - t, time.process_time() - c
        assert report.questions_added == args.questions, report.summary()
        rate = args.questions / t_import

        naive_project = Project.create(work / "naive")
        t_naive = naive_import(naive_project, files, args.naive)
        naive_project.close()
        naive_rate = args.naive / t_naive
        print(f"import: {args.questions} questions ({report.items_added} images checked, 10 answers each) in "
              f"{t_import:.2f} s = {rate:,.0f} q/s (CPU {c_import:.2f} s, load average {load:.1f} on "
              f"{os.cpu_count()} cores)   [target <= 10 s: {'OK' if t_import <= 10 else 'MISSED'}]")
        print(f"        naive per-row INSERT ... RETURNING: {naive_rate:,.0f} q/s on {args.naive} -> "
              f"ours is {rate / naive_rate:.1f}x faster")

        add_scores(project)
        filt = QueueFilter()
        project.queue(order_by="entropy", limit=1000)  # warm the page cache as an open project would be
        ours = timeit(lambda: project.queue(order_by="entropy", filters=filt, limit=1000), 20)
        by_status = timeit(lambda: project.queue(order_by="bald", filters=QueueFilter(statuses=[Status.LABELLED]),
                                                 limit=1000), 20)

        def naive_queue():
            with project.engine.connect() as conn:
                rows = conn.execute(select(schema.prediction_scores.c.question_id, schema.prediction_scores.c.value).where(
                    schema.prediction_scores.c.method == "entropy")).all()
            top = sorted(rows, key=lambda r: -r[1])[:1000]
            return project.questions([r[0] for r in top])

        naive = timeit(naive_queue, 5)
        med, med_f, med_n = statistics.median(ours) * 1e3, statistics.median(by_status) * 1e3, statistics.median(naive) * 1e3
        print(f"queue: top 1,000 of {args.questions} by score in {med:.1f} ms median, {max(ours) * 1e3:.1f} ms max "
              f"[target <= 50 ms: {'OK' if max(ours) * 1e3 <= 50 else 'MISSED'}]; with a status filter {med_f:.1f} ms")
        print(f"       naive (load every score, sort in Python, fetch): {med_n:.0f} ms -> ours is {med_n / med:.0f}x faster")

        ids = project.queue_ids(order_by="entropy", limit=600)
        project.record(ids[0], Action.ACCEPT)  # warm-up
        lat = []
        for k, qid in enumerate(ids[1:501]):
            t = time.perf_counter()
            if k % 3 == 0:
                project.record(qid, Action.CORRECT, "purple")
            elif k % 3 == 1:
                project.record(qid, Action.ACCEPT)
            else:
                project.undo(project.record(qid, Action.PICK, pick=2).id)
            lat.append(time.perf_counter() - t)
        p50, p95 = np.percentile(lat, 50) * 1e3, np.percentile(lat, 95) * 1e3
        print(f"correction commit (WAL, synchronous=FULL, durable): p50 {p50:.2f} ms, p95 {p95:.2f} ms over {len(lat)} "
              f"[target p95 <= 10 ms: {'OK' if p95 <= 10 else 'MISSED'}]")
        assert project.verify_history() == []
        project.close()
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
