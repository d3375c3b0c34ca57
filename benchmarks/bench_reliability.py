"""Reliability figures: kill trials, fuzz cases, corrections during a long import.

    python benchmarks/bench_reliability.py [--kills 200] [--fuzz 5000] [--import-questions 400000]

- kill: a child records corrections through the review commands and is SIGKILLed at random moments
  (tests/reliability/test_kill.py's trial); prints the trials and the acknowledged rows lost (goal 0).
- fuzz: seeded mutations of every input kind (tests/reliability/fuzz.py); prints the cases, the
  exit-1 count and the hangs (goal 0 and 0).
- import: while a VQA v2 file of N questions is imported (one transaction), a second process makes a
  correction every 50 ms through Project.record; prints how many were refused (goal 0).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import random
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def kills(work: Path, trials: int) -> None:
    from tests.reliability.test_kill import kill_trial, lost_rows, make_project

    folder = make_project(work / "kill")
    rng = random.Random(2026)
    acked_total, lost, t0 = 0, [], time.perf_counter()
    for n in range(trials):
        acked, _ = kill_trial(folder, n * 10_000, rng)
        acked_total += len(acked)
        lost += lost_rows(folder, acked)
    print(f"kill: {trials} trials, {acked_total:,} acknowledged corrections, lost: {len(lost)} (goal 0) "
          f"[{time.perf_counter() - t0:.0f} s]", flush=True)


def fuzzing(work: Path, cases: int) -> None:
    from tests.reliability import fuzz

    t0 = time.perf_counter()
    result = fuzz.run(cases, work / "fuzz", seed=11)
    print(f"fuzz: {fuzz.summary(result)} [{time.perf_counter() - t0:.0f} s]", flush=True)
    print(f"fuzz: exit-1 count {len(result.bugs)}, hangs {len(result.slow)} (goal 0 and 0)", flush=True)
    for bug in result.bugs[:10]:
        print(f"  {bug}")


def _corrector(folder: str, stop, out) -> None:
    from vqa_studio.core.project import Project

    project = Project.open(folder)
    qids = project.queue_ids(filters=None, order_by="id")
    done = refused = 0
    while not stop.is_set():
        try:
            project.record(qids[done % len(qids)], "correct", answer=f"c{done}")
            done += 1
        except Exception as exc:  # noqa: BLE001 - what is counted
            refused += 1
            out.put(f"{type(exc).__name__}: {str(exc)[:100]}")
        time.sleep(0.05)
    out.put(("counts", done, refused))
    project.close()


def import_while_correcting(work: Path, n_questions: int) -> None:
    from tests.conftest import write_png
    from vqa_studio import cli

    folder = work / "import"
    images = folder / "images"
    images.mkdir(parents=True)
    per_image = 5
    n_images = n_questions // per_image
    data = write_png(images / "0.png").read_bytes()
    for i in range(1, n_images):  # small copies of one image (the import reads each)
        (images / f"{i}.png").write_bytes(data)
    qs = [{"image_id": i // per_image, "question": f"question {i % per_image} about image {i // per_image}?",
           "question_id": i} for i in range(n_questions)]
    (folder / "q.json").write_text(json.dumps({"data_subtype": "train2014", "questions": qs}))
    seed_q = [{"image_id": 0, "question": "seed question?", "question_id": 10 ** 9}]
    (folder / "seed.json").write_text(json.dumps({"data_subtype": "train2014", "questions": seed_q}))
    project = folder / "project"
    args = ["import", "--project", str(project), "--format", "vqa_v2", "--images", str(images), "-q"]
    assert cli.main(args + ["--questions", str(folder / "seed.json")]) == 0
    ctx = mp.get_context("spawn")
    stop, out = ctx.Event(), ctx.Queue()
    corrector = ctx.Process(target=_corrector, args=(str(project), stop, out))
    corrector.start()
    time.sleep(3.0)
    t0 = time.perf_counter()
    code = cli.main(args + ["--questions", str(folder / "q.json")])
    seconds = time.perf_counter() - t0
    time.sleep(1.0)
    stop.set()
    errors, counts = [], None
    while counts is None:
        item = out.get(timeout=60)
        if isinstance(item, tuple):
            counts = item
        else:
            errors.append(item)
    corrector.join(30)
    print(f"import: {n_questions:,} questions in {seconds:.1f} s (exit {code}); corrections meanwhile: "
          f"{counts[1]:,} stored, refused: {counts[2]} (goal 0)", flush=True)
    for e in errors[:3]:
        print(f"  {e}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/vqa-bench-reliability"))
    ap.add_argument("--kills", type=int, default=200)
    ap.add_argument("--fuzz", type=int, default=5000)
    ap.add_argument("--import-questions", type=int, default=400_000)
    args = ap.parse_args(argv)
    if args.work.exists():
        shutil.rmtree(args.work)
    args.work.mkdir(parents=True)
    if args.kills:
        kills(args.work, args.kills)
    if args.fuzz:
        fuzzing(args.work, args.fuzz)
    if args.import_questions:
        import_while_correcting(args.work, args.import_questions)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
