"""MC-dropout scoring throughput (T = 20) on the demo pool, on the CPU: items/s of five ways to get
the same ``[N, C, T]`` probabilities from the same trained model.

    python benchmarks/bench_scoring.py [--project DIR] [--items 1024] [--rounds 5] [--threads 1]

(a)  naive: T full forward passes with dropout on, the way a straightforward implementation does it:
     a standard per-question batch (64), each question with its own copy of its image.
(a') ours, full scope: T full passes, dropout everywhere (BatchNorm in eval), each image once per
     batch (``sampling.mc_dropout_probs(scope="full")`` on our image-grouped batches).
(b)  baal 2.1.0: ``ModelWrapper(MCDropoutModule(model)).predict_on_dataset(iterations=T)``, the faster
     of ``replicate_in_memory`` on / off (baal takes nn.Module(tensor) -> tensor, so a thin wrapper
     unpacks one float row per question [image | tokens | length]: each question carries its image).
(c)  ours, head scope: encoders and fusion once per image-grouped batch (eval), T dropout masks on
     the classifier in one op (``sampling.mc_dropout_probs(scope="head")``).
(d)  ours from cached fused features (``sampling.mc_dropout_from_fused``): re-scoring the same model
     (another acquisition method, another T) runs the classifier alone.

Every candidate scores the same pool questions (the first ``--items`` unanswered training questions of
the demo, grouped by image as the app batches them); batches are built before timing. The candidates
are interleaved over ``--rounds`` rounds (order rotated each round) and the medians are reported.
Goals: (c) >= 20x both (a) and (b); (d) >= 10,000 items/s.

Without ``--project`` a demo project is generated (the app's demo: 30% of the training questions
labelled, the rest is the pool) and a model is trained on it first (``--train-epochs``, default 2:
the timing does not depend on how well the model answers, only on its architecture).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from vqa_studio.cli import drive  # noqa: E402
from vqa_studio.core.data.dataset import MediaTensors, Snapshot, VQADataset, batches  # noqa: E402
from vqa_studio.core.demo import build_demo  # noqa: E402
from vqa_studio.core.model import registry  # noqa: E402
from vqa_studio.core.model.net import count_parameters  # noqa: E402
from vqa_studio.core.project import Project  # noqa: E402
from vqa_studio.core.train.config import TrainingArgs  # noqa: E402
from vqa_studio.core.train.pipeline import run_training  # noqa: E402
from vqa_studio.core.types import ItemKind, Status  # noqa: E402
from vqa_studio.core.uncertainty import sampling  # noqa: E402


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


class Packed(nn.Module):
    """nn.Module(tensor) -> logits for baal: one float row per question = [image 3*S*S | tokens L | length]."""

    def __init__(self, net: nn.Module, size: int, length: int):
        super().__init__()
        self.net, self.size, self.length = net, size, length

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, img = x.shape[0], 3 * self.size * self.size
        return self.net({"media": x[:, :img].view(n, 3, self.size, self.size),
                         "tokens": x[:, img:img + self.length].long(), "lengths": x[:, -1].long()})["logits"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--project", type=Path, help="a demo project with a trained model (default: generate one)")
    ap.add_argument("--scenes", type=int, default=None, help="2D scenes of the generated demo (default: the demo's)")
    ap.add_argument("--train-epochs", type=int, default=2)
    ap.add_argument("--items", type=int, default=1024, help="pool questions every candidate scores")
    ap.add_argument("--T", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument("--no-baal", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    T = args.T
    print(f"bench_scoring: {load()}, torch {torch.__version__}, {torch.get_num_threads()} thread(s), CPU")

    folder = args.project
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="vqa-bench-scoring-")) / "demo"
        t = time.perf_counter()
        kw = {} if args.scenes is None else {"n_scenes": args.scenes}
        drive(build_demo(folder, labelled_fraction=0.3, **kw), quiet=True)
        print(f"  demo generated in {folder} ({time.perf_counter() - t:.0f} s)")
    project = Project.open(folder)
    try:
        if project.active_model is None:
            t = time.perf_counter()
            drive(run_training(project, TrainingArgs(epochs=args.train_epochs, patience=100)), quiet=True)
            print(f"  model trained ({args.train_epochs} epochs, {time.perf_counter() - t:.0f} s, {load()})")
        bundle = registry.load_version(project, None)
        snapshot = Snapshot.load(project)
    finally:
        project.close()
    net = bundle.net(ItemKind.IMAGE).members[0].eval()
    media = MediaTensors(snapshot, bundle.image_size, bundle.cloud_points, folder / "cache" / "media")
    pool = [qa for qa in snapshot.questions if qa.kind is ItemKind.IMAGE and qa.split == "train"
            and qa.status in (Status.NEW, Status.PROPOSED)]
    if not pool:
        pool = [qa for qa in snapshot.questions if qa.kind is ItemKind.IMAGE]
        print("  (no unanswered questions in the project: scoring all its image questions)")
    media.ensure({qa.item_id for qa in pool})
    ds_all = VQADataset(pool, media, bundle.encoders, with_labels=False)
    # the first --items questions in the app's order (grouped by image)
    ordered = [qa for group in ds_all.groups for qa in group][: args.items]
    ds = VQADataset(ordered, media, bundle.encoders, with_labels=False)
    n = ds.n_questions
    grouped = [{k: v for k, v in b.items() if k != "question_ids"} for b in batches(ds, 256, shuffle=False)]
    u = sum(int(b["media"].shape[0]) for b in grouped)
    naive = []
    for b in grouped:  # per-question batches of 64: each question with its own copy of its image
        per_q = {"media": b["media"][b["media_index"]], "tokens": b["tokens"], "lengths": b["lengths"]}
        naive.append(per_q)
    flat = {k: torch.cat([b[k] for b in naive]) if k != "tokens" else None for k in naive[0]}
    length = max(int(b["tokens"].shape[1]) for b in naive)
    flat["tokens"] = torch.cat([nn.functional.pad(b["tokens"], (0, length - b["tokens"].shape[1])) for b in naive])
    naive = [{k: v[i:i + 64] for k, v in flat.items()} for i in range(0, n, 64)]
    C = net.n_answers
    print(f"  model {bundle.version}: {count_parameters(net):,} parameters, {C} answers, media encoder "
          f"{net.config.media_encoder}, fusion {net.config.fusion}; pool {len(pool)} questions on "
          f"{len(ds_all)} images, scoring the first {n} ({u} images, {n / max(u, 1):.1f} questions per image)")

    fused = sampling.encode_all(net, grouped).fused

    def run_a():
        return sampling.mc_dropout_probs(net, naive, T=T, scope="full", seed=0)

    def run_a2():
        return sampling.mc_dropout_probs(net, grouped, T=T, scope="full", seed=0)

    def run_c():
        return sampling.mc_dropout_probs(net, grouped, T=T, scope="head", seed=0)

    def run_d():
        return sampling.mc_dropout_from_fused(net, fused, T=T, seed=0)

    candidates = {"(a) naive full, image per question": run_a, "(a') ours full, image shared": run_a2}
    if not args.no_baal:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from baal.bayesian.dropout import MCDropoutModule
            from baal.modelwrapper import ModelWrapper
            from baal.modelwrapper import TrainingArgs as BaalArgs
        size = bundle.image_size
        rows = torch.cat([flat["media"].reshape(n, -1), flat["tokens"].float(), flat["lengths"].float()[:, None]], 1)
        baal_ds = torch.utils.data.TensorDataset(rows, torch.zeros(n, dtype=torch.long))
        mc = MCDropoutModule(Packed(net, size, length))

        def baal_run(replicate: bool):
            def run():
                w = ModelWrapper(mc, BaalArgs(batch_size=64, use_cuda=False, workers=0, replicate_in_memory=replicate,
                                              criterion=nn.CrossEntropyLoss()))
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return w.predict_on_dataset(baal_ds, iterations=T, verbose=False)
            return run

        candidates["(b) baal replicate_in_memory=True"] = baal_run(True)
        candidates["(b) baal replicate_in_memory=False"] = baal_run(False)
    candidates["(c) ours head scope"] = run_c
    candidates["(d) ours from cached fused"] = run_d

    # warm-up (and shape check) once each, then interleaved rounds
    for name, fn in candidates.items():
        out = fn()
        assert out.shape == (n, C, T), (name, out.shape)
    net.eval()
    rates: dict[str, list[float]] = {k: [] for k in candidates}
    names = list(candidates)
    for r in range(args.rounds):
        order = names[r % len(names):] + names[: r % len(names)]
        for name in order:
            fn, reps, t0 = candidates[name], 0, time.perf_counter()
            while True:  # the fast ones repeat to at least 0.3 s
                fn()
                reps += 1
                el = time.perf_counter() - t0
                if el >= 0.3:
                    break
            rates[name].append(n * reps / el)
        net.eval()
    med = {k: statistics.median(v) for k, v in rates.items()}
    print(f"  after {args.rounds} interleaved rounds ({load()}):")
    for k, v in med.items():
        spread = f"{min(rates[k]):,.0f}..{max(rates[k]):,.0f}"
        print(f"    {k:<38} {v:>10,.0f} items/s   (rounds {spread})")
    a, a2, c, d = (med["(a) naive full, image per question"], med["(a') ours full, image shared"],
                   med["(c) ours head scope"], med["(d) ours from cached fused"])
    print(f"  c/a  = {c / a:6.1f}x   [goal >= 20: {'OK' if c / a >= 20 else 'MISSED'}]")
    print(f"  c/a' = {c / a2:6.1f}x")
    if not args.no_baal:
        b_key = max((k for k in med if k.startswith("(b)")), key=med.get)
        # per round, baal's faster setting
        b_round = [max(x, y) for x, y in zip(rates["(b) baal replicate_in_memory=True"],
                                             rates["(b) baal replicate_in_memory=False"])]
        b = statistics.median(b_round)
        print(f"  c/b  = {c / b:6.1f}x   [goal >= 20: {'OK' if c / b >= 20 else 'MISSED'}]  "
              f"(b = baal's faster setting per round, median {b:,.0f} items/s; overall faster: {b_key[4:]})")
    print(f"  d    = {d:,.0f} items/s   [goal >= 10,000: {'OK' if d >= 10_000 else 'MISSED'}]")


if __name__ == "__main__":
    main()
