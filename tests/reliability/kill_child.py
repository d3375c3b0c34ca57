"""The child of the kill test: records corrections through the review commands, one committed
transaction each, and prints the number of each one after its commit returns (acknowledged)."""
from __future__ import annotations

import sys

from vqa_studio.core.commands import ReviewCommand
from vqa_studio.core.project import Project


def main(folder: str, start: int) -> None:
    project = Project.open(folder)
    qids = project.queue_ids(filters=None, order_by="id")
    n = start
    print("ready", flush=True)
    while True:
        ReviewCommand(qids[n % len(qids)], "correct", answer=f"k{n}").do(project)
        print(n, flush=True)  # acknowledged: the commit returned
        n += 1


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
