"""The ``vqa-studio`` command. Every command calls the same core functions as the GUI.

Exit codes: 0 ok, 2 bad input (a message on stderr naming the file and the problem), 1 a bug
(with its traceback), 130 cancelled with Ctrl+C (nothing half written).
"""
from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path
from typing import Callable

from . import __version__
from .cli_progress import drive
from .core.active.args import DEFAULT_MC_SAMPLES
from .core.errors import VQAStudioError

__all__ = ["EXIT_BAD_INPUT", "EXIT_BUG", "EXIT_CANCELLED", "EXIT_OK", "build_parser", "drive", "main"]

from .cli_common import EXIT_BAD_INPUT, EXIT_BUG, EXIT_CANCELLED, EXIT_OK, _open, _print, _usage, _UsageError
from .cli_models import cmd_encoders, cmd_evaluate, cmd_models, cmd_score, cmd_train
from . import cli_simulate


# --- commands ------------------------------------------------------------------------------------------

def _format(name: str):
    from .core.formats.transfer import find_format

    try:
        return find_format(name)
    except VQAStudioError as exc:
        raise _usage(getattr(exc, "problem", str(exc))) from None


def cmd_import(args) -> int:
    from .core.formats.transfer import import_generator, missing_field
    from .core.registry import FIELDS

    spec = _format(args.format)
    if not spec.can_import:
        raise _usage(f"the {spec.name} format cannot import")
    values = {name: getattr(args, name, None) for name in FIELDS}
    missing = missing_field(spec, values)
    if missing:
        raise _usage(f"--format {spec.name} needs {FIELDS[missing][0]} ({FIELDS[missing][1]})")
    project = _open(args, create=True)
    try:
        report = drive(import_generator(project, spec.name, values, skip_bad=args.skip_bad,
                                        report_path=args.report, copy_media=args.copy), quiet=args.quiet)
    finally:
        project.close()
    _print(report.summary())
    skipped = getattr(report, "skipped", [])
    for err in skipped[:10]:
        print(f"  skipped: {err}", file=sys.stderr)
    if len(skipped) > 10:
        print(f"  ... and {len(skipped) - 10} more (see {report.report_path})", file=sys.stderr)
    return EXIT_OK


def cmd_export(args) -> int:
    from .core.formats.transfer import export_generator

    spec = _format(args.format)
    if not spec.can_export:
        raise _usage(f"the {spec.name} format cannot export")
    project = _open(args)
    try:
        paths = drive(export_generator(project, spec.name, args.out, args.split or None,
                                       copy_media=not args.no_images), quiet=args.quiet)
    finally:
        project.close()
    _print(f"exported {args.format} to {args.out}: {len(paths)} files")
    for p in paths[:20]:
        _print(f"  {p}")
    return EXIT_OK


def cmd_plugins(args) -> int:
    from .core.registry import default_registry
    from .plugins import plugin_version

    registry = default_registry()
    if not registry.plugins:
        _print("no plugins installed (see plugins/ for an example)")
    for info in registry.plugins:
        state = "loaded" if info.loaded else f"FAILED: {info.error}"
        dist = f"{info.dist} {plugin_version(info)}".strip() if info.dist else ""
        _print(f"{info.name:<16} {info.target:<40} {dist:<28} {state}")
    for kind, space in (("format", registry.formats), ("acquisition", registry.acquisitions),
                        ("media encoder", registry.media_encoders), ("question encoder", registry.question_encoders),
                        ("medium", registry.media), ("model kind", registry.model_kinds)):
        for name, entry in space.items():
            missing = hasattr(entry, "is_available") and not entry.is_available()
            if entry.source != "built-in" or missing:
                state = (f": UNAVAILABLE ({entry.error or 'a dependency is missing'}"
                         + (f"; install with: {entry.install})" if entry.install else ")")) if missing else ""
                _print(f"  {kind} {name} (from {entry.source}) {getattr(entry, 'description', '')}".rstrip() + state)
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
    """With the GUI, the window opens on the new, empty project at once and the app draws the scenes
    and trains the first model as a background job (progress, curves, Cancel); ``--no-gui`` does the
    same work here, with progress bars."""
    from .core.demo import DEMO_NAME, build_demo
    from .core.paths import default_demo_dir

    folder = Path(args.project) if args.project else default_demo_dir()
    params = dict(n_scenes=args.scenes, seed=args.seed, labelled_fraction=args.labelled, train=not args.no_train,
                  n_scenes_3d=args.scenes_3d, questions_per_scene=args.questions, questions_per_scene_3d=args.questions,
                  outliers=args.outliers, variant=args.variant)
    from .core.project import Project

    exists = (folder / "project.db").exists()
    if exists and not args.no_gui:
        project = Project.open(folder)
        try:
            empty = project.stats().n_questions == 0  # a build that was cancelled before its import ended
        finally:
            project.close()
        if empty:
            return _launch_gui(folder, start_job=("demo", params))
    if args.no_gui or exists:
        result = drive(build_demo(folder, **params), quiet=args.quiet)
        _print(result.describe())
        return EXIT_OK if args.no_gui else _launch_gui(folder)
    Project.create(folder, name=DEMO_NAME).close()
    _print(f"created the demo project at {folder}; the app draws its scenes and trains its first model")
    return _launch_gui(folder, start_job=("demo", params))


def _launch_gui(folder: Path | None, start_job: tuple[str, dict] | None = None) -> int:
    try:
        from .app import run_gui
    except ImportError as exc:  # the GUI layer is optional in a headless install
        print(f"the GUI is not available here ({exc}); use --no-gui", file=sys.stderr)
        return EXIT_BAD_INPUT
    return run_gui(folder, start_job=start_job)


def cmd_gui(args) -> int:
    if getattr(args, "db", None):  # a team server: its project.json in --project (or a local folder) opens it
        from .cli_team import team_folder_for

        return _launch_gui(team_folder_for(args.db, args.project))
    return _launch_gui(Path(args.project) if args.project else None)


def _add_demo(add) -> None:
    p = add("demo", cmd_demo, "build the built-in demo project (generated locally, no download) and open it")
    p.add_argument("--project", help="where to put the demo project (default: the per-user data folder)")
    p.add_argument("--no-gui", action="store_true", help="build it and print what was done, without opening the GUI")
    p.add_argument("--scenes", type=int, default=1200, help="number of generated 2D scenes (default 1200)")
    p.add_argument("--seed", type=int, default=0, help="seed of the generator (default 0)")
    p.add_argument("--scenes-3d", type=int, default=200, help="number of generated 3D point-cloud scenes (default 200)")
    p.add_argument("--questions", type=int, default=20, help="questions asked about each scene (default 20)")
    p.add_argument("--labelled", type=float, default=0.3,
                   help="fraction of the training scenes whose answers are given (the rest is the review pool)")
    p.add_argument("--no-train", action="store_true", help="do not train the first model")
    __import__("vqa_studio.cli_simulate").cli_simulate.add_demo_options(p)


def _add_gui(add) -> None:
    p = add("gui", cmd_gui, "open the desktop app")
    p.add_argument("--project", help="project folder to open (with --db: the team project's local folder)")
    p.add_argument("--db", metavar="URL", help="open the team project on this database server, e.g. "
                                               "postgresql://user@host/db")


def _format_type(registry, formats):
    """``--format``'s check: a registered format that can do this (the choices are ``formats``)."""
    names = [f.name for f in formats]

    def check(name: str) -> str:
        if name in names:
            return name
        try:
            registry.format(name)
        except KeyError as exc:
            raise argparse.ArgumentTypeError(str(exc.args[0])) from None
        raise argparse.ArgumentTypeError(f"the {name} format cannot do this (choose from {', '.join(names)})")

    check.__name__ = "format"
    return check


def _format_help(formats, export: bool) -> str:
    """One line per registered format, for the --format help (``%`` escaped for argparse)."""
    lines = [f"{f.name}: {f.description or f.title}" + ("" if f.source == "built-in" else f" (plugin {f.source})")
             for f in formats]
    what = "export" if export else "import"
    return (f"format to {what}: " + "; ".join(lines)).replace("%", "%%")


def _add_import(add, registry) -> None:
    formats = registry.import_formats()
    p = add("import", cmd_import, "import questions, answers, media or 3D cuboids into a project (created if missing)")
    p.add_argument("--project", required=True, help="project folder")
    p.add_argument("--format", required=True, metavar="FORMAT", type=_format_type(registry, formats),
                   help=_format_help(formats, export=False) + " (see `vqa-studio plugins`)")
    p.add_argument("--questions", help="questions JSON (vqa_v2, clevr)")
    p.add_argument("--annotations", help="annotations JSON (vqa_v2, optional)")
    p.add_argument("--input", help="the CSV file (csv); the labels folder or file (kitti, datumaro, labelcloud); "
                                   "a plugin format's input")
    p.add_argument("--images", help="images folder (relative CSV paths resolve against it); point-cloud folder "
                                    "(cuboid formats, default: the one next to the labels)")
    p.add_argument("--image-pattern", help="vqa_v2: image file name from the image id, e.g. '{image_id:012d}.jpg' "
                                           "(default: COCO_{data_subtype}_{image_id:012d}.jpg, then {image_id}.png|.jpg)")
    p.add_argument("--split", help="split for the imported items (vqa_v2: default from data_subtype; datumaro: the "
                                   "subset; others: train)")
    p.add_argument("--skip-bad", action="store_true", help="import the good records, skip the bad ones and write a report")
    p.add_argument("--report", type=Path, help="where to write the skipped-records report (JSON)")
    p.add_argument("--copy", action="store_true", help="copy media into the project's media/ folder (default: reference them)")


def _add_export(add, registry) -> None:
    formats = registry.export_formats()
    p = add("export", cmd_export, "export questions and answers, media or 3D cuboids")
    p.add_argument("--project", required=True)
    p.add_argument("--format", required=True, metavar="FORMAT", type=_format_type(registry, formats),
                   help=_format_help(formats, export=True))
    p.add_argument("--out", required=True, type=Path, help="output folder (csv: a folder or a .csv path)")
    p.add_argument("--split", action="append", help="only this split (repeatable)")
    p.add_argument("--no-images", action="store_true",
                   help="vqa_v2/clevr: do not copy the images next to the JSON; cuboid formats: nor the point clouds")


def _add_train(add) -> None:
    p = add("train", cmd_train, "train a new model version on the project's labels (it becomes active)")
    p.add_argument("--project", required=True)
    p.add_argument("--mode", choices=["full", "finetune"], default="full",
                   help="full: all labels, new vocabulary; finetune: the active model on new corrections + replay")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--ensemble", type=int, default=1, help="deep ensemble members (different seeds)")
    p.add_argument("--heads", type=int, default=1, help="classifier heads on a shared backbone (cheap ensemble)")
    p.add_argument("--device", default="auto", help="auto (CUDA if present, else CPU), cpu, cuda, cuda:N")
    p.add_argument("--amp", choices=["auto", "on", "off"], default="auto", help="mixed precision (auto: only where faster)")
    p.add_argument("--accumulate", type=int, default=1, help="micro-batches per optimizer step")
    p.add_argument("--distill", action="store_true", help="distil the ensemble into one fast student")
    p.add_argument("--quantize", action="store_true", help="dynamic int8 quantization of the student for CPU inference")
    p.add_argument("--batch-size", type=int, default=256, help="questions per batch, whole images (default 256)")
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--mc-samples", type=int, default=DEFAULT_MC_SAMPLES,
                   help=f"MC-dropout samples when re-scoring after training (default {DEFAULT_MC_SAMPLES})")
    p.add_argument("--time-limit", type=float, help="stop training after this many seconds (keeps the best epoch)")
    p.add_argument("--skip-easy", type=float, default=0.0, metavar="P",
                   help="from the second epoch, skip with probability P each question the model already answers "
                        "(its loss below 0.1 when last trained on); the easy ones kept weigh 1/(1-P)")
    p.add_argument("--freeze-media-at", type=float, default=None, metavar="F",
                   help="freeze the image / point-cloud encoder from the first epoch that starts past this share "
                        "(0..1) of training, and reuse its features (faster steps)")
    p.add_argument("--nproc", type=int, default=1, metavar="N",
                   help="train in N processes (torch.distributed, torchrun's contract: DDP with NCCL, one GPU each, "
                        "or gloo on the CPU); the batch is shared out; rank 0 registers the model")
    _add_encoder_options(p)


def _add_encoder_options(p) -> None:
    from .core.registry import default_registry

    reg = default_registry()
    p.add_argument("--encoder", default=None, metavar="NAME",
                   help=f"image encoder: {', '.join(reg.media_encoder_names('image'))}, cnn, or hf:<folder or hub id> "
                        "(a pretrained Hugging Face backbone; see `vqa-studio encoders`)")
    p.add_argument("--encoder-weights", default=None, metavar="PATH_OR_ID",
                   help="the pretrained backbone of --encoder hf: a folder or a hub id in your Hugging Face cache")
    p.add_argument("--unfreeze", type=int, default=0, metavar="N",
                   help="fine-tune the last N blocks of a pretrained encoder (default 0: frozen, features cached)")
    p.add_argument("--init-from", type=Path, default=None, metavar="MODEL.pt",
                   help="start from every tensor of another model file that fits (e.g. another project's); "
                        "words and answers matched by text; the run reports what was loaded")
    p.add_argument("--model", default=None, metavar="vilt:<folder or hub id>",
                   help="a whole pretrained VQA model instead of VQA Studio's own: ViLT fine-tuned on the labelled "
                        "image questions (MC-dropout on its answer head; new answers get new classifier rows)")
    p.add_argument("--image-encoder", default="cnn_grid", help=argparse.SUPPRESS)  # the older name of --encoder
    p.add_argument("--question-encoder", default="gru", help=f"one of {', '.join(reg.question_encoders)}")


def _acquisition_help() -> str:
    from .core.registry import default_registry

    return ", ".join(default_registry().acquisitions)


def _add_score(add) -> None:
    p = add("score", cmd_score, "score every question: proposals, uncertainty (MC-dropout x ensemble), attention")
    p.add_argument("--project", required=True)
    p.add_argument("--model", help="a registered version (default: the active one) or a model .pt file")
    p.add_argument("--method", help=f"acquisition function that orders the queue: {_acquisition_help()}")
    p.add_argument("--mc-samples", type=int, default=DEFAULT_MC_SAMPLES,
                   help=f"MC-dropout samples per ensemble member (default {DEFAULT_MC_SAMPLES})")
    p.add_argument("--scope", choices=["head", "full"], default="head",
                   help="head: encoders once, dropout samples of the classifier (fast); full: dropout everywhere")
    p.add_argument("--fast", action="store_true",
                   help="score with the distilled student (int8 when trained with --quantize) instead of the ensemble")


def _add_models(add) -> None:
    p = add("models", cmd_models, "list model versions; --activate VERSION makes one active (rollback)")
    p.add_argument("--project", required=True)
    p.add_argument("--activate", metavar="VERSION")


def _add_evaluate(add) -> None:
    p = add("evaluate", cmd_evaluate, "VQA accuracy of a model on a split (official VQA v2 rules)")
    p.add_argument("--project", required=True)
    p.add_argument("--split", default="test")
    p.add_argument("--model", help="version (default: the active one)")
    p.add_argument("--results", type=Path, help="write the answers in VQA v2 results format")


def _add_stats(add) -> None:
    p = add("stats", cmd_stats, "print counts: items, questions by status/split/type, corrections, models")
    p.add_argument("--project", required=True)


def build_parser() -> argparse.ArgumentParser:
    """The parser; the format choices are the registry's (plugins included once ``load_plugins`` ran)."""
    from .core.registry import default_registry

    registry = default_registry()
    parser = argparse.ArgumentParser(prog="vqa-studio", description="VQA Studio: review, correct and retrain VQA data.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, func: Callable, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(func=func)
        p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
        return p

    _add_demo(add)
    _add_gui(add)
    _add_import(add, registry)
    _add_export(add, registry)
    add("plugins", cmd_plugins, "list installed plugins (and why one failed) and what they add")
    add("encoders", cmd_encoders, "list the media and question encoders, built-in, pretrained and from plugins")
    _add_train(add)
    _add_score(add)
    _add_models(add)
    cli_simulate.add_commands(add)
    _add_evaluate(add)
    _add_stats(add)
    __import__("vqa_studio.cli_info").cli_info.add_commands(add)
    __import__("vqa_studio.cli_team").cli_team.add_commands(add)
    __import__("vqa_studio.cli_active").cli_active.add_commands(add)
    return parser


def _quiet_broken_pipe() -> None:
    """Point stdout at devnull so the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real stdout (frozen GUI build, captured in tests)
        pass


def main(argv: list[str] | None = None) -> int:
    from .plugins import load_plugins

    load_plugins()  # metadata and each plugin's register(): cheap; a broken plugin is listed, not fatal
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
    except BrokenPipeError:  # `vqa-studio models ... | head`: the reader left; not a bug
        _quiet_broken_pipe()
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - a fault of the machine is a message; anything else a bug
        from .core.store.db import machine_fault

        fault = machine_fault(exc)
        if fault is not None:
            print(f"error: {fault}", file=sys.stderr)
            return EXIT_BAD_INPUT
        traceback.print_exc()
        print("\nthis is a bug in VQA Studio; please report it with the traceback above", file=sys.stderr)
        return EXIT_BUG
    return EXIT_OK
