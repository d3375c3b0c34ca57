"""Time per epoch with a pretrained image encoder: frozen with cached features vs fine-tuned.

Builds a small demo project and a ResNet-18-sized Hugging Face backbone (random weights: only the
timing matters here; nothing is downloaded), then trains three times through the same path a user's
``vqa-studio train --encoder hf:<folder>`` takes:

1. frozen, first run: every image goes through the backbone once (features written to
   ``cache/features``), then the epochs train the question side, fusion and head only;
2. frozen, second run: the features come from the cache, the backbone never runs;
3. ``--unfreeze 1``: the backbone runs forward (and its last stage backward) in every step.

    python benchmarks/bench_pretrained.py [--scenes 150] [--epochs 3] [--threads 2]
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def resnet18_like(folder: Path) -> str:
    import torch
    import transformers

    torch.manual_seed(0)
    config = transformers.ResNetConfig(embedding_size=64, hidden_sizes=[64, 128, 256, 512], depths=[2, 2, 2, 2],
                                       layer_type="basic")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        transformers.AutoModel.from_config(config).save_pretrained(folder)
    return str(folder)


def train(project_dir: Path, encoder: str, epochs: int, unfreeze: int, threads: int) -> dict:
    from vqa_studio.core.driver import drive
    from vqa_studio.core.project import Project
    from vqa_studio.core.train.config import TrainingArgs
    from vqa_studio.core.train.pipeline import run_training

    args = TrainingArgs(epochs=epochs, image_encoder=encoder, unfreeze=unfreeze, threads=threads, mc_samples=2,
                        patience=100, amp="off", device="cpu")
    stamps: dict[str, float] = {}
    t0 = time.perf_counter()

    def seen(p) -> None:
        stamps.setdefault(p.stage, time.perf_counter() - t0)

    project = Project.open(project_dir)
    try:
        outcome = drive(run_training(project, args), on_progress=seen)
    finally:
        project.close()
    seconds = [c["seconds"] for c in outcome.curves if "seconds" in c]
    per_epoch = [b - a for a, b in zip([0.0] + seconds[:-1], seconds)]
    return {"total": time.perf_counter() - t0, "media": stamps.get("train", 0.0) - stamps.get("loading media", 0.0),
            "epochs": per_epoch}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/vqa-bench-pretrained"))
    ap.add_argument("--scenes", type=int, default=150)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)

    from vqa_studio.core.demo import build_demo
    from vqa_studio.core.driver import drive

    if args.work.exists():
        shutil.rmtree(args.work)
    project = args.work / "project"
    drive(build_demo(project, n_scenes=args.scenes, seed=11, labelled_fraction=1.0, questions_per_scene=20))
    encoder = "hf:" + resnet18_like(args.work / "resnet18-random")
    runs = [("frozen, features computed", 0), ("frozen, features from the cache", 0), ("unfreeze 1 (last stage)", 1)]
    results = []
    for label, unfreeze in runs:
        r = train(project, encoder, args.epochs, unfreeze, args.threads)
        results.append((label, r))
        epochs = ", ".join(f"{s:.1f}" for s in r["epochs"])
        print(f"{label:<34} media {r['media']:6.1f} s   per epoch {epochs} s   total {r['total']:.1f} s", flush=True)
    frozen = sum(results[1][1]["epochs"][1:]) / max(1, len(results[1][1]["epochs"]) - 1)
    tuned = sum(results[2][1]["epochs"][1:]) / max(1, len(results[2][1]["epochs"]) - 1)
    print(f"epoch with the frozen encoder and cached features: {frozen:.2f} s; unfrozen: {tuned:.2f} s "
          f"({tuned / max(frozen, 1e-9):.1f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
