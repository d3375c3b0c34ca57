"""Point-cloud view speed: file to first frame, orbit frame times, level of detail on a large cloud.

    xvfb-run -a -s "-screen 0 1920x1200x24" python benchmarks/bench_cloud.py [--points 1000000] [--large 5000000]

Needs an OpenGL context (under Xvfb: Mesa llvmpipe, software rendering on the CPU; a GPU is much
faster, so the frame times here are a floor). Targets (issue 5):

* load and show a 1,000,000-point cloud (binary PLY with colours) in at most 1.5 s, from the call
  to the first rendered frame (``grabFramebuffer`` forces the frame);
* the free view's frame time while orbiting (the camera moves: the coarse level is drawn);
* a 5,000,000-point cloud stays interactive: orbit frame times with the level of detail against the
  same view drawing the whole cloud (the baseline, same process, same window size), as a ratio.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def make_cloud(n: int, seed: int = 0):
    """A 3D demo scene sampled with ``n`` points (objects + ground, with colours)."""
    from vqa_studio.core.synth import scenes3d

    scene = scenes3d.generate_scenes(5, seed=seed)[4]
    return scenes3d.sample_cloud(scene, n, seed)


def orbit_frames(app, view, frames: int, step: float = 3.0) -> tuple[list[float], int]:
    """Seconds per frame while orbiting (each step moves the camera and renders one frame), and the
    number of points drawn while moving."""
    times = []
    for _ in range(frames):
        t = time.perf_counter()
        view.free.orbit(step, 0.0)
        view.free.grabFramebuffer()
        times.append(time.perf_counter() - t)
    drawn = view.free.shown_points
    app.processEvents()
    return times, drawn


def still_frame(app, view) -> float:
    view.free._settle.stop()
    view.free._stop_moving()
    app.processEvents()
    t = time.perf_counter()
    view.free.grabFramebuffer()
    return time.perf_counter() - t


def load_to_first_frame(app, view, source, timeout: float) -> float:
    """Seconds from ``set_cloud`` to the first frame with the cloud, rendered (``grabFramebuffer``) as
    soon as the cloud is installed, before the event loop paints anything else."""
    done: list[float] = []

    def first_frame(_n: int) -> None:
        view.free.grabFramebuffer()
        done.append(time.perf_counter())

    view.cloud_loaded.connect(first_frame)
    t0 = time.perf_counter()
    view.set_cloud(source)
    deadline = t0 + timeout
    while not done and time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.001)
    view.cloud_loaded.disconnect(first_frame)
    if not done:
        raise SystemExit(f"the cloud did not load within {timeout:.0f} s")
    return done[0] - t0


def ms(x: float) -> str:
    return f"{x * 1000:.1f} ms"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--large", type=int, default=5_000_000, help="the large cloud (0: skip)")
    ap.add_argument("--frames", type=int, default=20)
    ap.add_argument("--size", default="1280x800")
    args = ap.parse_args(argv)

    from PySide6.QtWidgets import QApplication

    from vqa_studio.core.data.clouds import save_cloud
    from vqa_studio.qt.views.cloud_view import CloudView

    app = QApplication.instance() or QApplication(sys.argv[:1])
    w, h = (int(v) for v in args.size.lower().split("x"))

    def new_view(**kw) -> CloudView:
        v = CloudView(**kw)
        v.resize(w, h)
        v.show()
        app.processEvents()
        if not v.free.has_gl():
            raise SystemExit("no OpenGL context: run under xvfb-run (QT_QPA_PLATFORM unset)")
        return v

    with tempfile.TemporaryDirectory(prefix="vqa-bench-cloud-") as tmp:
        tmp = Path(tmp)
        print(f"writing a {args.points:,}-point cloud ...", flush=True)
        path = save_cloud(tmp / "cloud_1m.ply", make_cloud(args.points))
        size_mb = path.stat().st_size / 1e6

        view = new_view()
        from OpenGL import GL

        view.free.makeCurrent()
        renderer = GL.glGetString(GL.GL_RENDERER).decode(errors="replace")
        view.free.doneCurrent()
        print(f"renderer: {renderer}; window {w}x{h}, free view {view.free.width()}x{view.free.height()}")

        # 1. file -> first rendered frame
        first = load_to_first_frame(app, view, path, 60)
        view.wait_until_idle(30)  # the coarse level (for orbiting) follows in a worker thread
        secs = view.levels.seconds
        print(f"\n[1] {args.points:,} points ({size_mb:.0f} MB PLY) file -> first frame: {first:.2f} s "
              f"(target <= 1.5 s: {'OK' if first <= 1.5 else 'MISSED'})")
        print(f"    load {secs['load']:.2f} s, thinning {secs['lod']:.2f} s, colours {secs['colour']:.2f} s "
              f"(in a worker thread), GUI + upload + first draw {first - sum(secs.values()):.2f} s; "
              f"the coarse level for orbiting follows in the worker")
        print(f"    levels: {', '.join(f'{n:,}' for n in view.levels.lod_sizes)}; "
              f"drawn at rest {len(view.levels.fine_xyz):,}, while moving {len(view.levels.coarse_xyz):,}")

        # 2. orbiting the 1M cloud
        rest = still_frame(app, view)
        orbit, drawn = orbit_frames(app, view, args.frames)
        med = statistics.median(orbit)
        print(f"\n[2] free view, {args.points:,} points: frame at rest {ms(rest)} ({len(view.levels.fine_xyz):,} drawn); "
              f"orbiting median {ms(med)} = {1 / med:.0f} fps, p90 {ms(sorted(orbit)[int(0.9 * len(orbit))])} "
              f"({drawn:,} drawn)")
        view.shutdown()
        view.close()
        view.deleteLater()
        app.processEvents()

        if args.large:
            print(f"\nwriting a {args.large:,}-point cloud ...", flush=True)
            big = make_cloud(args.large, seed=1)
            big_path = save_cloud(tmp / "cloud_big.ply", big)
            lod_view = new_view()
            first_big = load_to_first_frame(app, lod_view, big_path, 120)
            lod_view.wait_until_idle(10)
            s = lod_view.levels.seconds
            lod_orbit, n_moving = orbit_frames(app, lod_view, args.frames)
            lod_rest = still_frame(app, lod_view)
            n_rest = len(lod_view.levels.fine_xyz)
            lod_view.shutdown()
            lod_view.close()
            lod_view.deleteLater()
            app.processEvents()

            # baseline: the same view drawing every point, no level of detail
            full_view = new_view(moving_budget=None, still_budget=None)
            full_view.set_cloud(big)
            full_view.wait_until_idle(120)
            full_view.free.grabFramebuffer()
            full_orbit, n_full = orbit_frames(app, full_view, max(3, args.frames // 4))
            full_view.shutdown()
            full_view.close()
            app.processEvents()

            lm, fm = statistics.median(lod_orbit), statistics.median(full_orbit)
            print(f"\n[3] {args.large:,} points: file -> first frame {first_big:.2f} s (load {s['load']:.2f} s, "
                  f"level of detail {s['lod']:.2f} s, in a worker thread)")
            print(f"    orbiting with level of detail ({n_moving:,} drawn while moving): median {ms(lm)} = {1 / lm:.0f} fps; "
                  f"at rest {ms(lod_rest)} ({n_rest:,} drawn)")
            print(f"    orbiting the full cloud ({n_full:,} drawn, baseline): median {ms(fm)} = {1 / fm:.1f} fps")
            print(f"    ratio full / level of detail: {fm / lm:.1f}x faster with the level of detail")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
