"""A team on one project: annotator processes claiming from the queue and correcting, on PostgreSQL
and on SQLite.

    python benchmarks/bench_team.py [--annotators 4] [--per-annotator 1000] [--backend both|postgresql|sqlite]

Each process claims the next question (a lease), reads it, corrects it based on the version it read,
and releases it; every 20th correction it edits one of three "hot" questions that everyone edits, so
simultaneous edits happen and go through the conflict path (the loser is shown both answers and keeps
theirs as a new correction on the new version). Prints corrections/s and the lines ``lost: N`` (goal
0), ``double claims: N`` (goal 0) and ``conflicts detected: N, shown with both answers: N``.

PostgreSQL: the server named by VQA_STUDIO_TEST_PG_URL (as in the tests), else one started here from
/usr/lib/postgresql/*/bin (as scripts/run-tests.sh does; as root it runs as the postgres user).
"""
from __future__ import annotations

import argparse
import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


@contextlib.contextmanager
def postgres_server():
    """A PostgreSQL base URL: VQA_STUDIO_TEST_PG_URL, or a server started (and stopped) here."""
    if os.environ.get("VQA_STUDIO_TEST_PG_URL"):
        yield os.environ["VQA_STUDIO_TEST_PG_URL"]
        return
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not bins:
        yield None
        return
    pg_bin = bins[-1]
    tmp = Path(tempfile.mkdtemp(prefix="vqa-bench-pg-"))
    tmp.chmod(0o755)
    run_as: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as s:
        s.bind(("localhost", 0))
        port = s.getsockname()[1]
    subprocess.run(run_as + [f"{pg_bin}/initdb", "-D", str(tmp / "data"), "-A", "trust", "-U", "vqa"],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(run_as + [f"{pg_bin}/pg_ctl", "-D", str(tmp / "data"), "-o",
                             f"-p {port} -k {tmp} -c listen_addresses=localhost", "-l", str(tmp / "log"), "-w", "start"],
                   check=True, stdout=subprocess.DEVNULL)
    try:
        yield f"postgresql+psycopg2://vqa@localhost:{port}/postgres"
    finally:
        subprocess.run(run_as + [f"{pg_bin}/pg_ctl", "-D", str(tmp / "data"), "-m", "fast", "stop"],
                       stdout=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)


def _database(base: str) -> str:
    from sqlalchemy import create_engine, text

    name = f"vqa_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.rsplit("/", 1)[0] + "/" + name


def bench(backend: str, url: str | None, work: Path, annotators: int, per: int) -> None:
    from tests.core.team_workload import check, make_project, run_team

    folder = work / backend
    t0 = time.perf_counter()
    hot = make_project(folder, url, n_questions=annotators * per + 200, n_hot=3)
    print(f"[{backend}] project: {annotators * per + 203:,} questions in {time.perf_counter() - t0:.1f} s", flush=True)
    results, wall = run_team(folder, annotators, per, hot, hot_every=20, timeout=1800)
    out = check(folder, results)
    rates = ", ".join(f"{len(r['acked']) / r['elapsed']:.0f}/s" for r in results)
    print(f"[{backend}] {annotators} annotators x {per:,} corrections: {out['acked']:,} acknowledged in {wall:.1f} s "
          f"= {out['acked'] / wall:,.0f} corrections/s (per annotator: {rates})", flush=True)
    print(f"[{backend}] lost: {out['lost']} (goal 0)")
    print(f"[{backend}] double claims: {out['double_claims']} (goal 0)")
    print(f"[{backend}] conflicts detected: {out['conflicts']}, shown with both answers: {out['shown']}; "
          f"history chains broken: {len(out['problems'])}", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--annotators", type=int, default=4)
    ap.add_argument("--per-annotator", type=int, default=1000)
    ap.add_argument("--backend", choices=["both", "postgresql", "sqlite"], default="both")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vqa-bench-team-"))
    try:
        if args.backend in ("both", "postgresql"):
            with postgres_server() as base:
                if base is None:
                    print("[postgresql] skipped: no server (VQA_STUDIO_TEST_PG_URL) and no /usr/lib/postgresql/*/bin")
                else:
                    bench("postgresql", _database(base), work, args.annotators, args.per_annotator)
        if args.backend in ("both", "sqlite"):
            bench("sqlite", None, work, args.annotators, args.per_annotator)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
