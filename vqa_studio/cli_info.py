"""``vqa-studio info``: versions, the device training would use and why, the data and log folders."""
from __future__ import annotations

import json

from .cli_common import EXIT_OK, _print


def cmd_info(args) -> int:
    from .core.sysinfo import collect, format_info

    info = collect()
    _print(json.dumps(info, indent=2) if args.json else format_info(info))
    return EXIT_OK


def add_commands(add) -> None:
    p = add("info", cmd_info, "print the app, Python, torch, Qt and open3d versions, the training device "
                              "(and why), and the data and log folders")
    p.add_argument("--json", action="store_true", help="print it as a JSON object")
