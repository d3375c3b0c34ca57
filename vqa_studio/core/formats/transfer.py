"""Import and export through the registry: one code path for every format, built-in or plugin, used
by the CLI and the GUI alike (``core/registry.py`` says what a format's reader and writer take).

::

    report = drive(import_generator(project, "vqa_v2", {"questions": q, "images": d}))
    paths = drive(export_generator(project, "kitti", out_dir))
"""
from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import BadInputError
from ..registry import FIELDS, FormatSpec, default_registry
from ..types import Progress

__all__ = ["export_generator", "find_format", "import_generator", "missing_field"]


def find_format(name: str) -> FormatSpec:
    """The registered format ``name``; ``BadInputError`` naming the known ones if there is none."""
    try:
        return default_registry().format(name)
    except KeyError as exc:
        raise BadInputError(None, str(exc.args[0])) from None


def missing_field(spec: FormatSpec, values: Mapping[str, Any]) -> str | None:
    """The required import field (the first of ``spec.import_fields``) when ``values`` lacks it."""
    first = spec.import_fields[0] if spec.import_fields else None
    return first if first and not values.get(first) else None


def _reader_args(spec: FormatSpec, values: Mapping[str, Any]) -> list[Any]:
    if not spec.can_import:
        raise BadInputError(None, f"the {spec.name} format cannot import")
    missing = missing_field(spec, values)
    if missing:
        flag, what = FIELDS[missing]
        raise BadInputError(None, f"the {spec.name} format needs the {what} ({flag})")
    return [values.get(f) or None for f in spec.import_fields]


def import_generator(project, fmt: str, values: Mapping[str, Any], *, skip_bad: bool = False,
                     report_path: Path | None = None, copy_media: bool = False) -> Generator[Progress, None, Any]:
    """Read ``fmt`` with the import field ``values`` (``FIELDS`` names) into ``project``; returns the
    report (``ImportReport`` or ``CuboidImport``: both have ``summary()``)."""
    spec = find_format(fmt)
    args = _reader_args(spec, values)
    yield Progress("reading", 0, None, "reading the files")
    if spec.carries == "cuboids":
        return (yield from spec.read(project, *args, copy_media=copy_media))
    records = spec.read(*args)
    return (yield from project.import_records(records, skip_bad=skip_bad, report_path=report_path,
                                              copy_media=copy_media))


def export_generator(project, fmt: str, out: str | Path, splits: Sequence[str] | None = None,
                     copy_media: bool = True) -> Generator[Progress, None, list[Path]]:
    """Write the project (``splits``, default all) as ``fmt`` to ``out``; returns the paths written."""
    spec = find_format(fmt)
    if not spec.can_export:
        raise BadInputError(None, f"the {fmt} format cannot export")
    if not out:
        raise BadInputError(None, "choose where to export to")
    splits = list(splits) if splits else None
    yield Progress("export", 0, None, f"writing {fmt} to {out}")
    options = {"copy_images": copy_media} if spec.copies_media else {}
    if spec.carries == "cuboids" or spec.export_source == "project":  # the writer reads the project itself
        paths = spec.write(project, out, splits, **options)
    else:
        data = project.export_items(splits) if spec.export_source == "items" else project.export_rows(splits)
        paths = spec.write(data, out, **options)
    paths = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    yield Progress("export", 1, 1, f"{len(paths)} files written")
    return paths
