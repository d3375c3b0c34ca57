"""The command line: every command's --help, import/export/stats end to end, exit codes."""
import json
import subprocess
import sys

import pytest

from tests.conftest import make_vqa_v2
from vqa_studio import cli


def run(*args):
    return cli.main([str(a) for a in args])


@pytest.mark.parametrize("command", [None, "demo", "gui", "import", "export", "stats"])
def test_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main([command, "--help"] if command else ["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "usage: vqa-studio" in out


def test_every_subcommand_has_help(capsys):
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, p in sub.choices.items():
        assert p.description, name
        assert p.format_help()


def test_import_export_stats(tmp_path, capsys):
    files = make_vqa_v2(tmp_path / "data")
    proj = tmp_path / "proj"
    assert run("import", "--project", proj, "--format", "vqa_v2", "--questions", files["questions"],
               "--annotations", files["annotations"], "--images", files["images"], "-q") == 0
    assert "imported 18 questions" in capsys.readouterr().out
    assert run("stats", "--project", proj) == 0
    out = capsys.readouterr().out
    assert "questions      18" in out and "val 18" in out
    assert run("export", "--project", proj, "--format", "vqa_v2", "--out", tmp_path / "out") == 0
    data = json.loads((tmp_path / "out" / "v2_OpenEnded_vqa_studio_val_questions.json").read_text())
    assert len(data["questions"]) == 18
    assert run("export", "--project", proj, "--format", "csv", "--out", tmp_path / "out.csv") == 0
    assert len((tmp_path / "out.csv").read_text().splitlines()) == 19


def test_bad_input_exit_code_2_and_message(tmp_path, capsys):
    files = make_vqa_v2(tmp_path / "data")
    files["questions"].write_text('{"questions": [')
    code = run("import", "--project", tmp_path / "p", "--format", "vqa_v2", "--questions", files["questions"],
               "--images", files["images"], "-q")
    err = capsys.readouterr().err
    assert code == 2
    assert files["questions"].name in err and "truncated JSON" in err


def test_missing_argument_is_bad_input(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        run("import", "--project", tmp_path / "p", "--format", "vqa_v2")
    assert exit_.value.code == 2
    assert "--questions" in capsys.readouterr().err


def test_skip_bad(tmp_path, capsys):
    files = make_vqa_v2(tmp_path / "data")
    (files["images"] / "1001.png").write_bytes(b"not an image")
    assert run("import", "--project", tmp_path / "p", "--format", "vqa_v2", "--questions", files["questions"],
               "--annotations", files["annotations"], "--images", files["images"], "--skip-bad",
               "--report", tmp_path / "skipped.json", "-q") == 0
    captured = capsys.readouterr()
    assert "imported 15 questions" in captured.out and "3 bad records skipped" in captured.out
    assert "1001.png" in captured.err
    assert len(json.loads((tmp_path / "skipped.json").read_text())["skipped"]) == 3


def test_stats_on_missing_project(tmp_path, capsys):
    assert run("stats", "--project", tmp_path / "none") == 2
    assert "no such folder" in capsys.readouterr().err


def test_python_dash_m(tmp_path):
    out = subprocess.run([sys.executable, "-m", "vqa_studio", "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "import" in out.stdout


def test_train_setting_out_of_range_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        run("train", "--project", tmp_path / "p", "--skip-easy", "1")
    assert exit_.value.code == 2
    assert "skip_easy must be in [0, 1)" in capsys.readouterr().err


def test_train_nproc_reaches_the_training_arguments(tmp_path, capsys):
    """--nproc is passed on to TrainingArgs (an out-of-range count is its usage error, not ignored)."""
    with pytest.raises(SystemExit) as exit_:
        run("train", "--project", tmp_path / "p", "--nproc", "0")
    assert exit_.value.code == 2
    assert "nproc" in capsys.readouterr().err


def test_train_models_score_evaluate_simulate_end_to_end(tmp_path, capsys, one_torch_thread):
    """The model commands on a tiny demo project: each prints what it did and writes what it says."""
    from vqa_studio.core.demo import build_demo
    from vqa_studio.core.project import Project

    proj = tmp_path / "demo"
    Project.run(build_demo(proj, n_scenes=40, seed=3, questions_per_scene=5))
    assert run("train", "--project", proj, "--epochs", "2", "--batch-size", "32", "--mc-samples", "4",
               "--device", "cpu", "--skip-easy", "0.5", "--freeze-media-at", "0.4", "-q") == 0
    capsys.readouterr()
    assert run("models", "--project", proj) == 0
    listing = capsys.readouterr().out
    assert "v1" in listing and "*" in listing  # the new version is listed, marked active
    assert run("score", "--project", proj, "--method", "bald", "--mc-samples", "4") == 0
    assert "most informative by bald:" in capsys.readouterr().out
    results = tmp_path / "results.json"
    assert run("evaluate", "--project", proj, "--split", "test", "--results", results) == 0
    out = capsys.readouterr().out
    overall = next(line for line in out.splitlines() if line.startswith("overall: "))
    assert 0.0 <= float(overall.split()[1]) <= 100.0
    answers = json.loads(results.read_text())  # VQA v2 results format: [{"question_id", "answer"}]
    assert answers and all(set(a) == {"question_id", "answer"} for a in answers)
    csv_path = tmp_path / "sim.csv"
    assert run("simulate", "--project", proj, "--strategy", "random", "--strategy", "bald", "--initial", "20",
               "--batch", "15", "--rounds", "1", "--epochs", "1", "--min-steps", "4", "--mc-samples", "4", "--full-reference",
               "--full-epochs", "2", "--out", csv_path, "-q") == 0
    out = capsys.readouterr().out
    assert "full-data accuracy:" in out and "random" in out and "bald" in out
    assert len(csv_path.read_text().splitlines()) == 1 + 2 * 2  # header + 2 strategies x 2 points
    assert csv_path.with_suffix(".png").stat().st_size > 1000


# --- formats through the registry ----------------------------------------------------------------------

CUBOID_FORMATS = ("kitti", "datumaro", "labelcloud")


def test_help_lists_every_registered_format(capsys):
    from vqa_studio.core.registry import default_registry

    registry = default_registry()
    for command, specs in (("import", registry.import_formats()), ("export", registry.export_formats())):
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        out = " ".join(capsys.readouterr().out.split())
        assert specs
        for spec in specs:  # an export-only format (labelstudio) is listed by export only
            assert f"{spec.name}:" in out, (command, spec.name)
    assert set(CUBOID_FORMATS) <= set(default_registry().formats)


def _cuboid_project(folder, tmp_path):
    """Two point-cloud items (train, val) with cuboids (one deleted, which is not exported) and an image."""
    import math

    import numpy as np

    from tests.conftest import write_png
    from vqa_studio.core import cuboids
    from vqa_studio.core.data.clouds import Cloud, save_cloud
    from vqa_studio.core.geometry import Cuboid
    from vqa_studio.core.project import Project

    rng = np.random.default_rng(1)
    (tmp_path / "clouds").mkdir()
    boxes = {
        "scan_a": [Cuboid(1.2345678901, -0.75, 0.4321, 2.5, 1.25, 1.5, 0.3333333, "car"),
                   Cuboid(-3.1, 2.2, 0.05, 0.6, 0.5, 1.75, math.pi - 1e-7, "pedestrian")],
        "scan_b": [Cuboid(0.0, 0.0, 1.0, 4.125, 2.0, 2.0, -1.2, "truck")],
    }
    with Project.create(folder) as p:
        for (name, cubs), split in zip(boxes.items(), ("train", "val")):
            xyz = rng.uniform(-4, 4, size=(300, 3)).astype(np.float32)
            path = save_cloud(tmp_path / "clouds" / f"{name}.ply", Cloud(xyz, rng.random((300, 3)).astype(np.float32)))
            item = p.add_item(path, split=split)
            cuboids.import_cuboids(p, item, cubs)
            gone = cuboids.create(p, item, Cuboid(9, 9, 9, 1, 1, 1, 0.0, "deleted"))
            cuboids.delete(p, gone.id)
        p.add_item(write_png(tmp_path / "img.png"), split="train")  # an image: not a cuboid format's business
    return boxes


def _boxes_by_cloud(folder):
    from vqa_studio.core import cuboids
    from vqa_studio.core.project import Project
    from vqa_studio.core.types import ItemKind

    with Project.open(folder) as p:
        rows = list(p.export_items())
        items = p.items([iid for _, iid, _ in rows])
        return {path.stem: (split, [c.cuboid for c in cuboids.list_cuboids(p, iid)])
                for split, iid, path in rows if items[iid].kind is ItemKind.CLOUD}


@pytest.mark.parametrize("fmt", CUBOID_FORMATS)
def test_cuboid_format_round_trip_through_the_cli(fmt, tmp_path, capsys):
    import math

    import numpy as np

    from vqa_studio.core.geometry import wrap_angle

    want = _cuboid_project(tmp_path / "p", tmp_path)
    assert run("export", "--project", tmp_path / "p", "--format", fmt, "--out", tmp_path / "out", "-q") == 0
    assert f"exported {fmt} to" in capsys.readouterr().out
    assert run("import", "--project", tmp_path / "fresh", "--format", fmt, "--input", tmp_path / "out", "-q") == 0
    assert "imported 3 cuboids on 2 point clouds (2 new items)" in capsys.readouterr().out
    got = _boxes_by_cloud(tmp_path / "fresh")
    assert set(got) == set(want)
    for name, boxes in want.items():
        split, back = got[name]
        assert len(back) == len(boxes)
        for g, w in zip(sorted(back, key=lambda c: c.label), sorted(boxes, key=lambda c: c.label)):
            np.testing.assert_allclose(g.as_array()[:6], w.as_array()[:6], rtol=0, atol=1e-6)
            assert abs(wrap_angle(g.yaw - w.yaw)) < 1e-6 and -math.pi < g.yaw <= math.pi
            assert g.label == w.label
        if fmt == "datumaro":  # one subset per split
            assert split == ("train" if name == "scan_a" else "val")
    # importing again replaces the imported cuboids instead of adding them twice
    assert run("import", "--project", tmp_path / "fresh", "--format", fmt, "--input", tmp_path / "out", "-q") == 0
    assert {n: len(b) for n, (_, b) in _boxes_by_cloud(tmp_path / "fresh").items()} == {"scan_a": 2, "scan_b": 1}


def test_cuboid_import_names_a_label_without_its_cloud(tmp_path, capsys):
    (tmp_path / "labels" / "label_2").mkdir(parents=True)
    (tmp_path / "labels" / "label_2" / "000007.txt").write_text(
        "Car 0.00 0 0.0 0 0 0 0 1.5 1.6 3.9 -2.0 1.5 10.0 0.1\n")
    code = run("import", "--project", tmp_path / "p", "--format", "kitti", "--input", tmp_path / "labels", "-q")
    err = capsys.readouterr().err
    assert code == 2 and "000007.txt" in err and "no point cloud named 000007" in err


def test_cuboid_export_split_and_missing_input(tmp_path, capsys):
    _cuboid_project(tmp_path / "p", tmp_path)
    assert run("export", "--project", tmp_path / "p", "--format", "datumaro", "--out", tmp_path / "o",
               "--split", "val", "-q") == 0
    assert sorted(p.name for p in (tmp_path / "o" / "annotations").iterdir()) == ["val.json"]
    with pytest.raises(SystemExit) as exit_:
        run("import", "--project", tmp_path / "q", "--format", "labelcloud")
    assert exit_.value.code == 2 and "--format labelcloud needs --input" in capsys.readouterr().err


def test_score_setting_out_of_range_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        run("score", "--project", tmp_path / "p", "--mc-samples", "0")
    assert exit_.value.code == 2
    assert "mc_samples must be at least 1" in capsys.readouterr().err


def test_a_reader_that_leaves_early_is_not_a_bug(capsys, monkeypatch):
    """`vqa-studio ... | head`: the closed pipe ends the command quietly (exit 0), no traceback."""
    def closed_pipe(args):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(cli, "cmd_plugins", closed_pipe)
    assert cli.main(["plugins"]) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and "bug" not in err
