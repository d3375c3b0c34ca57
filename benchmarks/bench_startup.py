"""Launch to interactive window: the app from source and the installed app (the .deb's /usr/bin/vqa-studio).

    python benchmarks/bench_startup.py [--runs 3] [--installed /usr/bin/vqa-studio] [--source-only]

On a small demo project (built once, from source), each run starts `vqa-studio gui --project P` under
its own virtual X server (Xvfb) and measures, from process start:
  * window: the main window titled "VQA Studio" is mapped (``xdotool search --onlyvisible``);
  * interactive: the window answers a key, Ctrl+T opens the "Train / fine-tune" dialog (a key event
    handled by the app's event loop, not only a mapped frame).
Prints the median (and min-max) of each, per launcher, and the installed/source ratio. Needs Xvfb and
xdotool (apt-get install -y xvfb xdotool); the installed app from scripts/build-installer.sh + dpkg -i
(or --installed "dist/VQA Studio/vqa-studio" for the folder app). Runs take ~10-40 s each on 2 cores.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _xdotool(display: str, *args: str) -> str:
    out = subprocess.run(["xdotool", *args], env=dict(os.environ, DISPLAY=display), capture_output=True, text=True,
                         timeout=10)
    return out.stdout.strip()


def _wait_window(display: str, name: str, proc: subprocess.Popen, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        wid = _xdotool(display, "search", "--onlyvisible", "--name", name).splitlines()
        if wid:
            return wid[0]
        if proc.poll() is not None:
            raise RuntimeError(f"the app ended (exit code {proc.returncode}) before a window named {name!r}")
        time.sleep(0.02)
    raise RuntimeError(f"no window named {name!r} within {timeout:.0f} s")


def launch_once(command: list[str], project: Path, home: Path, timeout: float = 120.0) -> tuple[float, float]:
    """(seconds to the main window mapped, seconds to the train dialog open after Ctrl+T)."""
    display = next(f":{n}" for n in range(60, 90) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not Path(f"/tmp/.X11-unix/X{display[1:]}").exists():
            time.sleep(0.02)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "DISPLAY": display,
               "LANG": "C.UTF-8"}
        t0 = time.perf_counter()
        app = subprocess.Popen([*command, "gui", "--project", str(project)], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        try:
            wid = _wait_window(display, "VQA Studio", app, timeout)
            t_window = time.perf_counter() - t0
            _xdotool(display, "windowfocus", "--sync", wid)
            _xdotool(display, "key", "--clearmodifiers", "ctrl+t")
            deadline = time.monotonic() + timeout
            while not _xdotool(display, "search", "--onlyvisible", "--name", "Train / fine-tune"):
                if time.monotonic() > deadline:
                    raise RuntimeError("Ctrl+T opened no train dialog")
                time.sleep(0.02)
                if time.perf_counter() - t0 - t_window > 1.0:  # focus may land late: ask again
                    _xdotool(display, "windowfocus", "--sync", wid)
                    _xdotool(display, "key", "--clearmodifiers", "ctrl+t")
            return t_window, time.perf_counter() - t0
        finally:
            app.kill()
            app.wait(10)
    finally:
        xvfb.kill()
        xvfb.wait(10)


def _summary(times: list[float]) -> str:
    return f"median {statistics.median(times):6.2f} s (min {min(times):.2f}, max {max(times):.2f}, n={len(times)})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--installed", default="/usr/bin/vqa-studio", help="the installed app's command")
    ap.add_argument("--source-only", action="store_true")
    args = ap.parse_args()
    for tool in ("Xvfb", "xdotool"):
        if shutil.which(tool) is None:
            print(f"bench_startup: needs {tool} (apt-get install -y xvfb xdotool)", file=sys.stderr)
            return 2
    launchers = {"source": [sys.executable, "-m", "vqa_studio"]}
    if not args.source_only:
        if not Path(args.installed).exists():
            print(f"bench_startup: no installed app at {args.installed} (scripts/build-installer.sh, then "
                  "dpkg -i dist/vqa-studio_*.deb; or --source-only)", file=sys.stderr)
            return 2
        launchers["installed"] = [args.installed]
    with tempfile.TemporaryDirectory() as tmp:
        project, home = Path(tmp) / "demo", Path(tmp) / "home"
        home.mkdir()
        subprocess.run([sys.executable, "-m", "vqa_studio", "demo", "--no-gui", "-q", "--project", str(project),
                        "--scenes", "40", "--scenes-3d", "0", "--questions", "10", "--no-train"], cwd=ROOT, check=True,
                       env=dict(os.environ, VQA_STUDIO_HOME=str(home)), stdout=subprocess.DEVNULL)
        results: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in launchers}
        for _ in range(args.runs):  # alternate, so both see the same machine load
            for name, command in launchers.items():
                w, i = launch_once(command, project, home)
                results[name][0].append(w)
                results[name][1].append(i)
    for name, (window, interactive) in results.items():
        print(f"{name:<10} launch to window       {_summary(window)}")
        print(f"{name:<10} launch to interactive  {_summary(interactive)}")
    if "installed" in results:
        ratio = statistics.median(results["installed"][1]) / statistics.median(results["source"][1])
        print(f"installed / source, launch to interactive: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
