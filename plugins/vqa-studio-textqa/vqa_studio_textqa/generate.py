"""``vqa-studio-babi OUT``: write generated bAbI-style stories as ``*.story`` files, ready for
``vqa-studio import --format babi --input OUT`` (or File > Import > Stories with questions)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .babi import TASKS, generate
from .story import write_story


def write_stories(out: str | Path, n: int, seed: int = 0, tasks=TASKS, val: float = 0.1, test: float = 0.1
                  ) -> list[Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    width = max(5, len(str(n)))
    return [write_story(out / f"story-{k:0{width}d}{'.story'}", s.to_json())
            for k, s in enumerate(generate(n, seed, tuple(tasks), val, test))]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="vqa-studio-babi", description=__doc__)
    p.add_argument("out", type=Path, help="folder to write the *.story files into")
    p.add_argument("--stories", type=int, default=400, help="how many stories (one question each; default 400)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tasks", default=",".join(TASKS), help=f"comma-separated, of: {', '.join(TASKS)}")
    p.add_argument("--val", type=float, default=0.1, help="fraction of stories in the val split")
    p.add_argument("--test", type=float, default=0.1, help="fraction of stories in the test split")
    a = p.parse_args(argv)
    if a.stories < 1:
        p.error("--stories must be at least 1")
    try:
        paths = write_stories(a.out, a.stories, a.seed, tuple(t.strip() for t in a.tasks.split(",") if t.strip()),
                              a.val, a.test)
    except (ValueError, OSError) as exc:
        print(f"vqa-studio-babi: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {len(paths)} stories to {a.out} (import: vqa-studio import --project P --format babi --input {a.out})")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
