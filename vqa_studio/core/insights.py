"""Data behind the GUI's insight views, read from the project (no Qt, no torch).

- ``score_histogram``: the distribution of one uncertainty score for one model version
- ``accuracy_per_version``: the learning curve over the registered versions
- ``accuracy_by_answer_type`` and ``reliability``: from a version's stored metrics
- ``changed_answers``: questions whose top answer differs between two versions
- ``FusedIndex`` / ``similar_items``: the nearest labelled questions in the model's fused embedding
  space (``<project>/cache/fused-<version>.npz``: ``question_ids`` int64 [N], ``fused`` float16 [N, D])
- ``answer_vocabulary``: the answers a person can type with completion (the model's answer classes,
  read from the checkpoint without torch, plus every answer stored in the project)
"""
from __future__ import annotations

import io
import math
import pickle
import threading
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .store import insight_rows
from .store import repository as repo
from .types import ModelInfo, Status


# --- uncertainty histogram ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Histogram:
    version: str | None
    method: str
    edges: np.ndarray  # [bins + 1]
    counts: np.ndarray  # [bins]
    n: int
    mean: float | None = None


def score_values(project, version: str | None = None, method: str | None = None) -> np.ndarray:
    version = version or project.active_model
    method = method or project.acquisition
    if not version:
        return np.zeros(0)
    with project.engine.connect() as conn:
        vals = insight_rows.score_values(conn, version, method)
    return np.asarray(vals, dtype=np.float64)


def score_histogram(project, version: str | None = None, method: str | None = None, bins: int = 30) -> Histogram:
    version = version or project.active_model
    method = method or project.acquisition
    vals = score_values(project, version, method)
    vals = vals[np.isfinite(vals)]
    if len(vals) == 0:
        return Histogram(version, method, np.linspace(0, 1, bins + 1), np.zeros(bins, np.int64), 0)
    lo, hi = float(vals.min()), float(vals.max())
    if hi <= lo:
        hi = lo + 1e-6
    counts, edges = np.histogram(vals, bins=bins, range=(lo, hi))
    return Histogram(version, method, edges, counts, int(len(vals)), float(vals.mean()))


def scored_methods(project, version: str | None = None) -> list[str]:
    version = version or project.active_model
    if not version:
        return []
    with project.engine.connect() as conn:
        return repo.scored_methods(conn, version)


# --- per-version metrics -----------------------------------------------------------------------------

@dataclass(frozen=True)
class VersionAccuracy:
    version: str
    created_at: datetime
    val_accuracy: float | None
    test_accuracy: float | None
    n_labels: int | None
    active: bool


def _num(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def accuracy_per_version(models: Sequence[ModelInfo]) -> list[VersionAccuracy]:
    """The learning curve: accuracy of each registered version, oldest first."""
    out = []
    for m in sorted(models, key=lambda m: (m.created_at, m.version)):
        n = m.snapshot.get("n_labels") if isinstance(m.snapshot, dict) else None
        out.append(VersionAccuracy(m.version, m.created_at, _num(m.metrics.get("val_accuracy")),
                                   _num(m.metrics.get("test_accuracy")), int(n) if n is not None else None, m.active))
    return out


def accuracy_by_answer_type(model: ModelInfo | None) -> tuple[str, dict[str, float]]:
    """(split, {answer type: accuracy}) from the test split when there is one, else validation."""
    if model is None:
        return "", {}
    for split in ("test", "val"):
        d = model.metrics.get(f"{split}_by_answer_type")
        if isinstance(d, dict) and d:
            return split, {k: v for k, v in ((k, _num(v)) for k, v in sorted(d.items())) if v is not None}
    return "", {}


@dataclass(frozen=True)
class Reliability:
    kind: str
    bin_edges: np.ndarray
    accuracy: np.ndarray  # nan where a bin is empty
    confidence: np.ndarray
    count: np.ndarray


def _reliability(kind: str, d: Any) -> Reliability | None:
    if not isinstance(d, dict) or "accuracy" not in d:
        return None

    def arr(key):
        return np.asarray([np.nan if v is None else v for v in d.get(key, [])], dtype=np.float64)

    return Reliability(kind, arr("bin_edges"), arr("accuracy"), arr("confidence"), arr("count"))


def reliability(model: ModelInfo | None) -> dict[str, tuple[Reliability | None, Reliability | None]]:
    """{kind: (before calibration, after calibration)} from a version's metrics."""
    out: dict[str, tuple[Reliability | None, Reliability | None]] = {}
    if model is None:
        return out
    for kind, m in (model.metrics.get("by_kind") or {}).items():
        if isinstance(m, dict):
            before, after = _reliability(kind, m.get("reliability_before")), _reliability(kind, m.get("reliability_after"))
            if before is not None or after is not None:
                out[kind] = (before, after)
    return out


# --- answers changed between versions ----------------------------------------------------------------

@dataclass(frozen=True)
class AnswerChange:
    question_id: int
    text: str
    status: Status
    answer: str | None  # the question's current answer
    old_answer: str | None
    old_confidence: float | None
    new_answer: str | None
    new_confidence: float | None


def previous_version(project, version: str | None = None) -> str | None:
    """The version ``version`` (default: active) was trained from, else the one registered before it."""
    version = version or project.active_model
    models = project.models()
    by_version = {m.version: m for m in models}
    m = by_version.get(version)
    if m is None:
        return None
    if m.parent and m.parent in by_version:
        return m.parent
    older = [x for x in models if (x.created_at, x.version) < (m.created_at, m.version)]
    return max(older, key=lambda x: (x.created_at, x.version)).version if older else None


def changed_answers(project, old: str, new: str, limit: int | None = None) -> list[AnswerChange]:
    """Questions whose top answer under ``new`` differs from ``old`` (most confident new answers first)."""
    with project.engine.connect() as conn:
        rows = insight_rows.top_answers_of_two_versions(conn, old, new)
    out = [AnswerChange(*r) for r in rows if r.old_answer != r.new_answer]
    out.sort(key=lambda c: (-(c.new_confidence or 0.0), c.question_id))
    return out[:limit] if limit is not None else out


# --- similar items: nearest labelled questions in the fused embedding space -----------------------------

def fused_path(project, version: str) -> Path:
    return Path(project.folder) / "cache" / f"fused-{version}.npz"


class FusedIndex:
    """Unit-normalised fused embeddings of one model version, for cosine nearest neighbours."""

    def __init__(self, version: str, question_ids: np.ndarray, fused: np.ndarray):
        if fused.ndim != 2 or len(question_ids) != len(fused):
            raise ValueError(f"fused embeddings of shape {fused.shape} do not match {len(question_ids)} question ids")
        self.version = version
        self.question_ids = np.asarray(question_ids, dtype=np.int64)
        vecs = np.asarray(fused, dtype=np.float32)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        self.vectors = vecs / np.maximum(norms, 1e-12)
        self.row_of = {int(q): r for r, q in enumerate(self.question_ids.tolist())}
        self.candidate = np.zeros(len(self.question_ids), dtype=bool)
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: str | Path, version: str | None = None) -> "FusedIndex":
        path = Path(path)
        with np.load(path, allow_pickle=False) as data:
            qids, fused = data["question_ids"], data["fused"]
        return cls(version or path.stem.removeprefix("fused-"), qids, fused)

    def set_candidates(self, question_ids: Sequence[int], value: bool = True) -> None:
        with self._lock:
            for qid in question_ids:
                r = self.row_of.get(int(qid))
                if r is not None:
                    self.candidate[r] = value

    def neighbours(self, question_id: int, k: int = 8) -> list[tuple[int, float]]:
        """The ``k`` nearest candidate questions to ``question_id``: (question id, cosine similarity)."""
        r = self.row_of.get(int(question_id))
        if r is None:
            return []
        with self._lock:
            mask = self.candidate.copy()
        mask[r] = False
        idx = np.flatnonzero(mask)
        if len(idx) == 0:
            return []
        sims = (self.vectors @ self.vectors[r])[idx]  # one pass over the matrix, no copy of it
        k = min(k, len(idx))
        top = np.argpartition(-sims, k - 1)[:k]
        top = top[np.argsort(-sims[top], kind="stable")]
        return [(int(self.question_ids[idx[t]]), float(sims[t])) for t in top]


def labelled_question_ids(project) -> list[int]:
    with project.engine.connect() as conn:
        return insight_rows.labelled_question_ids(conn)


def load_fused_index(project, version: str | None = None) -> FusedIndex | None:
    """The fused index of ``version`` (default: active) with the labelled questions as candidates;
    None when that version has no saved embeddings."""
    version = version or project.active_model
    if not version:
        return None
    path = fused_path(project, version)
    if not path.exists():
        return None
    index = FusedIndex.load(path, version)
    index.set_candidates(labelled_question_ids(project))
    return index


@dataclass(frozen=True)
class SimilarItem:
    question_id: int
    item_id: int
    text: str
    answer: str | None
    status: Status
    similarity: float
    media_uri: str


def similar_items(project, question_id: int, index: FusedIndex, k: int = 8) -> list[SimilarItem]:
    found = index.neighbours(question_id, k)
    if not found:
        return []
    with project.engine.connect() as conn:
        rows = insight_rows.questions_with_media(conn, [qid for qid, _ in found])
    return [SimilarItem(qid, rows[qid].item_id, rows[qid].text, rows[qid].answer, rows[qid].status, sim,
                        rows[qid].media_uri) for qid, sim in found if qid in rows]


# --- the answer vocabulary ---------------------------------------------------------------------------

class _Stub:
    """Stands in for anything a checkpoint pickles that is not plain data (tensors, storages)."""

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        return _Stub()

    def __setstate__(self, state):
        pass


_SAFE = {("collections", "OrderedDict"), ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "slice"),
         ("builtins", "complex")}


class _PlainUnpickler(pickle.Unpickler):
    """Reads the plain data of a torch checkpoint without torch: no code runs, tensors become stubs."""

    def find_class(self, module, name):
        if (module, name) in _SAFE:
            return super().find_class(module, name)
        return _Stub

    def persistent_load(self, pid):
        return _Stub()


def read_checkpoint_plain(path: str | Path) -> dict[str, Any]:
    """The plain (non-tensor) data of a torch ``.pt`` zip checkpoint, without importing torch."""
    with zipfile.ZipFile(path) as zf:
        name = next((n for n in zf.namelist() if n.endswith("/data.pkl") or n == "data.pkl"), None)
        if name is None:
            raise ValueError(f"{path}: not a torch checkpoint (no data.pkl)")
        data = _PlainUnpickler(io.BytesIO(zf.read(name))).load()
    if not isinstance(data, dict):
        raise ValueError(f"{path}: unexpected checkpoint content")
    return data


def model_answers(project, version: str | None = None) -> list[str]:
    """The answer classes of model ``version`` (default: active), in class-index order; [] if unknown."""
    version = version or project.active_model
    if not version:
        return []
    info = project.model(version)
    if info is None:
        return []
    snap = info.snapshot if isinstance(info.snapshot, dict) else {}
    if isinstance(snap.get("answers"), list):
        return [str(a) for a in snap["answers"]]
    try:
        data = read_checkpoint_plain(project.media_path(info.path))
    except (OSError, ValueError, zipfile.BadZipFile, pickle.UnpicklingError, EOFError):
        return []
    answers = data.get("answers")
    return [str(a) for a in answers] if isinstance(answers, list) else []


def project_answers(project) -> list[str]:
    """Every distinct current answer in the project, most frequent first."""
    with project.engine.connect() as conn:
        return insight_rows.answers_by_frequency(conn)


def answer_vocabulary(project, version: str | None = None) -> list[str]:
    """The model's answer classes followed by the project's other answers, without duplicates."""
    from .data.vocab import normalize_answer

    seen: set[str] = set()
    out: list[str] = []
    for a in [*model_answers(project, version), *project_answers(project)]:
        key = normalize_answer(a)
        if key and key not in seen:
            seen.add(key)
            out.append(a)
    return out
