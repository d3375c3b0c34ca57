"""The acquisition policy: what the review queue puts first, beyond one acquisition score.

``AcquisitionPolicy`` is a project setting (``acquisition_policy``, JSON; Review ▸ Acquisition
policy… in the app, ``vqa-studio next-batch --save`` on the command line):

- ``outliers``: ``keep`` (the plain score), ``down-weight`` (score x (1 - outlier score), so a
  question no model is likely to learn sinks) or ``exclude`` (likely outliers, outlier score at least
  ``outlier_threshold``, leave the queue); outlier scores are the active model's (``outliers.py``);
- ``selection``: ``top`` (the queue order), ``power`` or ``cluster`` (``diverse.select_batch``: the
  next ``batch`` questions are drawn among the best ``CANDIDATES x batch`` to be diverse, in the
  model's embedding space for ``cluster``), with ``balance_types`` sharing the batch among question
  types.

``order_queue`` applies it to the ids of a queue query: the batch first, then the rest of the
candidates by their (adjusted) score, then everything else in its order.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..errors import VQAStudioError
from ..types import QueueFilter, Status
from .diverse import METHODS, select_batch
from .outliers import DEFAULT_THRESHOLD, outlier_scores

SETTING = "acquisition_policy"
OUTLIER_MODES = ("keep", "down-weight", "exclude")
CANDIDATES = 5
_EMB_CACHE: dict[tuple[str, float], tuple[dict[int, int], np.ndarray]] = {}


@dataclass(frozen=True)
class AcquisitionPolicy:
    outliers: str = "keep"
    outlier_threshold: float = DEFAULT_THRESHOLD
    selection: str = "top"
    batch: int = 50
    balance_types: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        if self.outliers not in OUTLIER_MODES:
            raise ValueError(f"outliers must be one of {', '.join(OUTLIER_MODES)}, not {self.outliers!r}")
        if self.selection not in METHODS:
            raise ValueError(f"selection must be one of {', '.join(METHODS)}, not {self.selection!r}")
        if int(self.batch) < 1:
            raise ValueError(f"the batch size must be at least 1, not {self.batch!r}")
        if not 0.0 <= float(self.outlier_threshold) <= 1.0:
            raise ValueError(f"the outlier threshold must be between 0 and 1, not {self.outlier_threshold!r}")

    @property
    def plain(self) -> bool:
        """The queue order as it is (no outlier handling, top-k)."""
        return self.outliers == "keep" and self.selection == "top" and not self.balance_types

    def describe(self) -> str:
        parts = [{"keep": "outliers kept", "down-weight": "outliers down-weighted",
                  "exclude": f"likely outliers (score >= {self.outlier_threshold:.2f}) excluded"}[self.outliers],
                 f"batches of {self.batch} by {self.selection} selection"]
        if self.balance_types:
            parts.append("balanced across question types")
        return ", ".join(parts)

    @classmethod
    def load(cls, project) -> "AcquisitionPolicy":
        raw = project.setting(SETTING)
        if not raw:
            return cls()
        try:
            data = json.loads(raw)
            known = {f.name for f in dataclasses.fields(cls)}
            return cls(**{k: v for k, v in data.items() if k in known})
        except (ValueError, TypeError):
            return cls()  # a setting written by hand that does not parse: the default policy

    def save(self, project) -> None:
        project.set_setting(SETTING, json.dumps(dataclasses.asdict(self)))


def adjusted_scores(scores, outlier, policy: AcquisitionPolicy) -> np.ndarray:
    """The acquisition scores after the outlier handling (-inf: excluded)."""
    s = np.asarray(scores, dtype=np.float64)
    o = np.nan_to_num(np.asarray(outlier, dtype=np.float64), nan=0.0)
    if policy.outliers == "down-weight":
        lo = min(0.0, float(s.min())) if s.size else 0.0
        return (s - lo) * (1.0 - o) + lo
    if policy.outliers == "exclude":
        return np.where(o >= policy.outlier_threshold, -np.inf, s)
    return s


def _embeddings(project, version: str | None, qids: Sequence[int]) -> np.ndarray | None:
    from .scoring import embeddings_path

    if not version:
        return None
    path = embeddings_path(project, version)
    if not path.exists():
        return None
    key = (str(path), path.stat().st_mtime)
    got = _EMB_CACHE.get(key)
    if got is None:
        with np.load(path) as z:
            ids, fused = np.asarray(z["question_ids"]), np.asarray(z["fused"], np.float32)
        _EMB_CACHE.clear()
        got = _EMB_CACHE[key] = ({int(q): r for r, q in enumerate(ids.tolist())}, fused)
    row_of, fused = got
    if any(int(q) not in row_of for q in qids):
        return None
    return fused[[row_of[int(q)] for q in qids]]


def order_queue(project, ids: Sequence[int], policy: AcquisitionPolicy, order_by: str | None = None, *,
                version: str | None = None) -> list[int]:
    """``ids`` (a queue query's, best first) as the policy orders them (see the module doc)."""
    ids = [int(q) for q in ids]
    if policy.plain or not ids:
        return ids
    version = version or project.active_model
    outlier = outlier_scores(project, version)
    if policy.outliers == "exclude":
        ids = [q for q in ids if outlier.get(q, 0.0) < policy.outlier_threshold]
    head = ids[: CANDIDATES * policy.batch]
    rows = {r.question_id: r for r in project.queue_rows(head, order_by, version)}
    raw = np.asarray([rows[q].score if q in rows and rows[q].score is not None else 0.0 for q in head])
    # the queue's order is its ranking: where scores are missing, rank stands in for them
    if not np.isfinite(raw).all() or not raw.any():
        raw = np.linspace(1.0, 0.0, len(head), endpoint=False)
    adj = adjusted_scores(raw, [outlier.get(q, 0.0) for q in head], policy)
    emb = _embeddings(project, version, head) if policy.selection == "cluster" else None
    method = policy.selection if (policy.selection != "cluster" or emb is not None) else "power"
    types = [rows[q].question_type if q in rows else "" for q in head]
    pick = select_batch(adj, emb, policy.batch, method=method, question_types=types, balance=policy.balance_types,
                        rng=np.random.default_rng([policy.seed, len(ids)]))
    first = [head[i] for i in pick.tolist()]
    chosen = set(first)
    rest = [head[i] for i in np.argsort(-adj, kind="stable").tolist() if head[i] not in chosen]
    return first + rest + ids[len(head):]


def next_batch(project, policy: AcquisitionPolicy | None = None, order_by: str | None = None) -> list[int]:
    """The next ``policy.batch`` questions nobody has reviewed, as the policy picks them."""
    policy = policy or AcquisitionPolicy.load(project)
    if project.active_model is None:
        raise VQAStudioError("this project has no model yet: train one first (vqa-studio train)")
    ids = project.queue_ids(order_by, QueueFilter(statuses=[Status.NEW, Status.PROPOSED]))
    return order_queue(project, ids, policy, order_by)[: policy.batch]


OUTLIER_FILTERS = ("all", "hide", "only")


def arrange_queue(project, ids: Sequence[int], outliers: str = "all", order_by: str | None = None, *,
                  head: bool = False, policy: AcquisitionPolicy | None = None) -> list[int]:
    """A queue query's ids as the app shows them: the ``outliers`` filter (``hide`` / ``only`` the
    likely outliers, by the policy's threshold), the policy's exclusion, and with ``head`` (the first
    page of a most-informative-first order) the policy's batch order (``order_queue``)."""
    if outliers not in OUTLIER_FILTERS:
        raise ValueError(f"outliers must be one of {', '.join(OUTLIER_FILTERS)}, not {outliers!r}")
    policy = policy or AcquisitionPolicy.load(project)
    ids = [int(q) for q in ids]
    if outliers != "all" or (policy.outliers == "exclude" and not head):
        scores = outlier_scores(project)
        th = policy.outlier_threshold
        if outliers == "only":
            ids = [q for q in ids if scores.get(q, 0.0) >= th]
        elif outliers == "hide" or policy.outliers == "exclude":
            ids = [q for q in ids if scores.get(q, 0.0) < th]
    if head and order_by != "id":
        ids = order_queue(project, ids, policy, order_by)
    return ids
