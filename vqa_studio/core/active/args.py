"""The typed arguments of scoring the pool, and the one default of each.

``ScoringArgs`` is what ``score_pool`` / ``score_questions`` / ``sample_probs`` take, what a
scoring job's parameters are (``ScoringArgs(...).to_dict()`` in, ``ScoringArgs.from_dict(params)`` in
the child) and what the CLI builds from its flags. ``DEFAULT_MC_SAMPLES`` is the one default of the
number of MC-dropout samples: ``TrainingArgs.mc_samples`` (re-scoring after training), the
simulation's ``SimConfig.mc_samples`` and the CLI's ``--mc-samples`` read it from here.

Nothing heavy is imported here (no torch), so the CLI's parser can read the defaults cheaply.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

#: MC-dropout samples per ensemble member when scoring (T)
DEFAULT_MC_SAMPLES = 20
#: what MC-dropout samples: the classifier head over cached features, or the full network
SCOPES = ("head", "full")
DEFAULT_SCOPE = "head"
DEFAULT_BATCH_SIZE = 256


@dataclass(frozen=True)
class ScoringArgs:
    """How to score: which model, how many MC samples of which scope, which acquisition functions."""

    version: str | None = None  # the model version to score with (None: the active model)
    mc_samples: int = DEFAULT_MC_SAMPLES
    scope: str = DEFAULT_SCOPE  # head: encoders once, classifier dropout sampled; full: T full passes
    seed: int = 0
    batch_size: int = DEFAULT_BATCH_SIZE
    device: str = "cpu"
    methods: tuple[str, ...] | None = None  # acquisition functions to compute (None: every registered one)
    use_student: bool = False  # the distilled student (fast) instead of the ensemble members

    def __post_init__(self) -> None:
        if int(self.mc_samples) < 1:
            raise ValueError(f"mc_samples must be at least 1, not {self.mc_samples!r}")
        if int(self.batch_size) < 1:
            raise ValueError(f"batch_size must be at least 1, not {self.batch_size!r}")
        if self.scope not in SCOPES:
            raise ValueError(f"scope must be one of {', '.join(SCOPES)}, not {self.scope!r}")
        object.__setattr__(self, "mc_samples", int(self.mc_samples))
        object.__setattr__(self, "batch_size", int(self.batch_size))
        if self.methods is not None:
            if isinstance(self.methods, str):
                raise ValueError("methods must be a list of acquisition function names, not one string")
            object.__setattr__(self, "methods", tuple(self.methods))

    def to_dict(self) -> dict[str, Any]:
        """Plain values (a job's parameters cross a process boundary)."""
        out = dataclasses.asdict(self)
        out["methods"] = list(self.methods) if self.methods is not None else None
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ScoringArgs":
        """The arguments named in ``data`` (the rest keep their defaults); an unknown name is an error,
        so a misspelt setting never goes silently unused."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown scoring argument(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        return cls(**data)
