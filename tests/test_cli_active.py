"""The command line of issue 13 on a trained real project: outliers, label errors, auto-accept with
a guarantee and its audits, the next batch by the acquisition policy; bad input is a message."""
from __future__ import annotations

import csv


from tests.core.active.conftest import trained, trained_folder  # noqa: F401 - fixtures
from vqa_studio import cli
from vqa_studio.core.active.selection import AcquisitionPolicy
from vqa_studio.core.project import Project


def run(*args):
    """The exit code (a usage error exits through argparse)."""
    try:
        return cli.main([str(a) for a in args])
    except SystemExit as exc:
        return exc.code


def test_outliers_and_next_batch(trained, tmp_path, capsys):
    folder = trained.folder
    trained.close()
    assert run("outliers", "--project", folder, "--all", "--limit", "3", "--out", tmp_path / "o.csv") == 0
    out = capsys.readouterr().out
    assert "training questions:" in out and "likely outliers" in out and "outside the vocabulary" in out
    rows = list(csv.reader(open(tmp_path / "o.csv")))
    assert rows[0][:3] == ["question_id", "outlier_score", "source"] and len(rows) > 100
    assert run("next-batch", "--project", folder, "--size", "7", "--selection", "cluster", "--outliers",
               "down-weight", "--balance-types", "--save", "--out", tmp_path / "b.csv") == 0
    out = capsys.readouterr().out
    assert "next batch" in out and "saved" in out
    assert len(list(csv.reader(open(tmp_path / "b.csv")))) == 8
    with Project.open(folder) as p:
        assert AcquisitionPolicy.load(p) == AcquisitionPolicy(outliers="down-weight", selection="cluster", batch=7,
                                                              balance_types=True)
    assert run("next-batch", "--project", folder, "--size", "0") == 2
    assert "batch size" in capsys.readouterr().err


def test_auto_accept_dry_run_apply_and_audits(trained, capsys):
    folder = trained.folder
    trained.close()
    assert run("auto-accept", "--project", folder, "--target", "0.9", "--dry-run") == 0
    out = capsys.readouterr().out
    assert "held-out: 30 labelled validation questions" in out
    assert ("lower bound" in out and "dry run" in out) or "nothing would be auto-accepted" in out
    assert run("auto-accept", "--project", folder, "--target", "0.1", "--audit", "0.5", "--seed", "1") == 0
    out = capsys.readouterr().out
    assert "auto-accepted" in out and "audit queue" in out
    assert run("audits", "--project", folder) == 0
    out = capsys.readouterr().out
    first = int(out.split("audit")[1].split()[0])
    assert run("audits", "--project", folder, "--confirm", first) == 0
    assert "confirmed" in capsys.readouterr().out
    assert run("audits", "--project", folder, "--confirm", first) == 2  # decided already: a message
    assert "decided already" in capsys.readouterr().err
    assert run("auto-accept", "--project", folder, "--target", "1.5") == 2
    assert "between 0 and 1" in capsys.readouterr().err


def test_label_errors(trained, tmp_path, capsys):
    folder = trained.folder
    trained.close()
    assert run("label-errors", "--project", folder, "--folds", "2", "--epochs", "1", "-q", "--out",
               tmp_path / "e.csv") == 0
    out = capsys.readouterr().out
    assert "likely label errors among" in out and "expected number of label errors" in out
    assert (tmp_path / "e.csv").exists()
    assert run("label-errors", "--project", folder, "--folds", "1", "-q") == 2
    assert "at least 2 folds" in capsys.readouterr().err
