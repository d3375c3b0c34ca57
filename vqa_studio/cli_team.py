"""Team commands: ``vqa-studio team-stats`` (per-annotator statistics and agreement) and
``vqa-studio migrate`` (copy a project between SQLite and PostgreSQL, and check the counts)."""
from __future__ import annotations

from .cli_common import EXIT_BAD_INPUT, EXIT_OK, _print, _usage


def _open_project_or_db(args):
    from .core.project import Project
    from .core.team import connect

    if bool(args.project) == bool(args.db):
        raise _usage("give either --project DIR or --db URL")
    if args.db:
        return connect(args.db, args.folder)
    return Project.open(args.project)


def cmd_team_stats(args) -> int:
    from .core.team_stats import team_stats

    project = _open_project_or_db(args)
    try:
        st = team_stats(project)
    finally:
        project.close()
    for line in st.lines():
        _print(line)
    return EXIT_OK


def cmd_migrate(args) -> int:
    from .cli_progress import drive
    from .core.team_migrate import migrate

    report = drive(migrate(args.source, args.destination, args.folder), quiet=args.quiet)
    for line in report.lines():
        _print(line)
    return EXIT_OK if report.ok else EXIT_BAD_INPUT


def cmd_claims(args) -> int:
    from .core.team import LEASE_SETTING, lease_seconds

    project = _open_project_or_db(args)
    try:
        if args.lease_minutes is not None:
            if not args.lease_minutes > 0:
                raise _usage("--lease-minutes must be more than 0")
            project.set_setting(LEASE_SETTING, f"{args.lease_minutes:g}")
        if args.release:
            n = project.team(args.release).release()
            _print(f"released {n} claims of {args.release}")
        claims = project.team().claims(everyone=True)
        _print(f"lease: {lease_seconds(project) / 60:g} minutes; live claims: {len(claims)}")
        for c in claims:
            _print(f"  question {c.question_id}: {c.annotator} until {c.expires_at:%Y-%m-%d %H:%M:%S} UTC")
    finally:
        project.close()
    return EXIT_OK


def add_commands(add) -> None:
    p = add("team-stats", cmd_team_stats,
            "per-annotator statistics, and agreement where several annotators answered a question "
            "(Krippendorff's alpha, the VQA soft score between annotators)")
    p.add_argument("--project", help="project folder (SQLite, or a team project's folder with project.json)")
    p.add_argument("--db", help="database URL of a team project, e.g. postgresql://user@host/db")
    p.add_argument("--folder", help="with --db: the local folder of the team project (default: one under "
                                    "the user's data folder)")
    p = add("claims", cmd_claims, "the questions annotators hold (claims with a lease), the lease length, "
                                  "and releasing one annotator's claims")
    p.add_argument("--project", help="project folder (SQLite, or a team project's folder with project.json)")
    p.add_argument("--db", help="database URL of a team project")
    p.add_argument("--folder", help="with --db: the local folder of the team project")
    p.add_argument("--lease-minutes", type=float, default=None, metavar="M",
                   help="set how long a claim lasts unless renewed (the app renews it while the question is open)")
    p.add_argument("--release", metavar="ANNOTATOR", help="release every claim of this annotator (someone left)")
    p = add("migrate", cmd_migrate,
            "copy a project between SQLite and PostgreSQL with its history, models, predictions and cuboids, "
            "then check that every table has as many rows on both sides (exit 2 if not)")
    p.add_argument("--from", dest="source", required=True, metavar="DIR_OR_URL",
                   help="the project: its folder, or a database URL")
    p.add_argument("--to", dest="destination", required=True, metavar="DIR_OR_URL",
                   help="a new project folder (SQLite), or an empty database URL (then --folder)")
    p.add_argument("--folder", help="with a URL as --to: the new team project's folder (project.json naming the "
                                    "URL, models, media)")


def team_folder_for(url: str, folder: str | None):
    """``gui --db``: connect once (a wrong URL or an unreachable server is a message here, exit 2), and
    return the team project's folder, whose project.json the app then opens."""
    from .core.team import connect

    project = connect(url, folder)
    try:
        return project.folder
    finally:
        project.close()
