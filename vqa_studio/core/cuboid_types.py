"""The stored forms of a 3D cuboid and of one row of its edit history, and their JSON (no SQL, no Qt).

``core.cuboids`` re-exports all of these; they live apart so the store (``store/cuboid_rows.py``) can
return them without importing the edit logic.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .geometry import Cuboid

GEOMETRY_KEYS = ("cx", "cy", "cz", "length", "width", "height", "yaw")
_TOL = 1e-9


@dataclass(frozen=True)
class StoredCuboid:
    """A cuboid as stored: its id, item, geometry (with the label) and provenance."""

    id: int
    item_id: int
    cuboid: Cuboid
    source: str  # import | human
    annotator: str | None
    deleted: bool = False
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def label(self) -> str:
        return self.cuboid.label


@dataclass(frozen=True)
class CuboidEdit:
    """One row of a cuboid's history. ``before`` / ``after`` are None where the cuboid did not exist
    (before a create, after a delete or an undone create)."""

    id: int
    cuboid_id: int
    action: str
    before: Cuboid | None
    after: Cuboid | None
    annotator: str
    created_at: datetime


def to_json(c: Cuboid | None) -> dict[str, Any] | None:
    """The JSON stored in ``cuboid_edits.before`` / ``after``."""
    if c is None:
        return None
    out: dict[str, Any] = {k: float(getattr(c, k)) for k in GEOMETRY_KEYS}
    out["label"] = c.label
    return out


def from_json(d: dict[str, Any] | None) -> Cuboid | None:
    if d is None:
        return None
    return Cuboid(*(float(d[k]) for k in GEOMETRY_KEYS), label=str(d.get("label", "")))


def same_geometry(a: Cuboid | None, b: Cuboid | None, tol: float = _TOL) -> bool:
    """True when both are None, or both have the same label and numbers (within ``tol``)."""
    if a is None or b is None:
        return a is b
    if a.label != b.label:
        return False
    return all(math.isclose(getattr(a, k), getattr(b, k), rel_tol=0.0, abs_tol=tol) for k in GEOMETRY_KEYS)
