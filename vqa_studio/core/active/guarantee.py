"""Auto-accept with a guarantee: the confidence threshold whose accepted answers keep a precision of
at least ``target`` on held-out labelled data, by a one-sided Clopper-Pearson bound, not by the point
estimate.

For a threshold t, the held-out questions with confidence >= t are its *accepted set*: n of them,
k answered right. The exact one-sided lower confidence bound on the precision at level 1 - delta is
the delta quantile of Beta(k, n - k + 1) (Clopper & Pearson, 1934). ``precision_threshold`` takes the
lowest threshold whose bound reaches the target, among candidates chosen from the confidences alone
(never from which answers are right), in one of three ways (``mode``):

- ``"bonferroni"`` (the default): ``grid`` (20) candidates, the thresholds that accept 1/20, 2/20, ...
  of the held-out questions, each tested at level ``delta / grid``, so the chance that *any* of them
  claims a precision it does not have is at most ``delta`` (the union bound): the threshold picked
  keeps its guarantee although it was picked among many. On the demo (``benchmarks/
  bench_autoaccept.py``) the plain lowest-of-all-thresholds rule missed a 99% target on fresh data in
  2 of 10 runs (a winner's curse: the threshold where the calibration half happened to look best).
- ``"lowest"``: every distinct confidence is a candidate, each tested at level ``delta`` (the
  literal rule; optimistic, as said).
- ``"fixed_sequence"``: Learn-then-Test's fixed-sequence testing (Angelopoulos et al. 2021): from the
  strictest threshold whose set is large enough to reach the target at all, down while the bound
  stays at or above the target, stopping at the first that falls short; exact, but one early
  mistake among the most confident answers ends the scan (with a 99% target it needs ~300 right
  answers in a row), so it often accepts little.

Whatever the mode, the audits of auto-accepted answers (``audit.py``) check the result on fresh data.

The point-estimate threshold (the lowest one whose *observed* precision reaches the target) is
returned for comparison; the bound-based threshold is never less strict than it: a bound is never
above its observed precision, and the result is clamped to it besides.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: default target precision of auto-accepted answers and the bound's error level
DEFAULT_TARGET = 0.99
DEFAULT_DELTA = 0.05
#: default share of auto-accepted answers sent to the audit queue
DEFAULT_AUDIT_SHARE = 0.02
MODES = ("bonferroni", "lowest", "fixed_sequence")
DEFAULT_MODE = "bonferroni"
DEFAULT_GRID = 20


def clopper_pearson_lower(k, n, delta: float = DEFAULT_DELTA):
    """One-sided (1 - delta) lower confidence bound on a success rate from k successes in n trials:
    the delta quantile of Beta(k, n - k + 1); 0 where k == 0 (and where n == 0). Arrays broadcast."""
    try:
        from scipy.stats import beta
    except ImportError as exc:  # a declared dependency; a broken install says what is missing
        from ..errors import VQAStudioError

        raise VQAStudioError("the Clopper-Pearson bound of auto-accept needs scipy: pip install scipy") from exc

    if not 0.0 < float(delta) < 1.0:
        raise ValueError(f"delta must be between 0 and 1, not {delta!r}")
    k_arr = np.asarray(k, dtype=np.float64)
    n_arr = np.asarray(n, dtype=np.float64)
    if np.any(k_arr < 0) or np.any(k_arr > n_arr):
        raise ValueError("k must be between 0 and n")
    safe_k = np.where(k_arr > 0, k_arr, 1.0)
    out = np.where(k_arr > 0, beta.ppf(delta, safe_k, n_arr - k_arr + 1.0), 0.0)
    return float(out) if out.ndim == 0 else out


@dataclass(frozen=True)
class Threshold:
    """The chosen threshold (``math.inf``: no threshold reaches the target, accept nothing)."""

    threshold: float
    lower_bound: float  # the bound on the precision of the held-out questions at that threshold (nan: none)
    precision: float  # their observed precision (nan: none)
    coverage: float  # share of the held-out questions at or above the threshold
    n_accepted: int  # how many held-out questions that is
    point_threshold: float  # the lowest threshold whose observed precision reaches the target (inf: none)
    target: float = DEFAULT_TARGET
    delta: float = DEFAULT_DELTA
    n_heldout: int = 0
    n_tested: int = 1  # thresholds tested at once (Bonferroni): the bound is at level delta / n_tested

    @property
    def found(self) -> bool:
        return math.isfinite(self.threshold)

    def describe(self) -> str:
        if not self.found:
            return (f"no confidence threshold keeps the precision at {self.target * 100:g}% with "
                    f"{(1 - self.delta) * 100:g}% confidence on {self.n_heldout:,} held-out questions: nothing "
                    "would be auto-accepted (label more, or lower the target)")
        point = f"{self.point_threshold:.4f}" if math.isfinite(self.point_threshold) else "none"
        return (f"confidence >= {self.threshold:.4f}: {self.n_accepted:,} of {self.n_heldout:,} held-out questions "
                f"({self.coverage * 100:.1f}% coverage), precision {self.precision * 100:.2f}%, "
                f"{(1 - self.delta) * 100:g}% lower bound{self._jointly()} {self.lower_bound * 100:.2f}% >= target "
                f"{self.target * 100:g}% (the point estimate alone would take >= {point})")


    def _jointly(self) -> str:
        return f" (jointly over {self.n_tested} thresholds)" if self.n_tested > 1 else ""


def _groups(confidence: np.ndarray, correct: np.ndarray):
    """Distinct confidences, highest first, with the accepted count and the right count at each."""
    order = np.argsort(-confidence, kind="stable")
    conf = confidence[order]
    cum = np.cumsum(correct[order].astype(np.int64))
    ends = np.flatnonzero(np.r_[conf[1:] != conf[:-1], True])  # last index of each distinct value
    return conf[ends], ends + 1, cum[ends]


def precision_threshold(confidence, correct, target: float = DEFAULT_TARGET, delta: float = DEFAULT_DELTA, *,
                        mode: str = DEFAULT_MODE, grid: int = DEFAULT_GRID) -> Threshold:
    """The lowest confidence threshold whose accepted held-out set has a one-sided Clopper-Pearson
    lower bound on its precision of at least ``target`` (see the module doc for ``mode``)."""
    if not 0.0 < float(target) < 1.0:
        raise ValueError(f"target precision must be between 0 and 1 (exclusive), not {target!r}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    conf = np.asarray(confidence, dtype=np.float64).ravel()
    ok = np.asarray(correct, dtype=bool).ravel()
    if conf.shape != ok.shape:
        raise ValueError(f"confidence ({conf.size}) and correct ({ok.size}) differ in length")
    keep = np.isfinite(conf)
    conf, ok = conf[keep], ok[keep]
    total = int(conf.size)
    none = Threshold(math.inf, math.nan, math.nan, 0.0, 0, math.inf, float(target), float(delta), total)
    if total == 0:
        return none
    values, n, k = _groups(conf, ok)
    observed = k / n
    point_ok = np.flatnonzero(observed >= target)
    point = float(values[point_ok[-1]]) if point_ok.size else math.inf
    bound = clopper_pearson_lower(k, n, delta)
    passes = bound >= target
    if mode == "bonferroni":
        cand = np.unique(np.searchsorted(n, np.ceil(total * np.arange(1, int(grid) + 1) / int(grid)), side="left"))
        cand = cand[cand < len(values)]
        ok_c = cand[clopper_pearson_lower(k[cand], n[cand], delta / len(cand)) >= target]
        chosen = int(ok_c[-1]) if ok_c.size else -1
    elif mode == "lowest":
        chosen = int(np.flatnonzero(passes)[-1]) if passes.any() else -1
    else:
        # the first threshold that could pass with every answer right (a function of n only)
        reachable = np.flatnonzero(clopper_pearson_lower(n, n, delta) >= target)
        chosen = -1
        if reachable.size:
            start = int(reachable[0])
            fails = np.flatnonzero(~passes[start:])
            last = start + int(fails[0]) - 1 if fails.size else len(values) - 1
            chosen = last if last >= start else -1
    if chosen < 0:
        return Threshold(math.inf, math.nan, math.nan, 0.0, 0, point, float(target), float(delta), total)
    t = max(float(values[chosen]), point)  # never less strict than the point estimate
    sel = int(np.count_nonzero(conf >= t))
    right = int(np.count_nonzero(ok & (conf >= t)))
    tested = len(cand) if mode == "bonferroni" else 1  # the bound is at the level the threshold was tested at
    return Threshold(t, float(clopper_pearson_lower(right, sel, delta / tested)), right / sel, sel / total, sel,
                     point, float(target), float(delta), total, tested)


def audit_sample(n: int, share: float = DEFAULT_AUDIT_SHARE, rng: np.random.Generator | int | None = None
                 ) -> np.ndarray:
    """Positions (sorted) of a uniform random ``share`` of ``n`` auto-accepted answers to audit: the
    number is drawn so that its expectation is ``share * n`` (floor plus a Bernoulli remainder)."""
    if not 0.0 <= float(share) <= 1.0:
        raise ValueError(f"the audit share must be between 0 and 1, not {share!r}")
    rng = np.random.default_rng(rng)
    want = share * n
    m = int(math.floor(want)) + int(rng.random() < want - math.floor(want))
    return np.sort(rng.choice(n, size=min(n, m), replace=False)) if m else np.zeros(0, np.int64)


@dataclass(frozen=True)
class AuditReport:
    """What the audits of auto-accepted answers found: audited, corrected (mistakes), still pending."""

    n_audited: int
    n_mistakes: int
    n_pending: int
    delta: float = DEFAULT_DELTA

    @property
    def precision(self) -> float:
        return 1.0 - self.n_mistakes / self.n_audited if self.n_audited else math.nan

    @property
    def lower_bound(self) -> float:
        return clopper_pearson_lower(self.n_audited - self.n_mistakes, self.n_audited, self.delta) \
            if self.n_audited else math.nan

    def describe(self) -> str:
        if not self.n_audited:
            return f"audits: none decided yet ({self.n_pending:,} pending)"
        return (f"audits: {self.n_audited:,} decided, {self.n_mistakes:,} mistakes found (precision of the "
                f"auto-accepted answers {self.precision * 100:.2f}%, {(1 - self.delta) * 100:g}% lower bound "
                f"{self.lower_bound * 100:.2f}%), {self.n_pending:,} pending")
