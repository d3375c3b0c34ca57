"""Take the screenshot of the cuboid editor (``qt/views/cloud_view.py``) on a 3D demo scene.

    xvfb-run -a -s "-screen 0 1920x1200x24" python scripts/screenshot_3d.py [--project DIR] [--out PNG]

Writes one 3D demo scene (``scenes3d.write_dataset``) into a temporary project (or into the given
one), imports its ground-truth cuboids, opens the editor at 1400x860, selects a cuboid and saves
``widget.grab()`` to ``resources/screenshots/cloud_editor.png``. Needs an OpenGL context: run it
under xvfb-run (or a desktop session) with QT_QPA_PLATFORM unset.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--project", default=None, help="a project folder (created if missing); default: a temporary one")
    ap.add_argument("--out", default=str(ROOT / "resources" / "screenshots" / "cloud_editor.png"))
    ap.add_argument("--size", default="1400x860")
    ap.add_argument("--scene", type=int, default=4, help="which demo scene (seeded)")
    ap.add_argument("--points", type=int, default=250_000)
    ap.add_argument("--select", default="box", help="select the first cuboid with this label")
    args = ap.parse_args(argv)

    from PySide6.QtWidgets import QApplication

    from vqa_studio.core import cuboids
    from vqa_studio.core.project import Project
    from vqa_studio.core.synth import scenes3d
    from vqa_studio.qt.style import apply_theme
    from vqa_studio.qt.views.cloud_view import CloudView

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app)
    with tempfile.TemporaryDirectory(prefix="vqa3d-") as tmp:
        folder = Path(args.project) if args.project else Path(tmp) / "project"
        project = Project.open(folder, create=True)
        try:
            pairs = scenes3d.write_dataset(project.media_dir / "scenes3d", args.scene + 1, seed=0,
                                           n_points=args.points, questions_per_scene=5)
            path, scene = pairs[args.scene]
            item_id, _qids, stored = cuboids.add_demo_scene(project, path, scene)
            w, h = (int(v) for v in args.size.lower().split("x"))
            view = CloudView()
            view.resize(w, h)
            view.show()
            view.set_item(project, item_id, path)
            if not view.wait_until_idle(60):
                print("the cloud did not load in time", file=sys.stderr)
                return 1
            target = next((s for s in stored if s.label == args.select), stored[0])
            view.select(target.id)
            view.free.setCameraPosition(elevation=40, azimuth=-62)
            deadline = time.monotonic() + 0.6  # let the level of detail settle and every view paint
            while time.monotonic() < deadline:
                app.processEvents()
                time.sleep(0.02)
            out = Path(args.out)
            out.parent.mkdir(parents=True, exist_ok=True)
            img = view.grab_image()
            if not img.save(str(out)):
                print(f"cannot write {out}", file=sys.stderr)
                return 1
            print(f"wrote {out} ({img.width()}x{img.height()}), {len(stored)} cuboids, selected #{target.id} "
                  f"{target.label}, {view.levels.n_points:,} points")
            view.shutdown()
            view.close()
        finally:
            project.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
