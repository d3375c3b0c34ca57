"""Mutation fuzzing of every kind of input VQA Studio reads: seeded, reproducible, no extra package.

Valid seed files (VQA v2 questions and annotations JSON, CSV, PNG, JPEG, PLY, PCD, LAS, model
checkpoints) are mutated (bytes flipped, cut short, spliced, numbers and strings swapped for hostile
ones) and fed to the same entry points a user's files take. A case passes when the import exits 0
or 2 (never 1, never a hang) within 30 s and, when it was refused, the database is unchanged; a
checkpoint passes when it loads or is refused with ``CheckpointError``.
Shared by tests/reliability/test_fuzz.py and benchmarks/bench_reliability.py.
"""
from __future__ import annotations

import contextlib
import io
import json
import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HOSTILE_TEXT = ["\\ud800", "../../../etc/passwd", "/abs/path", "A" * 5000, "\\u0000", "CON", "💥" * 50, ""]
HOSTILE_NUMBERS = ["9" * 5000, "-1", "1e309", "NaN", "0", "18446744073709551617", "[]", "null", "{}"]
KINDS = ("json", "csv", "png", "jpeg", "ply", "pcd", "las", "checkpoint")


@dataclass
class FuzzResult:
    cases: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    exit_codes: dict[int, int] = field(default_factory=dict)
    bugs: list[str] = field(default_factory=list)  # exit 1, or another exception than the expected ones
    slow: list[str] = field(default_factory=list)  # over 30 s (a hang, for our purposes)
    changed: list[str] = field(default_factory=list)  # refused, yet the database changed


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One random mutation of ``data`` (text files also get hostile numbers and strings)."""
    op = rng.randrange(6)
    b = bytearray(data)
    if op == 0 and b:  # flip a few bytes
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
    elif op == 1 and b:  # cut short
        b = b[:rng.randrange(len(b))]
    elif op == 2 and b:  # splice a chunk of itself somewhere else
        i, j = sorted(rng.randrange(len(b) + 1) for _ in range(2))
        k = rng.randrange(len(b) + 1)
        b[k:k] = b[i:j]
    elif op == 3:  # random bytes inserted
        k = rng.randrange(len(b) + 1)
        b[k:k] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    else:  # text: a number or a string swapped for a hostile one
        text = data.decode("latin-1")
        import re

        spots = [m.span() for m in re.finditer(r"-?\d+(\.\d+)?" if op == 4 else r'"[^"\n]{1,40}"', text)]
        if not spots:
            return bytes(b)
        i, j = rng.choice(spots)
        new = rng.choice(HOSTILE_NUMBERS) if op == 4 else '"' + rng.choice(HOSTILE_TEXT) + '"'
        return (text[:i] + new + text[j:]).encode("latin-1", "replace")
    return bytes(b)


def _seed_images(folder: Path) -> dict[str, bytes]:
    import cv2

    img = np.zeros((24, 32, 3), np.uint8)
    img[4:12, 6:20] = (200, 40, 40)
    ok_png, png = cv2.imencode(".png", img)
    ok_jpg, jpg = cv2.imencode(".jpg", img)
    assert ok_png and ok_jpg
    return {"png": png.tobytes(), "jpeg": jpg.tobytes()}


def _seed_clouds(folder: Path) -> dict[str, bytes]:
    from vqa_studio.core.data.clouds import Cloud, save_cloud

    rng = np.random.default_rng(0)
    cloud = Cloud(rng.normal(size=(40, 3)).astype(np.float32), None)
    out = {}
    for kind, ext in (("ply", ".ply"), ("pcd", ".pcd")):
        path = folder / f"seed{ext}"
        save_cloud(path, cloud)
        out[kind] = path.read_bytes()
    import laspy

    las = laspy.create(point_format=3, file_version="1.2")
    las.header.scales = np.array([0.001, 0.001, 0.001])
    las.x, las.y, las.z = (cloud.xyz[:, i].astype(np.float64) for i in range(3))
    las.write(str(folder / "seed.las"))
    out["las"] = (folder / "seed.las").read_bytes()
    return out


def _seed_checkpoint(folder: Path) -> bytes:
    from vqa_studio.core.data.dataset import Encoders
    from vqa_studio.core.data.vocab import AnswerVocab, Vocab
    from vqa_studio.core.model.net import ModelConfig, VQANet
    from vqa_studio.core.model.registry import ModelBundle, NetSet
    from vqa_studio.core.types import ItemKind

    words, answers = ["<pad>", "<unk>", "what", "colour"], ["red", "blue"]
    net = VQANet(ModelConfig(vocab_size=4, n_answers=2, region_dim=8, hidden_dim=8, word_dim=4, fusion_rank=4,
                             classifier_hidden=8, media_options={"width": 4})).eval()
    bundle = ModelBundle("v1", Encoders(Vocab(words), AnswerVocab(answers)),
                         {ItemKind.IMAGE: NetSet(ItemKind.IMAGE, net.config.to_dict(), [net])})
    return bundle.save(folder / "seed.pt").read_bytes()


def seeds(folder: Path) -> dict[str, bytes]:
    from tests.conftest import make_vqa_v2

    folder.mkdir(parents=True, exist_ok=True)
    data = make_vqa_v2(folder / "vqa", n_images=3, per_image=2)
    csv = "image,question,answer,split\n1000.png,what colour is it?,red,train\n1001.png,how many?,2,val\n"
    out = {"json": data["questions"].read_bytes(), "json_annotations": data["annotations"].read_bytes(),
           "csv": csv.encode()}
    out.update(_seed_images(folder))
    out.update(_seed_clouds(folder))
    out["checkpoint"] = _seed_checkpoint(folder)
    out["_images"] = str(data["images"]).encode()
    return out


def _run_cli(args: list[str]) -> int:
    from vqa_studio import cli

    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        try:
            return cli.main(args)
        except SystemExit as exc:  # argparse's usage errors
            return int(exc.code or 0)


def _import_args(kind: str, project: Path, case: Path, images: Path) -> list[str]:
    base = ["import", "--project", str(project), "-q"]
    if kind == "json":
        return base + ["--format", "vqa_v2", "--questions", str(case / "q.json"), "--annotations",
                       str(case / "a.json"), "--images", str(images)]
    if kind == "csv":
        return base + ["--format", "csv", "--input", str(case / "in.csv"), "--images", str(images)]
    return base + ["--format", "folder", "--images", str(case)]


_EXT = {"png": ".png", "jpeg": ".jpg", "ply": ".ply", "pcd": ".pcd", "las": ".las"}


def one_case(kind: str, seed_files: dict[str, bytes], rng: random.Random, work: Path, project: Path,
             result: FuzzResult) -> None:
    from tests.conftest import db_snapshot
    from vqa_studio.core.errors import CheckpointError
    from vqa_studio.core.project import Project

    case = work / f"case{result.cases}"
    case.mkdir(parents=True)
    t0 = time.monotonic()
    name = f"{kind} case {result.cases}"
    if kind == "checkpoint":
        path = case / "model.pt"
        path.write_bytes(mutate(seed_files["checkpoint"], rng))
        from vqa_studio.core.model import registry

        try:
            registry.load_bundle(path)
            code = 0
        except CheckpointError:
            code = 2
        except Exception as exc:  # noqa: BLE001 - what the fuzzer is here to find
            result.bugs.append(f"{name}: {type(exc).__name__}: {str(exc)[:120]}")
            code = 1
    else:
        images = Path(seed_files["_images"].decode())
        if kind == "json":
            files = {"q.json": seed_files["json"], "a.json": seed_files["json_annotations"]}
            target = rng.choice(list(files))
            files[target] = mutate(files[target], rng)
        elif kind == "csv":
            files = {"in.csv": mutate(seed_files["csv"], rng)}
        else:
            files = {f"m{result.cases}{_EXT[kind]}": mutate(seed_files[kind], rng)}
        for fname, data in files.items():
            (case / fname).write_bytes(data)
        with Project.open(project) as p:
            before = db_snapshot(p)
        code = _run_cli(_import_args(kind, project, case, images))
        if code == 2:
            with Project.open(project) as p:
                if db_snapshot(p) != before:
                    result.changed.append(name)
        elif code not in (0, 2):
            result.bugs.append(f"{name}: exit {code}")
    seconds = time.monotonic() - t0
    if seconds > 30:
        result.slow.append(f"{name}: {seconds:.0f} s")
    result.cases += 1
    result.by_kind[kind] = result.by_kind.get(kind, 0) + 1
    result.exit_codes[code] = result.exit_codes.get(code, 0) + 1
    shutil.rmtree(case, ignore_errors=True)


def run(n_cases: int, work: Path, seed: int = 0) -> FuzzResult:
    """``n_cases`` cases spread over every kind of input (a fresh project per kind)."""
    from vqa_studio.core.project import Project

    rng = random.Random(seed)
    seed_files = seeds(work / "seeds")
    result = FuzzResult()
    per_kind = {k: n_cases // len(KINDS) + (1 if i < n_cases % len(KINDS) else 0) for i, k in enumerate(KINDS)}
    for kind, n in per_kind.items():
        project = work / f"project-{kind}"
        if kind != "checkpoint":
            Project.create(project).close()
        for _ in range(n):
            one_case(kind, seed_files, rng, work / "cases", project, result)
    return result


def summary(result: FuzzResult) -> str:
    return (f"{result.cases} fuzz cases ({', '.join(f'{k} {v}' for k, v in result.by_kind.items())}); exit codes "
            f"{dict(sorted(result.exit_codes.items()))}; exit 1 / other errors: {len(result.bugs)}; "
            f"over 30 s: {len(result.slow)}; refused but changed the database: {len(result.changed)}")


if __name__ == "__main__":  # python -m tests.reliability.fuzz N
    import sys
    import tempfile

    r = run(int(sys.argv[1]) if len(sys.argv) > 1 else 200, Path(tempfile.mkdtemp()))
    print(summary(r))
    print(json.dumps(r.bugs[:20], indent=1))
