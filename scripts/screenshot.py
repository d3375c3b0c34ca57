"""Take the README screenshot of the main window on the demo project.

    xvfb-run -a -s "-screen 0 1920x1200x24" python scripts/screenshot.py [--project DIR] [--out PNG]

Builds the demo project (and a quick first model) when the folder has none, opens the window at
1600x1000, selects the most uncertain item with a proposal, waits for its image, the insights and
the similar items, and saves ``widget.grab()`` to ``resources/screenshots/main_window.png``.
Settings go to a temporary file: the user's own settings are never touched.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def ensure_demo(folder: Path, scenes: int) -> None:
    from vqa_studio.core.demo import build_demo
    from vqa_studio.core.project import Project

    if not (folder / "project.db").exists():
        print(f"building the demo project in {folder} ...", flush=True)
        Project.run(build_demo(folder, n_scenes=scenes, seed=0, labelled_fraction=0.3))
    project = Project.open(folder)
    try:
        if not project.active_model:
            from vqa_studio.core.train.config import TrainingArgs
            from vqa_studio.core.train.pipeline import run_training

            print("training a first model, as the app's demo does ...", flush=True)
            outcome = Project.run(run_training(project, TrainingArgs.for_demo()))
            print(outcome.summary(), flush=True)
    finally:
        project.close()


def wait(app, cond, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.processEvents()
        if cond():
            return True
        time.sleep(0.02)
    return False


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--project", default=str(ROOT / "demo_project"), help="the demo project (built if missing)")
    ap.add_argument("--out", default=str(ROOT / "resources" / "screenshots" / "main_window.png"))
    ap.add_argument("--size", default="1600x1000")
    ap.add_argument("--scenes", type=int, default=1200)
    args = ap.parse_args(argv)

    folder = Path(args.project).resolve()
    ensure_demo(folder, args.scenes)
    os.environ["VQA_STUDIO_SETTINGS"] = str(Path(tempfile.mkdtemp(prefix="vqa-shot-")) / "settings.ini")

    from vqa_studio.app import create_app
    from vqa_studio.qt.main_window import MainWindow

    app = create_app()
    w, h = (int(x) for x in args.size.split("x"))
    win = MainWindow()
    win.resize(w, h)
    win.show()
    win.open_project(folder)
    wait(app, lambda: win.model is not None and not win.model.loading and win.controller.current is not None, 30)
    c = win.controller
    # the most uncertain item that has a proposal (the queue is in review order)
    for r in range(min(50, win.model.rowCount())):
        row = win.model.row(r)
        if row is not None and row.proposed and row.item_kind.value == "image":
            c.go_to_row(r)
            break
    win.activateWindow()
    win.focus_review()
    wait(app, lambda: win.current_image_ready() and win.insights_panel.plots is not None, 30)
    win.refresh_insights()
    wait(app, lambda: win.similar_panel.list.count() > 0 or win.fused_index is None, 10)
    wait(app, lambda: False, 1.5)  # let thumbnails and plots settle
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    ok = win.grab().save(str(out))
    print(f"{'saved' if ok else 'FAILED to save'} {out} ({w}x{h})", flush=True)
    win.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
