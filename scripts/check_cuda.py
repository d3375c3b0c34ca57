"""Fine-tuning with a pretrained image encoder on a CUDA GPU: fp32 vs mixed precision.

Builds a small 2D demo project and a ResNet-18-sized Hugging Face backbone (random weights: nothing
is downloaded), then trains the same model twice with its last stage fine-tuned (``--unfreeze 1``)
and gradient accumulation (2 micro-batches a step): once in fp32, once with mixed precision (bf16
where the GPU supports it, else fp16 with a GradScaler). Prints questions/s and test accuracy of
both, and exits non-zero if CUDA is missing or a run fails. ``scripts/check-cuda.sh`` runs it.

    python scripts/check_cuda.py [--scenes 600] [--epochs 3] [--device cuda]
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def run(project: Path, encoder: str, amp: str, args) -> dict:
    from vqa_studio.core.driver import drive
    from vqa_studio.core.project import Project
    from vqa_studio.core.train.config import TrainingArgs
    from vqa_studio.core.train.pipeline import run_training

    targs = TrainingArgs(epochs=args.epochs, image_encoder=encoder, unfreeze=1, accumulate=2, amp=amp,
                         device=args.device, mc_samples=2, patience=100, batch_size=128)
    t0 = time.perf_counter()
    p = Project.open(project)
    try:
        outcome = drive(run_training(p, targs))
    finally:
        p.close()
    curves = [c for c in outcome.curves if "seconds" in c]
    questions = sum(c.get("questions", 0) for c in curves)
    seconds = curves[-1]["seconds"] if curves else float("nan")
    m = outcome.metrics
    return {"q_per_s": questions / seconds if seconds else float("nan"), "test": float(m.get("test_accuracy", "nan")),
            "precision": m.get("precision"), "total_s": time.perf_counter() - t0}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/vqa-check-cuda"))
    ap.add_argument("--scenes", type=int, default=600)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--device", default="cuda")
    args = ap.parse_args(argv)
    import torch

    from bench_pretrained import resnet18_like
    from vqa_studio.core.demo import build_demo
    from vqa_studio.core.driver import drive
    from vqa_studio.core.train.config import describe_device

    print(f"torch {torch.__version__}; {describe_device(args.device if args.device != 'cuda' else None)}")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA device here: nothing checked")
        return 1
    if args.work.exists():
        shutil.rmtree(args.work)
    project = args.work / "project"
    drive(build_demo(project, n_scenes=args.scenes, seed=21, labelled_fraction=1.0, questions_per_scene=20))
    encoder = "hf:" + resnet18_like(args.work / "resnet18-random")
    results = {}
    for amp in ("off", "on"):
        r = run(project, encoder, amp, args)
        results[amp] = r
        print(f"amp {amp:<3} precision {r['precision']}: {r['q_per_s']:,.0f} questions/s training, "
              f"test accuracy {r['test'] * 100:.2f}% ({r['total_s']:.0f} s in all)", flush=True)
    ratio = results["on"]["q_per_s"] / results["off"]["q_per_s"]
    print(f"mixed precision vs fp32: {ratio:.2f}x the questions/s; accuracy {results['on']['test'] * 100:.2f}% "
          f"vs {results['off']['test'] * 100:.2f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
