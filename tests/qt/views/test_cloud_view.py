"""The point-cloud view / cuboid editor: handle geometry, colours, level of detail, editing through the
GUI down to the database, undo.

Tests marked ``gl`` need an OpenGL context: they run for real under
``xvfb-run -a -s "-screen 0 1280x1024x24"`` (QT_QPA_PLATFORM unset) and are skipped where no context
can be made (e.g. the offscreen platform). The others run anywhere.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("pyqtgraph.opengl")

from PySide6.QtCore import QEvent, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QMouseEvent, QUndoStack  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from vqa_studio.core import cuboids  # noqa: E402
from vqa_studio.core.data.clouds import Cloud  # noqa: E402
from vqa_studio.core.geometry import Cuboid  # noqa: E402
from vqa_studio.qt.views import cloud_colors as colors  # noqa: E402
from vqa_studio.qt.views import cuboid_gl as cgl  # noqa: E402
from vqa_studio.qt.views import cuboid_handles as ch  # noqa: E402
from vqa_studio.qt.views.cloud_levels import add_coarse_level, compute_colors, prepare_cloud  # noqa: E402
from vqa_studio.qt.views.cloud_view import CloudView  # noqa: E402

# --- helpers -------------------------------------------------------------------------------------------


def _gl_works() -> bool:
    from PySide6.QtGui import QOffscreenSurface, QOpenGLContext

    if QApplication.platformName() in ("offscreen", "minimal"):
        return False
    ctx = QOpenGLContext()
    if not ctx.create():
        return False
    surf = QOffscreenSurface()
    surf.create()
    try:
        return bool(surf.isValid() and ctx.makeCurrent(surf))
    finally:
        ctx.doneCurrent()


@pytest.fixture
def gl_ok(qapp):
    if not _gl_works():
        pytest.skip("no OpenGL context here (run under xvfb-run with QT_QPA_PLATFORM unset)")
    return True


@pytest.fixture
def scene_item(project, tmp_path):
    """A 3D demo scene in the project, with its ground-truth cuboids: (item id, cloud path, cuboids)."""
    from vqa_studio.core.synth import scenes3d

    pairs = scenes3d.write_dataset(tmp_path / "scenes", 5, seed=0, n_points=40_000, questions_per_scene=3)
    path, scene = pairs[4]
    item_id, _qids, stored = cuboids.add_demo_scene(project, path, scene)
    return item_id, path, stored


def _make_view(qtbot, project, item_id, path, **kwargs) -> CloudView:
    view = CloudView(**kwargs)
    qtbot.addWidget(view)
    view.resize(1200, 760)
    view.show()
    qtbot.waitExposed(view)
    view.set_item(project, item_id, path)
    assert view.wait_until_idle(30)
    assert view.levels is not None
    return view


def _render(view) -> np.ndarray:
    """A GL view's pixels (RGB uint8 [H, W, 3]), rendered now."""
    img = view.grabFramebuffer().convertToFormat(view.grabFramebuffer().Format.Format_RGB888)
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())
    return arr[:, : img.width() * 3].reshape(img.height(), img.width(), 3).copy()


def _count_color(rgb: np.ndarray, color, tol: int = 40) -> int:
    return int((np.abs(rgb.astype(int) - np.array(color)).max(axis=2) <= tol).sum())


def _non_background(rgb: np.ndarray) -> int:
    return int((np.abs(rgb.astype(int) - np.array(cgl.BACKGROUND)).max(axis=2) > 12).sum())


def _mouse(widget, kind, x, y, button=Qt.LeftButton, buttons=None, mods=Qt.NoModifier):
    types = {"press": QEvent.MouseButtonPress, "move": QEvent.MouseMove, "release": QEvent.MouseButtonRelease}
    if buttons is None:
        buttons = Qt.NoButton if kind == "release" else button
    pos = QPointF(x, y)
    ev = QMouseEvent(types[kind], pos, widget.mapToGlobal(pos), Qt.NoButton if kind == "move" else button,
                     buttons, mods)
    QApplication.sendEvent(widget, ev)


def _drag(widget, p0, p1, steps: int = 5):
    _mouse(widget, "press", *p0)
    for k in range(1, steps + 1):
        t = k / steps
        _mouse(widget, "move", p0[0] + (p1[0] - p0[0]) * t, p0[1] + (p1[1] - p0[1]) * t, buttons=Qt.LeftButton)
    _mouse(widget, "release", *p1)


def _stored(project, cid) -> Cuboid:
    return cuboids.get(project, cid).cuboid


def _written(qtbot, view) -> None:
    """Wait until the edits handed to the writer thread are in the database and the view was told."""
    qtbot.waitUntil(lambda: not view.busy, timeout=10_000)


# --- no GL needed --------------------------------------------------------------------------------------------


def test_handles_drag_math():
    c = Cuboid(1.0, 2.0, 0.5, 2.0, 1.0, 1.0, math.radians(30), "car")
    fr = ch.frame_for("top", c, half_width=3.0, width=300, height=200)
    assert np.allclose(fr.to_px(c.center), (150, 100))
    assert np.allclose(fr.to_world(*fr.to_px([2.0, 2.5, 0.5])), [2.0, 2.5, 0.5])
    hs = ch.handles("top", c, fr)
    front_edge = next(h for h in hs if h.kind == "edge" and h.signs == (1, 0))
    # the front edge, dragged 0.5 m further out along the box's own +x: 0.5 m longer, centre 0.25 m out
    ax = ch.axes_of(c)
    new = ch.drag("top", front_edge, c, front_edge.pos, front_edge.pos + ax[0] * 0.5)
    assert new.length == pytest.approx(2.5) and new.width == pytest.approx(1.0)
    assert np.allclose(new.center, c.center + ax[0] * 0.25)
    # a corner changes two sizes; the opposite corner stays
    corner = next(h for h in hs if h.kind == "corner" and h.signs == (1, 1))
    new = ch.drag("top", corner, c, corner.pos, corner.pos + ax[0] * 0.2 + ax[1] * 0.4)
    assert (new.length, new.width) == (pytest.approx(2.2), pytest.approx(1.4))
    assert np.allclose(ch.handles("top", new, fr)[2].pos, ch.handles("top", c, fr)[2].pos)
    # the side view's top edge grows the height upwards, the bottom stays
    side = ch.frame_for("side", c, 3.0, 300, 200)
    top_edge = next(h for h in ch.handles("side", c, side) if h.signs == (0, 1))
    new = ch.drag("side", top_edge, c, top_edge.pos, top_edge.pos + [0, 0, 0.3])
    assert new.height == pytest.approx(1.3) and new.bottom == pytest.approx(c.bottom)
    # rotating: the knob dragged a quarter turn about the centre
    knob = next(h for h in hs if h.kind == "rotate")
    rel = knob.pos - c.center
    turned = c.center + np.array([-rel[1], rel[0], 0.0])
    assert ch.drag("top", knob, c, knob.pos, turned).yaw == pytest.approx(math.radians(120))
    # hits: the knob, an edge, the inside, nothing
    assert ch.hit("top", c, fr, *fr.to_px(knob.pos)).kind == "rotate"
    assert ch.hit("top", c, fr, *fr.to_px(front_edge.pos)).kind == "edge"
    assert ch.hit("top", c, fr, 150, 100).kind == "move"
    assert ch.hit("top", c, fr, 5, 5) is None
    # never thinner than MIN_SIZE
    assert ch.drag("top", front_edge, c, front_edge.pos, front_edge.pos - ax[0] * 10).length == ch.MIN_SIZE
    assert ch.nudge(c, "rotate", 2, math.pi).yaw == pytest.approx(math.radians(30) - math.pi)


def test_prepare_cloud_levels_and_colours(tmp_path):
    rng = np.random.default_rng(0)
    xyz = rng.uniform(0, 10, size=(60_000, 3)).astype(np.float32)
    cloud = Cloud(xyz, rng.random((60_000, 3)).astype(np.float32))
    lv = prepare_cloud(cloud, moving_budget=5_000, still_budget=20_000)
    assert len(lv.coarse_xyz) == 5_000 and len(lv.fine_xyz) == 20_000 and lv.n_points == 60_000
    assert lv.coarse_rgba.shape == (5_000, 4) and np.allclose(lv.fine_rgba[:, 3], 1.0)
    small = prepare_cloud(cloud, moving_budget=100_000, still_budget=200_000)
    assert small.same_level and len(small.fine_xyz) == 60_000
    # the first frame need not wait for the coarse level of a cloud that fits the still budget
    quick = prepare_cloud(cloud, moving_budget=5_000, still_budget=200_000, defer_coarse=True)
    assert quick.same_level and quick.coarse_pending and len(quick.fine_xyz) == 60_000
    xyz, rgb, rgba, sizes = add_coarse_level(quick, 5_000)
    assert len(xyz) == len(rgb) == len(rgba) == 5_000 and sizes == [5_000, 60_000]
    # height: low points dark blue-ish, high points red-ish
    _, fine = compute_colors(lv, "height")
    low, high = fine[np.argmin(lv.fine_xyz[:, 2])], fine[np.argmax(lv.fine_xyz[:, 2])]
    assert high[0] > low[0] and low[2] > high[2]
    # attention: every point takes its nearest centre's value (here: x < 5 -> 0, x > 5 -> 1)
    centres = np.array([[2.5, 5, 5], [7.5, 5, 5]], np.float32)
    _, fine = compute_colors(lv, "attention", (centres, np.array([0.1, 0.9])))
    hot, cold = colors.colormap(np.array([1.0]), colors.ATTENTION_STOPS)[0], colors.colormap(np.array([0.0]), colors.ATTENTION_STOPS)[0]
    right = lv.fine_xyz[:, 0] > 5.2
    left = lv.fine_xyz[:, 0] < 4.8
    assert np.allclose(fine[right, :3], hot) and np.allclose(fine[left, :3], cold)


def test_failed_undo_is_reported_and_dropped(qtbot, project, scene_item):
    """No GL needed: the editor's undo wrapper over the core commands."""
    item_id, path, stored = scene_item
    stack = QUndoStack()
    view = CloudView(undo_stack=stack)
    qtbot.addWidget(view)
    view.set_item(project, item_id, path)
    assert view.wait_until_idle(30)
    view.select(stored[0].id)
    moved = ch.nudge(view.display_cuboid(), "move", 0, 0.5)
    assert view.update_selected(moved, "move")
    _written(qtbot, view)
    assert _stored(project, stored[0].id).cx == pytest.approx(moved.cx)
    cuboids.update(project, stored[0].id, stored[0].cuboid, "someone else")  # changed elsewhere
    messages = []
    view.message.connect(messages.append)
    stack.undo()
    qtbot.waitUntil(lambda: bool(messages), timeout=10_000)
    assert "changed since" in messages[0]
    assert stack.count() == 0  # the stale step is gone
    assert _stored(project, stored[0].id) == stored[0].cuboid  # the other annotator's edit stands
    view.shutdown()


def test_edits_are_written_off_the_gui_thread_and_key_nudges_merge(qtbot, project, scene_item, monkeypatch):
    """The cuboid adapter's policy: the core command runs on the writer thread; two nudges pushed at
    once chain (the second starts where the first will leave the box) and merge into one undo step."""
    import threading

    threads = []
    real_do = cuboids.UpdateCuboid._do

    def recording_do(self, proj):
        threads.append(threading.current_thread())
        return real_do(self, proj)

    monkeypatch.setattr(cuboids.UpdateCuboid, "_do", recording_do)
    item_id, path, stored = scene_item
    stack = QUndoStack()
    view = CloudView(undo_stack=stack)
    qtbot.addWidget(view)
    view.set_item(project, item_id, path)
    assert view.wait_until_idle(30)
    view.select(stored[0].id)
    c0 = view.display_cuboid()
    first = ch.nudge(c0, "move", 0, 0.25)
    assert view.update_selected(first, "move", merge_key="move:x")
    assert view.display_cuboid() == first  # shown at once, before the write
    second = ch.nudge(view.display_cuboid(), "move", 0, 0.25)
    assert view.update_selected(second, "move", merge_key="move:x")
    _written(qtbot, view)
    assert len(threads) == 2 and all(t is not threading.main_thread() for t in threads)
    assert all(t.name.startswith("vqa-cloud-writer") for t in threads)
    assert _stored(project, stored[0].id).cx == pytest.approx(second.cx)
    assert stack.count() == 1  # one undo step for both nudges
    assert [e.action for e in cuboids.history(project, stored[0].id)][-2:] == ["update", "update"]
    stack.undo()
    _written(qtbot, view)
    assert _stored(project, stored[0].id) == stored[0].cuboid and view.display_cuboid() == c0
    view.shutdown()


def test_background_work_runs_on_task_runner_threads_that_end_at_shutdown(qtbot):
    import threading

    view = CloudView()
    qtbot.addWidget(view)
    view.set_cloud(Cloud(np.random.default_rng(3).uniform(0, 5, size=(5_000, 3)).astype(np.float32)))
    assert view.wait_until_idle(30) and view.levels is not None
    ours = [t for t in threading.enumerate() if t.name.startswith("vqa-cloud")]
    assert ours and not any(t.daemon for t in ours)  # the tests' leak check sees them
    view.shutdown()
    for t in ours:
        t.join(5)
    assert not any(t.is_alive() for t in ours)


def test_task_runner_delivers_only_the_latest_job_of_a_kind(qtbot):
    import threading

    from vqa_studio.qt.workers import TaskRunner

    runner = TaskRunner(2, "vqa-test")
    gate = threading.Event()
    got = []
    runner.submit(lambda: gate.wait(5) and "old", on_done=got.append, kind="load")
    runner.submit(lambda: "new", on_done=got.append, kind="load")
    runner.submit(lambda: "other", on_done=got.append, kind="color")
    runner.submit(lambda: "forgotten", on_done=got.append, kind="coarse")
    runner.forget("coarse")
    runner.submit(lambda: "plain", on_done=got.append)
    gate.set()
    qtbot.waitUntil(lambda: runner.pending == 0, timeout=5_000)
    assert sorted(got) == ["new", "other", "plain"]
    errors = []
    runner.submit(lambda: 1 / 0, on_error=errors.append, kind="load")
    qtbot.waitUntil(lambda: runner.pending == 0, timeout=5_000)
    assert len(errors) == 1 and isinstance(errors[0], ZeroDivisionError)
    runner.shutdown()


def test_ray_box_entry():
    from vqa_studio.core.geometry import ray_box_entry

    c = Cuboid(5.0, 0.0, 1.0, 2.0, 1.0, 2.0, math.radians(90))  # turned: 1 m along x, 2 m along y
    assert ray_box_entry(np.array([0.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0]), c) == pytest.approx(4.5)
    assert ray_box_entry(np.array([5.0, -5.0, 1.0]), np.array([0.0, 1.0, 0.0]), c) == pytest.approx(4.0)
    assert ray_box_entry(np.array([5.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0]), c) == 0.0  # starts inside
    assert ray_box_entry(np.array([0.0, 0.0, 1.0]), np.array([-1.0, 0.0, 0.0]), c) is None  # behind
    assert ray_box_entry(np.array([0.0, 0.0, 5.0]), np.array([1.0, 0.0, 0.0]), c) is None  # above


def test_colour_ramps_are_the_piecewise_linear_stops():
    t = np.linspace(-0.2, 1.2, 301)
    for stops in (colors.HEIGHT_STOPS, colors.ATTENTION_STOPS):
        ramp = np.stack([np.interp(np.clip(t, 0, 1), stops[:, 0], stops[:, k]) for k in (1, 2, 3)], axis=1)
        got = colors.colormap(t, stops)
        assert got.dtype == np.float32 and got.shape == (301, 3)
        assert np.abs(got - ramp).max() < 1e-4


def test_attention_that_arrives_while_the_cloud_loads(qtbot):
    rng = np.random.default_rng(2)
    xyz = rng.uniform(0, 10, size=(20_000, 3)).astype(np.float32)
    view = CloudView()
    qtbot.addWidget(view)
    view.set_cloud(Cloud(xyz, np.full((20_000, 3), 0.5, np.float32)))
    view.set_attention(np.array([[2.5, 5, 5], [7.5, 5, 5]]), np.array([[0.0, 1.0], [0.2, 1.0]]))  # [G, K]
    assert view.color_mode == "attention" and view.color_box.currentData() == "attention"
    assert view.wait_until_idle(30)
    rgba = view.levels.fine_rgba
    hot = colors.colormap(np.array([1.0]), colors.ATTENTION_STOPS)[0]
    assert np.allclose(rgba[view.levels.fine_xyz[:, 0] > 5.2, :3], hot)
    view.set_attention(None, None)  # cleared: back to the file's colours
    assert view.wait_until_idle(30)
    assert view.color_mode == "rgb" and np.allclose(view.levels.fine_rgba[:, :3], 0.5)
    view.shutdown()


# --- GL ---------------------------------------------------------------------------------------------------


@pytest.mark.gl
def test_four_views_render_points_and_boxes(qtbot, gl_ok, project, scene_item):
    item_id, path, stored = scene_item
    view = _make_view(qtbot, project, item_id, path)
    assert view.free.has_gl()
    target = next(s for s in stored if s.label == "box") if any(s.label == "box" for s in stored) else stored[0]
    view.select(target.id)
    qtbot.wait(50)
    free = _render(view.free)
    h, w, _ = free.shape
    assert _non_background(free) > 0.15 * h * w  # the ground and the objects fill a good part
    assert _count_color(free, cgl.SELECTED_COLOR, 30) > 50  # the selected cuboid's outline
    other = next(s for s in stored if s.id != target.id)
    assert _count_color(free, colors.label_color(other.label), 30) > 30  # another cuboid's outline
    for name, cv in view.closeups.items():
        img = _render(cv)
        ch_, cw, _ = img.shape
        assert _non_background(img) > 0.05 * ch_ * cw, name  # the points around the box
        assert _count_color(img, cgl.SELECTED_COLOR, 30) > 40, name  # its outline
        assert _count_color(img, cgl.HANDLE_COLOR, 10) > 20, name  # corner handles
    assert _count_color(_render(view.closeups["top"]), cgl.ROTATE_COLOR, 30) > 10  # the rotation knob
    # the whole editor, GL views included
    img = view.grab_image()
    assert img.width() == view.width() and not img.isNull()
    view.shutdown()


@pytest.mark.gl
def test_create_move_resize_rotate_undo_through_the_gui(qtbot, gl_ok, project, scene_item):
    item_id, path, stored = scene_item
    stack = QUndoStack()
    view = _make_view(qtbot, project, item_id, path, undo_stack=stack, annotator="gui")
    view.label_box.setCurrentText("crate")

    # --- create: N, then a click on the ground, away from the objects
    occupied = [s.cuboid for s in stored]
    free_spots = np.array([[x, y, 0.0] for x in np.linspace(-3.5, 3.5, 8) for y in np.linspace(-3.5, 3.5, 8)
                           if all(math.hypot(x - c.cx, y - c.cy) > 1.8 for c in occupied)])
    pxs, depth = view.free.project(free_spots)
    spot, px = free_spots[np.argmin(depth)], pxs[np.argmin(depth)][None]  # the nearest: nothing hides it
    view.free.setFocus()
    qtbot.keyClick(view.free, Qt.Key_N)
    assert view.free.place_mode
    _mouse(view.free, "press", *px[0])
    _mouse(view.free, "release", *px[0])
    assert not view.free.place_mode
    _written(qtbot, view)
    new = [s for s in cuboids.list_cuboids(project, item_id) if s.id not in {t.id for t in stored}]
    assert len(new) == 1
    cid = new[0].id
    c0 = new[0].cuboid
    assert view.selected_id == cid and c0.label == "crate" and new[0].annotator == "gui"
    assert math.hypot(c0.cx - spot[0], c0.cy - spot[1]) < 0.3  # at the picked point
    assert c0.bottom == pytest.approx(0.0, abs=0.05)  # standing on the ground
    qtbot.wait(30)

    # --- move: drag the inside of the box in the top view, 40 px to the right (the box's +x)
    top = view.closeups["top"]
    fr = top.frame()
    p0 = fr.to_px(c0.center)
    _drag(top, p0, p0 + (40, 0))
    _written(qtbot, view)
    c1 = _stored(project, cid)
    ax = ch.axes_of(c0)
    assert np.allclose(c1.center, c0.center + ax[0] * 40 * fr.scale, atol=1e-6)

    # --- resize: drag the side view's front (+x) edge 30 px further out
    side = view.closeups["side"]
    fr = side.frame()
    edge = next(h for h in ch.handles("side", c1, fr) if h.kind == "edge" and h.signs == (1, 0))
    p0 = fr.to_px(edge.pos)
    _drag(side, p0, p0 + (30, 0))
    _written(qtbot, view)
    c2 = _stored(project, cid)
    assert c2.length == pytest.approx(c1.length + 30 * fr.scale, abs=1e-6)
    assert np.allclose(c2.center, c1.center + ch.axes_of(c1)[0] * 15 * fr.scale, atol=1e-6)
    # the front view's top edge: taller, bottom stays on the ground
    front = view.closeups["front"]
    fr = front.frame()
    edge = next(h for h in ch.handles("front", c2, fr) if h.kind == "edge" and h.signs == (0, 1))
    p0 = fr.to_px(edge.pos)
    _drag(front, p0, p0 + (0, -20))
    _written(qtbot, view)
    c3 = _stored(project, cid)
    assert c3.height == pytest.approx(c2.height + 20 * fr.scale, abs=1e-6) and c3.bottom == pytest.approx(c2.bottom)

    # --- rotate: the top view's knob, a quarter turn counter-clockwise about the centre
    fr = top.frame()
    knob = next(h for h in ch.handles("top", c3, fr) if h.kind == "rotate")
    kp, cp = fr.to_px(knob.pos), fr.to_px(c3.center)
    rel = kp - cp
    _drag(top, kp, cp + (rel[1], -rel[0]), steps=8)  # screen y points down: (x, y) -> (y, -x) turns CCW
    _written(qtbot, view)
    c4 = _stored(project, cid)
    assert c4.yaw == pytest.approx(c3.yaw + math.pi / 2, abs=1e-6)

    # --- keyboard: arrows move along the box's own axes, Shift+Up widens, Q turns left
    top.setFocus()
    step = view.step()
    qtbot.keyClick(top, Qt.Key_Right)
    qtbot.keyClick(top, Qt.Key_Right)  # at once: chains on the first nudge before it is written
    _written(qtbot, view)
    c5 = _stored(project, cid)
    assert np.allclose(c5.center, c4.center + ch.axes_of(c4)[0] * 2 * step, atol=1e-6)
    qtbot.keyClick(top, Qt.Key_Up, Qt.ShiftModifier)
    _written(qtbot, view)
    c6 = _stored(project, cid)
    assert c6.width == pytest.approx(c5.width + step)
    rstep = view.rotation_step()
    qtbot.keyClick(top, Qt.Key_Q)
    _written(qtbot, view)
    c7 = _stored(project, cid)
    assert c7.yaw == pytest.approx(c6.yaw + rstep)

    # every edit is one history row; the two arrow presses are one undo step
    actions = [e.action for e in cuboids.history(project, cid)]
    assert actions == ["create", "update", "update", "update", "update", "update", "update", "update", "update"]
    assert stack.count() == 8  # create, move, 2 resizes, rotate, arrows (merged), widen, turn

    # --- undo everything: each step restores the geometry before it, then the cuboid goes away
    for expected in (c6, c5, c4, c3, c2, c1, c0):
        stack.undo()
        _written(qtbot, view)
        assert _stored(project, cid) == expected
        assert view.display_cuboid(cid) == expected  # the view follows
    stack.undo()
    _written(qtbot, view)
    assert cid not in [s.id for s in cuboids.list_cuboids(project, item_id)]
    assert cid not in [s.id for s in view.cuboids]
    stack.redo()
    _written(qtbot, view)
    assert _stored(project, cid) == c0 and view.selected_id == cid
    assert cuboids.history(project, cid)[-1].action == "redo"

    # --- delete with the Delete key, undo brings it back
    view.free.setFocus()
    qtbot.keyClick(view.free, Qt.Key_Delete)
    _written(qtbot, view)
    assert cid not in [s.id for s in cuboids.list_cuboids(project, item_id)]
    stack.undo()
    _written(qtbot, view)
    assert _stored(project, cid) == c0
    view.shutdown()


@pytest.mark.gl
def test_selecting_by_click_and_tab(qtbot, gl_ok, project, scene_item):
    item_id, path, stored = scene_item
    view = _make_view(qtbot, project, item_id, path)
    target = stored[-1]
    px, _ = view.free.project(np.array([target.cuboid.center]))
    _mouse(view.free, "press", *px[0])
    _mouse(view.free, "release", *px[0])
    assert view.selected_id == target.id
    view.free.setFocus()
    qtbot.keyClick(view.free, Qt.Key_Tab)
    assert view.selected_id == stored[0].id  # wraps around
    _mouse(view.free, "press", 3, 3)  # the sky: nothing
    _mouse(view.free, "release", 3, 3)
    assert view.selected_id is None
    view.shutdown()


@pytest.mark.gl
def test_level_of_detail_switches_while_the_camera_moves(qtbot, gl_ok, project, tmp_path):
    rng = np.random.default_rng(1)
    n = 300_000
    xyz = np.column_stack([rng.uniform(-5, 5, n), rng.uniform(-5, 5, n), rng.uniform(0, 0.2, n)]).astype(np.float32)
    view = CloudView(moving_budget=40_000, still_budget=150_000)
    view.free._settle.setInterval(60)
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    qtbot.waitExposed(view)
    with qtbot.waitSignal(view.cloud_loaded, timeout=30_000) as sig:
        view.set_cloud(Cloud(xyz))
    assert sig.args == [n]
    assert view.free.fine.n_points == 150_000 and view.free.coarse.n_points == 40_000
    assert view.free.shown_points == 150_000
    view.free.orbit(10, 0)
    assert view.free.moving and view.free.shown_points == 40_000
    assert view.free.coarse.visible() and not view.free.fine.visible()
    assert _non_background(_render(view.free)) > 1000
    qtbot.waitUntil(lambda: not view.free.moving, timeout=2000)
    assert view.free.fine.visible() and view.free.shown_points == 150_000
    # no project: a viewer, nothing to edit
    assert not view.new_button.isEnabled()
    view.set_color_mode("height")
    assert view.wait_until_idle(10)
    # a cloud within the still budget shows at once; its coarse level follows from a worker
    with qtbot.waitSignal(view.cloud_loaded, timeout=30_000):
        view.set_cloud(Cloud(xyz[:100_000]))
    assert view.free.fine.n_points == 100_000
    assert view.wait_until_idle(10)
    assert view.free.coarse.n_points == 40_000 and view.levels.coarse_rgba.shape == (40_000, 4)
    view.shutdown()


@pytest.mark.gl
def test_embedding_in_a_main_window_keeps_drawing(qtbot, gl_ok, project, scene_item):
    """The main window puts the view in a QStackedWidget: its GL contexts are recreated, and a second
    editor in another window has its own; every view still draws."""
    from PySide6.QtWidgets import QLabel, QMainWindow, QStackedWidget

    item_id, path, stored = scene_item
    view = _make_view(qtbot, project, item_id, path)
    view.select(stored[0].id)
    before = _non_background(_render(view.free))
    win = QMainWindow()
    qtbot.addWidget(win)
    stack = QStackedWidget()
    stack.addWidget(QLabel("image view"))
    win.setCentralWidget(stack)
    win.resize(1200, 760)
    win.show()
    stack.addWidget(view)
    stack.setCurrentWidget(view)
    qtbot.waitExposed(win)
    qtbot.wait(50)
    assert _non_background(_render(view.free)) > 0.5 * before
    assert _count_color(_render(view.closeups["top"]), cgl.SELECTED_COLOR, 30) > 40
    other = _make_view(qtbot, project, item_id, path)
    assert _non_background(_render(other.free)) > 0.5 * before
    assert _non_background(_render(view.free)) > 0.5 * before
    view.shutdown()
    other.shutdown()
    stack.removeWidget(view)  # qtbot closes the view itself
    view.setParent(None)
