"""Nothing in the app runs ``sys.executable`` as a Python interpreter: in a frozen build it is the app
itself (the train dialog's device probe once got an argparse error that way). Child processes are
started with ``multiprocessing``'s ``spawn``, which frozen builds support (``freeze_support``)."""
import ast
from pathlib import Path

import vqa_studio

ROOT = Path(vqa_studio.__file__).parent


def _is_sys_executable(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "executable"
            and isinstance(node.value, ast.Name) and node.value.id == "sys")


def interpreter_uses(tree: ast.AST) -> list[int]:
    """Lines where ``sys.executable`` is given to a call or put in a command line (a list or tuple),
    or ``executable`` is imported from ``sys``."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            args = list(node.args) + [k.value for k in node.keywords]
            lines += [a.lineno for a in args if _is_sys_executable(a)]
        elif isinstance(node, (ast.List, ast.Tuple)):
            lines += [e.lineno for e in node.elts if _is_sys_executable(e)]
        elif isinstance(node, ast.ImportFrom) and node.module == "sys":
            lines += [node.lineno for a in node.names if a.name == "executable"]
    return sorted(set(lines))


def test_the_scan_finds_the_ways_of_running_it():
    for code in ("import sys, subprocess\nsubprocess.run([sys.executable, '-c', 'pass'])",
                 "import sys\nproc.start(sys.executable, ['-c', 'x'])",
                 "import sys\nsubprocess.Popen(args=(sys.executable, '-m', 'x'))",
                 "from sys import executable\n"):
        assert interpreter_uses(ast.parse(code)), code
    assert interpreter_uses(ast.parse("import sys\ninfo = {'executable': sys.executable}")) == []


def test_no_module_runs_sys_executable():
    found = {str(p.relative_to(ROOT)): lines for p in sorted(ROOT.rglob("*.py"))
             if (lines := interpreter_uses(ast.parse(p.read_text(encoding="utf-8"))))}
    assert found == {}
