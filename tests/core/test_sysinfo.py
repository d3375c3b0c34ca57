"""core.sysinfo: versions without importing Qt, the device choice and its reason, the folders."""
import json
import subprocess
import sys

import torch

from vqa_studio import __version__
from vqa_studio.core import paths, sysinfo


def test_collect_names_versions_device_and_folders(tmp_path, monkeypatch):
    monkeypatch.setenv("VQA_STUDIO_HOME", str(tmp_path / "home"))
    info = sysinfo.collect()
    assert info["app"] == __version__
    assert info["torch"] == torch.__version__.split("+")[0] or info["torch"] == torch.__version__
    import importlib.metadata as md

    assert info["qt"] == md.version("PySide6-Essentials")
    assert info["open3d"][0].isdigit()
    assert info["device"] == ("cuda" if torch.cuda.is_available() else "cpu")
    assert info["device_reason"] and "torch" in info["device_reason"]
    assert info["device_detail"].startswith(("CPU:", "CUDA:"))
    assert info["data_dir"] == str(tmp_path / "home")
    assert info["log_dir"] == str(tmp_path / "home" / "logs")
    assert all(isinstance(v, str) for v in info.values())


def test_collect_without_device_probe_leaves_torch_alone():
    info = sysinfo.collect(probe_device=False)
    assert "device" not in info and info["torch"] != "not installed"


def test_core_reads_the_qt_version_without_importing_qt():
    code = ("import sys; from vqa_studio.core.sysinfo import collect; i = collect(probe_device=False); "
            "assert 'PySide6' not in sys.modules and 'open3d' not in sys.modules, sorted(sys.modules); print(i['qt'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip()[0].isdigit()


def test_package_version_of_a_missing_module():
    assert sysinfo.package_version("no_such_module_vqa") == "not installed"


def test_device_reason_when_torch_is_built_with_cuda_but_sees_no_gpu(monkeypatch):
    monkeypatch.setattr(torch.version, "cuda", "12.4")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    device, why, detail = sysinfo.device_choice()
    assert device == "cpu" and "CUDA 12.4" in why and "sees no CUDA GPU" in why
    assert "no CUDA GPU found" in detail


def test_device_summary_is_one_line():
    line = sysinfo.device_summary()
    assert "\n" not in line and "—" in line


def test_format_info_aligns_labels_in_order():
    text = sysinfo.format_info({"log_dir": "/l", "app": "1.0", "extra": "x"})
    lines = text.splitlines()
    assert lines[0].startswith("VQA Studio") and lines[0].endswith("1.0")
    assert lines[1].startswith("Log folder") and lines[2].startswith("extra")
    assert {line.rindex(" ") for line in lines} == {len("VQA Studio") + 1}  # values start in one column


def test_user_log_dir_per_platform(monkeypatch, tmp_path):
    monkeypatch.delenv("VQA_STUDIO_HOME", raising=False)
    monkeypatch.setattr(paths.Path, "home", classmethod(lambda cls: tmp_path))
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    assert paths.user_log_dir() == tmp_path / ".local" / "state" / "vqa-studio" / "logs"
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "st"))
    assert paths.user_log_dir() == tmp_path / "st" / "vqa-studio" / "logs"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert paths.user_log_dir() == tmp_path / "Library" / "Logs" / "VQA Studio"
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    assert paths.user_log_dir() == tmp_path / "local" / "VQA Studio" / "Logs"
    monkeypatch.setenv("VQA_STUDIO_HOME", str(tmp_path / "h"))
    assert paths.user_log_dir() == tmp_path / "h" / "logs"


def test_info_is_json_serialisable():
    assert json.loads(json.dumps(sysinfo.collect()))["app"] == __version__


def test_check_imports_names_what_fails_and_why():
    out = sysinfo.check_imports({"json": "JSON", "no_such_module_vqa": "a feature",
                                 "tests.core.broken_optional_module": "a broken one"})
    assert out["import json"] == "ok (JSON)"
    assert out["import no_such_module_vqa"] == "not installed (a feature: unavailable)"
    broken = out["import tests.core.broken_optional_module"]
    assert broken.startswith("FAILED: ModuleNotFoundError: No module named 'no_such_dependency_vqa'")
    assert broken.endswith("(a broken one)")


def test_format_info_puts_the_imports_in_their_own_block():
    text = sysinfo.format_info({"app": "1.0", "import open3d": "ok (clouds)"})
    assert text.splitlines() == ["VQA Studio  1.0", "import open3d  ok (clouds)"]
