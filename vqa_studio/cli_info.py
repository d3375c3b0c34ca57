"""``vqa-studio info``: versions, the device training would use and why, the data and log folders."""
from __future__ import annotations

import json

from .cli_common import EXIT_BAD_INPUT, EXIT_OK, _print


def cmd_info(args) -> int:
    from .core.sysinfo import collect, format_info

    info = collect(imports=args.imports)
    _print(json.dumps(info, indent=2) if args.json else format_info(info))
    failed = [k for k, v in info.items() if k.startswith("import ") and v.startswith("FAILED")]
    return EXIT_BAD_INPUT if failed else EXIT_OK


def add_commands(add) -> None:
    p = add("info", cmd_info, "print the app, Python, torch, Qt and open3d versions, the training device "
                              "(and why), and the data and log folders")
    p.add_argument("--json", action="store_true", help="print it as a JSON object")
    p.add_argument("--imports", action="store_true",
                   help="also import each optional module (open3d, laspy, OpenGL, psycopg2, transformers...) and say "
                        "which fail, and why (exit code 2 when one does): what a packaged build can use")
