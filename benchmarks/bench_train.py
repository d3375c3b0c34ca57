"""Training benchmark: time to accuracy on the demo, and training throughput fp32 vs mixed precision.

    python benchmarks/bench_train.py [--project DIR] [--3d | --only-3d] [--scenes 12000] [--questions 20] [--budget 300] [--threads N] [--no-run] [--no-precision]

1. **Time to accuracy** (2D; with ``--3d`` also the 3D demo, PointNet encoder): generates the demo
   (the app's defaults, every question labelled) unless ``--project`` names one, then times
   ``run_training`` from its start to the model registered (re-scoring of the whole project
   included) under ``TrainingArgs(time_limit_s=...)`` (the training budget; the rest of the run
   is data loading, calibration, evaluation, saving, re-scoring and registering). Prints the epoch
   curve, the test accuracy per answer type, the ECE before / after temperature scaling and the
   seconds, against the goals (2D: >= 95% test, ECE after <= 0.03, <= 300 s; 3D: >= 85%, <= 300 s).
2. **Precision**: training steps per second of the same network on the same batches in fp32 and
   in mixed precision (CPU: bf16 autocast, which runs 5 to 12x slower on a CPU without native bf16;
   CUDA: fp16 with a GradScaler, and bf16 where supported), and what ``choose_precision("auto")``
   picks here and why.

The load average (other work on the machine) is printed with every figure: timings on a shared
machine are only comparable at a similar load.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from vqa_studio.core.data.dataset import Encoders, MediaTensors, Snapshot, VQADataset, batches, build_vocabs  # noqa: E402
from vqa_studio.core.demo import build_demo  # noqa: E402
from vqa_studio.core.model.net import ModelConfig, VQANet, tag_loss, vqa_loss  # noqa: E402
from vqa_studio.core.project import Project  # noqa: E402
from vqa_studio.core.train.config import FP32, Precision, TrainingArgs, choose_device, choose_precision, describe_device  # noqa: E402
from vqa_studio.core.train.loop import autocast  # noqa: E402
from vqa_studio.core.train.pipeline import model_config, run_training  # noqa: E402
from vqa_studio.core.types import ItemKind  # noqa: E402


def load() -> str:
    return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def drive(gen, on_progress=None):
    try:
        while True:
            p = next(gen)
            if on_progress is not None:
                on_progress(p)
    except StopIteration as stop:
        return stop.value


def make_demo(folder: Path, three_d: bool, scenes: int, scenes_3d: int, questions: int) -> None:
    t = time.perf_counter()
    kw = {"n_scenes": scenes, "questions_per_scene": questions}
    if three_d:
        kw = {"n_scenes": 0, "n_scenes_3d": scenes_3d, "questions_per_scene_3d": questions}
    result = drive(build_demo(folder, labelled_fraction=1.0, **kw))
    print(f"  demo: {result.n_questions} questions generated in {time.perf_counter() - t:.0f} s ({load()}) at {folder}")


def project_size(folder: Path) -> int:
    project = Project.open(folder)
    try:
        return project.stats().n_questions
    finally:
        project.close()


def time_to_accuracy(folder: Path, kind: ItemKind, targs: TrainingArgs, goal_acc: float, goal_s: float) -> None:
    project = Project.open(folder)
    curve = []
    marks: dict[str, float] = {}
    t0 = time.perf_counter()

    def on_progress(p):
        if p.stage == "epoch":
            i = p.info
            curve.append(i)
            val = "   -  " if math.isnan(i["val_accuracy"]) else f"{i['val_accuracy'] * 100:5.1f}%"
            print(f"    epoch {i['epoch']}: {i['seconds']:6.1f} s  {i['questions']:7d} questions  loss {i['loss']:.3f}  "
                  f"train {i['train_accuracy'] * 100:5.1f}%  val {val}{'  (media encoder frozen)' if i['media_frozen'] else ''}"
                  f"  ({load()})", flush=True)
        elif p.stage in ("calibrating", "evaluating", "saving", "registering") and p.done == 0:
            print(f"    [{time.perf_counter() - t0:6.1f} s] {p.message}", flush=True)
            if p.stage == "saving" and "saved" not in marks:
                marks["saved"] = time.perf_counter() - t0
        elif p.stage == "scoring" and p.done == 0:
            print(f"    [{time.perf_counter() - t0:6.1f} s] re-scoring the project", flush=True)

    try:
        print(f"  run_training: {targs.epochs} epochs max, training budget {targs.time_limit_s} s, batch "
              f"{targs.batch_size}, lr {targs.lr}, skip easy {targs.skip_easy} (loss < {targs.easy_loss}), freeze the "
              f"media encoder at {targs.freeze_media_at} of the schedule, "
              f"threads {targs.threads or torch.get_num_threads()} ({load()})")
        outcome = drive(run_training(project, targs), on_progress)
    finally:
        project.close()
    seconds = time.perf_counter() - t0
    m = outcome.metrics["by_kind"][kind.value]
    test = m["test"]
    print(f"  {kind.value}: test accuracy {test['overall'] * 100:.2f}% on {test['n']} questions; by answer type: "
          + ", ".join(f"{k} {v * 100:.2f}%" for k, v in sorted(test["by_answer_type"].items())))
    print("    by question type: " + ", ".join(f"{k} {v * 100:.1f}%" for k, v in sorted(test["by_question_type"].items())))
    if "ece_before" in m:
        print(f"  ECE ({m['ece_on']} split): {m['ece_before']:.4f} before, {m['ece_after']:.4f} after temperature "
              f"scaling (T = {m['temperature']:.3f})")
    acc_ok = test["overall"] >= goal_acc
    trained = marks.get("saved", seconds)
    time_ok = trained <= goal_s
    print(f"  {kind.value}: {trained:.1f} s to a trained, calibrated and evaluated model (data loading included); "
          f"{seconds - trained:.1f} s more to save it, re-score all {project_size(folder)} questions of the project "
          f"with MC-dropout and register it")
    ece_ok = m.get("ece_after", 1.0) <= 0.03
    print(f"  {kind.value}: goals: accuracy >= {goal_acc * 100:.0f}% {'OK' if acc_ok else 'MISSED'}, "
          f"trained in <= {goal_s:.0f} s {'OK' if time_ok else 'MISSED'} ({load()})"
          + (f", ECE after <= 0.03 {'OK' if ece_ok else 'MISSED'}" if kind is ItemKind.IMAGE else ""))
    for msg in outcome.messages:
        print(f"    note: {msg}")


def precision_throughput(folder: Path, kind: ItemKind, targs: TrainingArgs, steps: int) -> None:
    device = choose_device(targs.device)
    print(f"  device: {describe_device(device)}")
    project = Project.open(folder)
    try:
        snapshot = Snapshot.load(project)
    finally:
        project.close()
    train_q = snapshot.labelled(["train"], kind)
    encoders = Encoders(*build_vocabs(snapshot, train_q, targs.max_answers))
    media = MediaTensors(snapshot, targs.image_size, targs.cloud_points, folder / "cache" / "media")
    media.ensure({qa.item_id for qa in train_q})
    ds = VQADataset(train_q, media, encoders)
    config = model_config(targs, kind, encoders)
    blist = []
    for b in batches(ds, targs.batch_size, shuffle=True, seed=1):
        blist.append({k: v.to(device) for k, v in b.items()})
        if len(blist) >= steps + 2:
            break
    options = [FP32]
    if device.type == "cuda":
        options.append(Precision("fp16", torch.float16, True, "CUDA fp16 with loss scaling"))
        if torch.cuda.is_bf16_supported():
            options.append(Precision("bf16", torch.bfloat16, False, "CUDA bf16"))
    else:
        options.append(Precision("bf16", torch.bfloat16, False, "CPU bf16 autocast"))
    rates = {}
    threads = torch.get_num_threads()
    if targs.threads:
        torch.set_num_threads(targs.threads)
    try:
        for prec in options:
            torch.manual_seed(0)
            net = VQANet(config).to(device).train()
            opt = torch.optim.AdamW(net.parameters(), lr=1e-3)
            scaler = torch.amp.GradScaler(device.type, enabled=prec.use_scaler)
            n_q, t = 0, None
            for i, b in enumerate(blist):
                if i == 2:  # two warm-up steps
                    if device.type == "cuda":
                        torch.cuda.synchronize()
                    t, n_q = time.perf_counter(), 0
                with autocast(device, prec):
                    out = net(b)
                    loss = vqa_loss(out["logits"], b)
                    if "tag_logits" in out:
                        loss = loss + targs.tag_loss * tag_loss(out["tag_logits"], b)
                opt.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(opt)
                scaler.update()
                n_q += int(b["tokens"].shape[0])
            if device.type == "cuda":
                torch.cuda.synchronize()
            rates[prec.name] = n_q / (time.perf_counter() - t)
            print(f"    {prec.name:5s}: {rates[prec.name]:8.0f} questions/s training ({steps} steps of ~{targs.batch_size}, "
                  f"{torch.get_num_threads()} threads, {load()})", flush=True)
    finally:
        torch.set_num_threads(threads)
    for name in rates:
        if name != "fp32":
            r = rates["fp32"] / rates[name]
            print(f"  {name} autocast is {r:.1f}x {'slower' if r >= 1 else 'faster'} than fp32 here"
                  + (" (expected 5 to 12x slower on a CPU without native bf16)" if device.type == "cpu" else ""))
    auto = choose_precision(device, "auto")
    print(f"  choose_precision('auto') picks {auto.name}: {auto.reason or 'default for this device'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--project", type=Path, help="an existing 2D demo project")
    ap.add_argument("--only-3d", action="store_true", help="run the 3D demo only")
    ap.add_argument("--3d", dest="three_d", action="store_true", help="also run the 3D demo (PointNet)")
    ap.add_argument("--project-3d", type=Path, help="an existing 3D demo project")
    ap.add_argument("--scenes", type=int, default=12000, help="2D scenes (default 12000)")
    ap.add_argument("--scenes-3d", type=int, default=3000, help="3D scenes (default 3000)")
    ap.add_argument("--questions", type=int, default=20, help="questions per scene (default 20)")
    ap.add_argument("--budget", type=float, default=None,
                    help="training time budget in s (default: TrainingArgs' demo budget, so the whole run fits in 5 minutes)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads while training (default: torch's)")
    ap.add_argument("--steps", type=int, default=8, help="timed steps per precision")
    ap.add_argument("--no-run", action="store_true", help="skip the time-to-accuracy run(s)")
    ap.add_argument("--no-precision", action="store_true", help="skip the precision comparison")
    args = ap.parse_args()
    print(f"bench_train ({load()}), torch {torch.__version__}")
    work = Path(tempfile.mkdtemp(prefix="vqa-bench-train-"))
    runs = [] if args.only_3d else [(ItemKind.IMAGE, args.project, 0.95)]
    if args.three_d or args.only_3d:
        runs.append((ItemKind.CLOUD, args.project_3d, 0.85))
    for kind, folder, goal in runs:
        print(f"== {kind.value} ==")
        if folder is None:
            folder = work / f"demo-{kind.value}"
            make_demo(folder, kind is ItemKind.CLOUD, args.scenes, args.scenes_3d, args.questions)
        targs = TrainingArgs.for_demo(time_limit_s=args.budget, threads=args.threads)
        if not args.no_run:
            time_to_accuracy(folder, kind, targs, goal, 300.0)
        if not args.no_precision:
            precision_throughput(folder, kind, targs, args.steps)


if __name__ == "__main__":
    main()
