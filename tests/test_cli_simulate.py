"""`vqa-studio simulate --effort` and `vqa-studio demo --outliers/--variant` end to end."""
import re

import pytest

from vqa_studio import cli


def run(*args):
    return cli.main([str(a) for a in args])


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli-sim") / "demo"
    assert run("demo", "--no-gui", "--no-train", "-q", "--project", folder, "--scenes", 30, "--questions", 5,
               "--scenes-3d", 0, "--labelled", 1.0, "--outliers", 0.2) == 0
    return folder


def test_simulate_effort_prints_the_human_actions_last(demo, tmp_path, capsys, one_torch_thread):
    capsys.readouterr()
    out_csv = tmp_path / "effort.csv"
    assert run("simulate", "--effort", "-q", "--project", demo, "--retrain-every", 40, "--epochs", 1, "--min-steps", 3,
               "--mc-samples", 2, "--target", 0.9, "--effort-strategy", "file", "--effort-strategy", "full",
               "--out", out_csv) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert re.fullmatch(r"human actions: [\d,]+ \(\d+\.\d% of reviewing every item\)( - .*)?", lines[-1])
    assert any(line.startswith("  file order: human actions: ") for line in lines)
    assert out_csv.is_file() and out_csv.with_suffix(".png").is_file()


def test_bad_simulate_and_demo_options_exit_2(demo, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        run("simulate", "--effort", "--project", demo, "--target", 1.5)
    assert exit_.value.code == 2
    with pytest.raises(SystemExit) as exit_:
        run("simulate", "--project", demo, "--out", tmp_path / "x.csv")  # neither --strategy nor --effort
    assert exit_.value.code == 2
    assert "--strategy is required" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        run("demo", "--no-gui", "--project", tmp_path / "d", "--outliers", 2)
    assert exit_.value.code == 2
    with pytest.raises(SystemExit) as exit_:
        run("demo", "--no-gui", "--project", tmp_path / "d", "--variant", "cartoon")
    assert exit_.value.code == 2
    with pytest.raises(SystemExit) as exit_:
        run("simulate", "--effort", "--project", demo, "--init-from", tmp_path / "none.pt")
    assert exit_.value.code == 2 and "no such model file" in capsys.readouterr().err


def test_simulate_with_cluster_selection_and_the_full_reference(demo, tmp_path, capsys, one_torch_thread):
    capsys.readouterr()
    out_csv = tmp_path / "curves.csv"
    assert run("simulate", "-q", "--project", demo, "--strategy", "bald", "--selection", "cluster", "--initial", 20,
               "--batch", 15, "--rounds", 1, "--epochs", 1, "--min-steps", 2, "--mc-samples", 2, "--full-reference",
               "--full-epochs", 1, "--full-seeds", 2, "--out", out_csv) == 0
    out = capsys.readouterr().out
    assert re.search(r"full-data accuracy: \d+\.\d\d%", out)
    assert re.search(r"cluster bald\s+20:\d+\.\d, 35:\d+\.\d", out)
    assert out_csv.is_file() and out_csv.with_suffix(".png").is_file()
    with pytest.raises(SystemExit) as exit_:
        run("simulate", "--project", demo, "--strategy", "ensemble", "--selection", "cluster", "--out", out_csv)
    assert exit_.value.code == 2 and "not with --strategy ensemble" in capsys.readouterr().err
