"""A team at work, in real processes: each annotator claims the next question from the queue, corrects
it based on the version it read, and releases it; now and then all of them edit the same few "hot"
questions at once, which exercises the conflict path (the loser is shown both answers and keeps
theirs as a new correction on the new version). Used by tests/core/test_team_processes.py (small) and
benchmarks/bench_team.py (4 x 1,000).

Afterwards ``check`` counts what matters: acknowledged corrections missing from the history (lost),
questions the queue handed to two annotators (double claims), and history chains that do not add up.
"""
from __future__ import annotations

import json
import multiprocessing as mp
import random
import time
from pathlib import Path


def make_project(folder: Path, url: str | None, n_questions: int, n_hot: int, per_image: int = 10):
    """A project of ``n_questions`` questions to review plus ``n_hot`` already answered ones (out of the
    queue: only edited on purpose). Returns the hot question ids."""
    import cv2
    import numpy as np

    from vqa_studio.core.formats import vqa_v2
    from vqa_studio.core.project import Project
    from vqa_studio.core.types import Action

    data = folder.parent / (folder.name + "-data")
    images = data / "images"
    images.mkdir(parents=True, exist_ok=True)
    total = n_questions + n_hot
    n_images = (total + per_image - 1) // per_image
    questions = []
    for i in range(n_images):
        img = np.full((16, 16, 3), (i * 7 % 255, i * 13 % 255, 90), np.uint8)
        cv2.imwrite(str(images / f"{i}.png"), img)
        for k in range(per_image):
            if len(questions) < total:
                questions.append({"image_id": i, "question": f"What is shown, part {k}?", "question_id": i * 100 + k})
    qfile = data / "questions.json"
    qfile.write_text(json.dumps({"questions": questions}))
    p = Project.create(folder, name="team-bench", url=url)
    try:
        Project.run(p.import_records(vqa_v2.read(qfile, None, images), verify_media=False))
        ids = p.queue_ids(order_by="id")
        hot = ids[-n_hot:] if n_hot else []
        for qid in hot:
            p.record(qid, Action.CORRECT, "start", annotator="setup")
        return hot
    finally:
        p.close()


def annotator(folder: str, name: str, n: int, hot: list[int], hot_every: int, seed: int, start, out: str) -> None:
    """One annotator process: ``n`` acknowledged corrections, written to ``out`` as JSON."""
    from vqa_studio.core.errors import EditConflictError
    from vqa_studio.core.project import Project
    from vqa_studio.core.team import keep_mine
    from vqa_studio.core.types import Action

    rng = random.Random(seed)
    project = Project.open(folder)
    project.annotator = name
    team = project.team(name, lease_s=600)
    handed, acked, conflicts, shown, done = [], [], 0, 0, []
    start.wait()
    t0 = time.perf_counter()
    try:
        while len(acked) < n:
            if hot and hot_every and len(acked) % hot_every == hot_every - 1:
                qid = rng.choice(hot)  # everyone edits the same few questions now and then
                base = project.review_record(qid).revision
                answer = f"{name}-{len(acked)}"
                time.sleep(rng.uniform(0.0, 0.004))  # reading the question: others may write meanwhile
                try:
                    row = project.record(qid, Action.CORRECT, answer, base_version=base)
                except EditConflictError as exc:
                    conflicts += 1
                    shown += exc.mine == answer and exc.theirs is not None and exc.their_annotator is not None
                    while True:  # the annotator keeps theirs: a new correction on the version now in place
                        try:
                            row = keep_mine(project, exc, annotator=name)
                            break
                        except EditConflictError as again:
                            conflicts += 1
                            shown += again.theirs is not None
                            exc = again
                acked.append((row.id, qid, row.after_answer))
                continue
            ids = team.claim_next(1, release=done)  # the question before is released in the same transaction
            if not ids:
                break
            qid = ids[0]
            handed.append(qid)
            base = project.review_record(qid).revision
            row = project.record(qid, Action.CORRECT, f"{name}-{qid}", base_version=base)
            acked.append((row.id, qid, row.after_answer))
            done = ids
        team.release(done)
    finally:
        elapsed = time.perf_counter() - t0
        project.close()
        Path(out).write_text(json.dumps({"name": name, "handed": handed, "acked": acked, "conflicts": conflicts,
                                         "shown": shown, "elapsed": elapsed}))


def run_team(folder: Path, n_annotators: int, per_annotator: int, hot: list[int], hot_every: int = 20,
             timeout: float = 600.0) -> tuple[list[dict], float]:
    """Run the annotators as separate processes at once; returns their results and the wall time."""
    ctx = mp.get_context("spawn")
    start = ctx.Event()
    outs = [folder.parent / f"{folder.name}-ann{k}.json" for k in range(n_annotators)]
    procs = [ctx.Process(target=annotator, args=(str(folder), f"ann{k}", per_annotator, hot, hot_every, k, start,
                                                 str(outs[k]))) for k in range(n_annotators)]
    for p in procs:
        p.start()
    time.sleep(1.0)  # let every process import and connect: the clock starts together
    t0 = time.perf_counter()
    start.set()
    for p in procs:
        p.join(timeout)
        if p.is_alive():
            p.kill()
            raise RuntimeError(f"an annotator process did not finish in {timeout:.0f} s")
    wall = time.perf_counter() - t0
    if any(p.exitcode != 0 for p in procs):
        raise RuntimeError(f"annotator exit codes {[p.exitcode for p in procs]}")
    return [json.loads(o.read_text()) for o in outs], wall


def check(folder: Path, results: list[dict]) -> dict:
    """lost: acknowledged corrections whose history row is missing or different; double_claims:
    questions the queue handed to more than one annotator; problems: broken history chains."""
    from collections import Counter

    from vqa_studio.core.project import Project

    project = Project.open(folder)
    try:
        lost = 0
        for r in results:
            for cid, qid, answer in r["acked"]:
                rows = {c.id: c for c in project.history(qid)}
                if cid not in rows or rows[cid].after_answer != answer or rows[cid].annotator != r["name"]:
                    lost += 1
        handed = Counter(q for r in results for q in set(r["handed"]))
        return {"acked": sum(len(r["acked"]) for r in results), "lost": lost,
                "double_claims": sum(1 for c in handed.values() if c > 1),
                "conflicts": sum(r["conflicts"] for r in results), "shown": sum(r["shown"] for r in results),
                "problems": project.verify_history()}
    finally:
        project.close()
