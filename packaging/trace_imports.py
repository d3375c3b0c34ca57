"""Which top-level packages the app really imports: the evidence behind build.spec's excludes.

Runs the app's paths from source under ``python -X importtime`` (child processes inherit the flag:
the training job, the GUI's device probe) and prints, per path and in all, the third-party
top-level packages imported. A package the bundle carries that no path imports is a candidate to
exclude; the bundle's own smoke test (scripts/smoke-installed.sh) then checks the result.

    python packaging/trace_imports.py            # ~2 minutes on 2 cores
"""
from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

GUI_SECONDS = 25
STDLIB = set(sys.stdlib_module_names) | {"__future__", "_distutils_hack", "sitecustomize", "imported"}


def paths(tmp: Path) -> dict[str, list[str]]:
    proj = str(tmp / "demo")
    run = ["-m", "vqa_studio"]
    return {
        "info": run + ["info"],
        "demo": run + ["demo", "--no-gui", "-q", "--project", proj, "--scenes", "24", "--scenes-3d", "4",
                       "--questions", "6", "--no-train"],
        "train": run + ["train", "-q", "--project", proj, "--epochs", "1", "--batch-size", "32"],
        "export": run + ["export", "-q", "--project", proj, "--format", "vqa_v2", "--out", str(tmp / "export")],
        "open3d reader": ["-c", "from vqa_studio.core.data.clouds import base; import open3d; open3d.t.io.read_point_cloud"],
        "gui": run + ["gui", "--project", proj],  # the window on the project for GUI_SECONDS, then killed
    }


def top_level(stderr: str) -> set[str]:
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip().split(".")[0]
            if name and not name.startswith("_") and name not in STDLIB:
                names.add(name)
    return names


def main() -> int:
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    seen: set[str] = set()
    with tempfile.TemporaryDirectory() as tmp:
        env["VQA_STUDIO_HOME"] = str(Path(tmp) / "home")
        for name, args in paths(Path(tmp)).items():
            cmd = [sys.executable, "-X", "importtime", *args]
            try:
                out = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True,
                                     timeout=GUI_SECONDS if name == "gui" else 900)
                stderr, code = out.stderr, out.returncode
            except subprocess.TimeoutExpired as exc:  # the GUI: ran until killed
                stderr, code = exc.stderr.decode() if isinstance(exc.stderr, bytes) else exc.stderr or "", "killed"
            names = top_level(stderr)
            seen |= names
            print(f"{name:<14} exit {code}: {' '.join(sorted(names))}", flush=True)
    site = Path(sysconfig.get_paths()["purelib"])
    installed = {p.name.split(".")[0] for p in site.iterdir() if p.is_dir() and not p.name.endswith(("-info", ".libs"))
                 and not p.name.startswith(("_", "."))}
    print(f"\nimported by some path: {' '.join(sorted(seen))}")
    print(f"installed, never imported: {' '.join(sorted(installed - seen))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
