"""The built-in demo's 3D part: ground-truth cuboids and counting-question links written in one
transaction (``cuboids.add_demo_scenes``) are the rows the per-scene path (``add_demo_scene``) writes."""
from __future__ import annotations

from vqa_studio.core import cuboids
from vqa_studio.core.demo import build_demo
from vqa_studio.core.project import Project
from vqa_studio.core.synth import scenes3d


def _cuboids_and_links(project: Project) -> dict[str, tuple[list, dict[str, list[int]], list[list[str]]]]:
    """media file name -> (cuboid geometries, {question: indices of the linked cuboids}, history actions)."""
    out = {}
    for qid in project.queue_ids(order_by="id"):
        q = project.question(qid)
        name = project.media_path(project.item(q.item_id)).name
        if name not in out:
            stored = cuboids.list_cuboids(project, q.item_id)
            out[name] = ([st.cuboid for st in stored], {}, [[e.action for e in cuboids.history(project, st.id)]
                                                              for st in stored])
        index_of = {st.id: k for k, st in enumerate(cuboids.list_cuboids(project, q.item_id))}
        out[name][1][q.text] = [index_of[c] for c in cuboids.linked(project, qid)]
    return out


def test_demo_scenes_get_their_cuboids_and_links(tmp_path):
    Project.run(build_demo(tmp_path / "demo", n_scenes=0, n_scenes_3d=4, questions_per_scene_3d=8))
    scenes = scenes3d.write_dataset(tmp_path / "again", 4, seed=0, questions_per_scene=8)
    with Project.open(tmp_path / "demo") as demo:
        got = _cuboids_and_links(demo)
    assert sorted(got) == sorted(p.name for p, _ in scenes)
    n_counting = 0
    for path, scene in scenes:
        geoms, links, actions = got[path.name]
        assert geoms == list(scene.cuboids)
        assert actions == [["create"]] * len(scene.cuboids)
        for qa in scene.questions:
            counted = cuboids.counted_objects(scene, qa.family, qa.question)
            assert links[qa.question] == (counted or [])
            n_counting += counted is not None
    assert n_counting > 0

    # the per-scene path writes the same rows
    with Project.create(tmp_path / "one_by_one") as ref:
        for path, scene in scenes:
            cuboids.add_demo_scene(ref, path, scene)
        want = _cuboids_and_links(ref)
    assert want == got
