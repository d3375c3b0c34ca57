"""The core never imports Qt: checked statically (import-linter) and by running core code with Qt
made unimportable, which is what a headless install without PySide6 looks like."""
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_linter_contracts():
    exe = Path(sys.executable).with_name("lint-imports.exe" if sys.platform == "win32" else "lint-imports")
    out = subprocess.run([str(exe), str(ROOT / "pyproject.toml")], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "KEPT" in out.stdout and "BROKEN" not in out.stdout


def test_core_runs_with_qt_uninstalled(tmp_path):
    script = textwrap.dedent(f"""
        import importlib, pkgutil, sys
        class NoQt:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("PySide6", "shiboken6", "pyqtgraph", "PyQt5", "PyQt6"):
                    raise ImportError("Qt is not installed (simulated)")
        sys.meta_path.insert(0, NoQt())
        import vqa_studio.core as core
        for m in pkgutil.walk_packages(core.__path__, "vqa_studio.core."):
            if ".migrations" in m.name:
                continue
            importlib.import_module(m.name)
        from vqa_studio import cli
        assert cli.main(["demo", "--no-gui", "-q", "--scenes", "30", "--scenes-3d", "10", "--labelled", "0.5", "--project", r"{tmp_path / 'demo'}"]) == 0
        assert cli.main(["stats", "--project", r"{tmp_path / 'demo'}"]) == 0
        assert not [m for m in sys.modules if m.startswith(("PySide6", "pyqtgraph"))]
        print("CORE-OK")
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert out.returncode == 0 and "CORE-OK" in out.stdout, out.stdout[-3000:] + out.stderr[-3000:]
