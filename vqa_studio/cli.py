"""The ``vqa-studio`` command. Every command calls the same core functions as the GUI.

Exit codes: 0 ok, 2 bad input (a message on stderr naming the file and the problem), 1 a bug
(with its traceback), 130 cancelled with Ctrl+C (nothing half written).
"""
from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path
from typing import Any, Callable, Generator

from . import __version__
from .core.errors import VQAStudioError
from .core.types import Progress

EXIT_OK, EXIT_BUG, EXIT_BAD_INPUT, EXIT_CANCELLED = 0, 1, 2, 130


# --- progress ----------------------------------------------------------------------------------------

def drive(gen: Generator[Progress, None, Any], quiet: bool = False) -> Any:
    """Run a core progress generator to its end with a progress bar per stage; return its result.

    Ctrl+C closes the generator, which rolls back whatever it was writing.
    """
    from tqdm import tqdm

    bar = None
    stage = None
    try:
        while True:
            try:
                p = next(gen)
            except StopIteration as stop:
                return stop.value
            if quiet:
                continue
            if p.stage != stage or (bar is not None and p.total and bar.total != p.total):
                if bar is not None:
                    bar.close()
                stage = p.stage
                bar = tqdm(total=p.total, desc=p.stage, unit="", file=sys.stderr, dynamic_ncols=True,
                           leave=False, mininterval=0.2)
            bar.n = p.done
            postfix = {k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in p.info.items()
                       if isinstance(v, (int, float, str)) and k in ("loss", "accuracy", "val_accuracy", "items_per_s", "epoch")}
            if postfix:
                bar.set_postfix(postfix, refresh=False)
            if p.message:
                bar.set_description(f"{p.stage}: {p.message}"[:60], refresh=False)
            bar.refresh()
    except KeyboardInterrupt:
        gen.close()
        raise
    finally:
        if bar is not None:
            bar.close()


def _open(args, create: bool = False):
    from .core.project import Project

    return Project.open(args.project, create=create)


def _print(*a) -> None:
    print(*a, flush=True)


# --- commands ------------------------------------------------------------------------------------------

def cmd_import(args) -> int:
    from .core.formats import clevr, csv_format, folder, vqa_v2

    fmt = args.format
    if fmt == "vqa_v2":
        if not args.questions:
            raise _usage("--format vqa_v2 needs --questions Q.json")
        records = vqa_v2.read(args.questions, args.annotations, args.images, args.image_pattern, args.split)
    elif fmt == "clevr":
        if not args.questions:
            raise _usage("--format clevr needs --questions Q.json")
        records = clevr.read(args.questions, args.images, args.split)
    elif fmt == "csv":
        if not args.input:
            raise _usage("--format csv needs --input F.csv")
        records = csv_format.read(args.input, args.images, args.split or "train")
    elif fmt == "folder":
        if not args.images:
            raise _usage("--format folder needs --images DIR")
        records = folder.read(args.images, args.split or "train")
    else:
        plugin = _plugin_format(fmt)
        source = args.input or args.questions
        if not source:
            raise _usage(f"--format {fmt} needs --input FILE")
        records = plugin.read(source, args.images, args.split)
    project = _open(args, create=True)
    try:
        report = drive(project.import_records(records, skip_bad=args.skip_bad, report_path=args.report,
                                              copy_media=args.copy), quiet=args.quiet)
    finally:
        project.close()
    _print(report.summary())
    for err in report.skipped[:10]:
        print(f"  skipped: {err}", file=sys.stderr)
    if len(report.skipped) > 10:
        print(f"  ... and {len(report.skipped) - 10} more (see {report.report_path})", file=sys.stderr)
    return EXIT_OK


def cmd_export(args) -> int:
    from .core.formats import clevr, csv_format, folder, vqa_v2

    project = _open(args)
    try:
        splits = args.split or None
        if args.format == "vqa_v2":
            paths = vqa_v2.write(project.export_rows(splits), args.out, copy_images=not args.no_images)
        elif args.format == "csv":
            paths = [csv_format.write(project.export_rows(splits), args.out)]
        elif args.format == "clevr":
            paths = [clevr.write(project.export_rows(splits), args.out, copy_images=not args.no_images)]
        elif args.format == "folder":
            paths = folder.write(project.export_items(splits), args.out)
        else:
            paths = _plugin_format(args.format).write(project.export_rows(splits), args.out)
    finally:
        project.close()
    _print(f"exported {args.format} to {args.out}: {len(paths)} files")
    for p in paths[:20]:
        _print(f"  {p}")
    return EXIT_OK


BUILTIN_FORMATS = ("vqa_v2", "clevr", "csv", "folder")


def _plugin_format(name: str):
    from .plugins import load_plugins

    registry, infos = load_plugins()
    if name not in registry.formats:
        broken = [f"{i.name} ({i.error})" for i in infos if i.error]
        known = ", ".join([*BUILTIN_FORMATS, *sorted(registry.formats)])
        raise _usage(f"unknown format '{name}' (known: {known})" + (f"; plugins that failed to load: {', '.join(broken)}" if broken else ""))
    return registry.formats[name]


def cmd_plugins(args) -> int:
    from .plugins import load_plugins

    registry, infos = load_plugins()
    if not infos:
        _print("no plugins installed (see plugins/ for an example)")
    for info in infos:
        state = "loaded" if info.loaded else f"FAILED: {info.error}"
        _print(f"{info.name:<16} {info.target:<40} {info.dist or '':<20} {state}")
    for name, f in sorted(registry.formats.items()):
        _print(f"  format {name}: {f.description}")
    return EXIT_OK


def cmd_stats(args) -> int:
    project = _open(args)
    try:
        st = project.stats()
    finally:
        project.close()
    _print(format_stats(st))
    return EXIT_OK


def format_stats(st) -> str:
    def line(title: str, counts: dict[str, int], limit: int = 12) -> str:
        items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        shown = ", ".join(f"{k} {v}" for k, v in items[:limit])
        more = f", ... ({len(items) - limit} more)" if len(items) > limit else ""
        return f"  {title:<15}{shown or '-'}{more}"

    return "\n".join([
        f"project {st.name} (schema {st.schema_version})",
        f"  items          {st.n_items} ({', '.join(f'{k} {v}' for k, v in sorted(st.n_items_by_kind.items())) or 'none'})",
        f"  questions      {st.n_questions}",
        line("by status", st.by_status),
        line("by split", st.by_split),
        line("answer types", st.by_answer_type),
        line("question types", st.by_question_type, 8),
        f"  corrections    {st.n_corrections}" + (f" ({', '.join(f'{k} {v}' for k, v in sorted(st.by_action.items()))})" if st.by_action else ""),
        line("annotators", st.annotators),
        f"  models         {st.n_models} (active: {st.active_model or 'none'}), {st.n_predictions} predictions",
    ])


def cmd_demo(args) -> int:
    from .core.demo import build_demo
    from .core.paths import default_demo_dir

    folder = Path(args.project) if args.project else default_demo_dir()
    result = drive(build_demo(folder, n_scenes=args.scenes, seed=args.seed), quiet=args.quiet)
    _print(result.describe())
    if args.no_gui:
        return EXIT_OK
    return _launch_gui(folder)


def _launch_gui(folder: Path | None) -> int:
    try:
        from .app import run_gui
    except ImportError as exc:  # the GUI layer is optional in a headless install
        print(f"the GUI is not available here ({exc}); use --no-gui", file=sys.stderr)
        return EXIT_BAD_INPUT
    return run_gui(folder)


def cmd_gui(args) -> int:
    return _launch_gui(Path(args.project) if args.project else None)


# --- parser ------------------------------------------------------------------------------------------

class _UsageError(VQAStudioError):
    pass


def _usage(msg: str) -> _UsageError:
    return _UsageError(msg)


COMMANDS: dict[str, Callable] = {}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vqa-studio", description="VQA Studio: review, correct and retrain VQA data.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, func: Callable, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(func=func)
        p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
        return p

    p = add("demo", cmd_demo, "build the built-in demo project (generated locally, no download) and open it")
    p.add_argument("--project", help="where to put the demo project (default: the per-user data folder)")
    p.add_argument("--no-gui", action="store_true", help="build it and print what was done, without opening the GUI")
    p.add_argument("--scenes", type=int, default=1200, help="number of generated 2D scenes (default 1200)")
    p.add_argument("--seed", type=int, default=0, help="seed of the generator (default 0)")

    p = add("gui", cmd_gui, "open the desktop app")
    p.add_argument("--project", help="project folder to open")

    p = add("import", cmd_import, "import questions, answers and media into a project (created if missing)")
    p.add_argument("--project", required=True, help="project folder")
    p.add_argument("--format", required=True, metavar="FORMAT",
                   help="vqa_v2, clevr, csv, folder, or a format added by a plugin (see `vqa-studio plugins`)")
    p.add_argument("--questions", help="questions JSON (vqa_v2, clevr)")
    p.add_argument("--annotations", help="annotations JSON (vqa_v2, optional)")
    p.add_argument("--input", help="the CSV file (csv)")
    p.add_argument("--images", help="images folder (relative CSV paths resolve against it)")
    p.add_argument("--image-pattern", help="vqa_v2: image file name from the image id, e.g. '{image_id:012d}.jpg' "
                                           "(default: COCO_{data_subtype}_{image_id:012d}.jpg, then {image_id}.png|.jpg)")
    p.add_argument("--split", help="split for the imported items (vqa_v2: default from data_subtype; others: train)")
    p.add_argument("--skip-bad", action="store_true", help="import the good records, skip the bad ones and write a report")
    p.add_argument("--report", type=Path, help="where to write the skipped-records report (JSON)")
    p.add_argument("--copy", action="store_true", help="copy media into the project's media/ folder (default: reference them)")

    p = add("export", cmd_export, "export questions and answers")
    p.add_argument("--project", required=True)
    p.add_argument("--format", required=True, metavar="FORMAT", help="vqa_v2, csv, clevr, folder, or a plugin's format")
    p.add_argument("--out", required=True, type=Path, help="output folder (csv: a folder or a .csv path)")
    p.add_argument("--split", action="append", help="only this split (repeatable)")
    p.add_argument("--no-images", action="store_true", help="vqa_v2/clevr: do not copy the images next to the JSON")

    add("plugins", cmd_plugins, "list installed plugins and what they add")

    p = add("stats", cmd_stats, "print counts: items, questions by status/split/type, corrections, models")
    p.add_argument("--project", required=True)

    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_OK
    try:
        return int(args.func(args) or 0)
    except _UsageError as exc:
        parser.exit(EXIT_BAD_INPUT, f"vqa-studio {args.command}: error: {exc}\n")
    except VQAStudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("cancelled; nothing half-written was kept", file=sys.stderr)
        return EXIT_CANCELLED
    except Exception:  # noqa: BLE001 - a bug: say so, with the traceback
        traceback.print_exc()
        print("\nthis is a bug in VQA Studio; please report it with the traceback above", file=sys.stderr)
        return EXIT_BUG
    return EXIT_OK
