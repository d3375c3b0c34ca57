"""The CLI's progress: a core progress generator run to its end with a tqdm bar per stage on stderr."""
from __future__ import annotations

import sys
from collections.abc import Generator
from typing import Any

from .core.types import Progress

__all__ = ["drive"]


def drive(gen: Generator[Progress, None, Any], quiet: bool = False) -> Any:
    """Run a core progress generator to its end with a progress bar per stage; return its result.

    The core's one driver (``core.driver.drive``) runs it; Ctrl+C closes the generator, which rolls
    back whatever it was writing.
    """
    from .core.driver import drive as run

    if quiet:
        return run(gen)
    bars = _Bars()
    try:
        return run(gen, on_progress=bars.show, min_interval=0.2)
    finally:
        bars.close()


class _Bars:
    """A tqdm bar per stage of a progress generator."""

    def __init__(self) -> None:
        self.bar = None
        self.stage = None

    def show(self, p: Progress) -> None:
        from tqdm import tqdm

        if p.stage != self.stage or (self.bar is not None and p.total and self.bar.total != p.total):
            self.close()
            self.stage = p.stage
            self.bar = tqdm(total=p.total, desc=p.stage, unit="", file=sys.stderr, dynamic_ncols=True,
                            leave=False, mininterval=0.2)
        bar = self.bar
        bar.n = p.done
        postfix = {k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in p.info.items()
                   if isinstance(v, (int, float, str)) and k in ("loss", "accuracy", "val_accuracy", "items_per_s", "epoch")}
        if postfix:
            bar.set_postfix(postfix, refresh=False)
        if p.message:
            bar.set_description(f"{p.stage}: {p.message}"[:60], refresh=False)
        bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
