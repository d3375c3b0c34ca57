"""``vqa-studio info``: the text table and --json, in-process and as the installed command."""
import json
import re
import subprocess
import sys

from vqa_studio import __version__, cli


def test_info_prints_versions_device_and_folders(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("VQA_STUDIO_HOME", str(tmp_path))
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    for label in ("VQA Studio", "Python", "torch", "Qt (PySide6)", "open3d", "Training device", "why",
                  "Data folder", "Log folder"):
        assert label in out, label
    assert __version__ in out and str(tmp_path / "logs") in out


def test_info_json(capsys):
    assert cli.main(["info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["app"] == __version__ and info["device"] in ("cpu", "cuda")


def test_info_as_a_command():
    out = subprocess.run([sys.executable, "-m", "vqa_studio", "info", "--json"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert set(json.loads(out.stdout)) >= {"app", "python", "torch", "qt", "open3d", "device", "data_dir", "log_dir"}


def test_info_imports_reports_each_optional_module(capsys):
    from vqa_studio.core.sysinfo import OPTIONAL_IMPORTS

    assert cli.main(["info", "--imports"]) == 0
    out = capsys.readouterr().out
    for name in OPTIONAL_IMPORTS:
        assert f"import {name}" in out


def test_info_imports_exits_2_when_one_fails(capsys, monkeypatch):
    from vqa_studio.core import sysinfo

    monkeypatch.setitem(sysinfo.OPTIONAL_IMPORTS, "no_such_module_vqa", "a feature")
    assert cli.main(["info", "--imports"]) == 0                # absent: a build may leave it out
    assert re.search(r"import no_such_module_vqa +not installed", capsys.readouterr().out)
    monkeypatch.setitem(sysinfo.OPTIONAL_IMPORTS, "tests.core.broken_optional_module", "a broken one")
    assert cli.main(["info", "--imports", "--json"]) == 2       # there but broken: a bug of the build
    info = json.loads(capsys.readouterr().out)
    assert info["import tests.core.broken_optional_module"].startswith("FAILED")
