"""The `teamclaims` command: serve, migrate, bootstrap."""

from __future__ import annotations

import argparse
import asyncio
import sys

from app.errors import AppError
from app.settings import get_settings


def _migrate(url: str) -> None:
    from app.migrate import upgrade

    upgrade(url)


def cmd_migrate(_args: argparse.Namespace) -> int:
    settings = get_settings()
    _migrate(settings.database_url)
    print(f"database at head: {settings.database_url}", file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn
    from sqlalchemy.engine import make_url

    from app.main import create_app
    from app.observability import configure_logging

    settings = get_settings()
    workers = args.workers if args.workers is not None else settings.workers
    if workers < 1:
        print(f"error: --workers must be 1 or more, not {workers}", file=sys.stderr)
        return 2
    if workers > 1 and make_url(settings.database_url).get_backend_name() == "sqlite":
        print("error: several workers need PostgreSQL: SQLite takes one writer at a time and "
              "one process already keeps it busy. Serve SQLite with one worker, or set "
              "TEAMCLAIMS_DATABASE_URL=postgresql+asyncpg://...", file=sys.stderr)
        return 2
    # Every log line (migrations', uvicorn's, the app's) goes through one redacting handler;
    # the app's middleware writes the access log, so uvicorn's is off.
    configure_logging(settings.log_format, settings.log_level)
    _migrate(settings.database_url)
    where = {"host": args.host or settings.host, "port": args.port or settings.port,
             "log_level": settings.log_level, "log_config": None, "access_log": False}
    if workers == 1:
        uvicorn.run(create_app(settings), **where)
        return 0
    # Each worker process builds its own app (connections, keys, caches); their metrics are
    # counted together, so that /metrics answers for all of them.
    from app.observability import metrics_shared_by_workers

    with metrics_shared_by_workers():
        uvicorn.run("app.main:worker_app", factory=True, workers=workers, **where)
    return 0


def cmd_bootstrap(args: argparse.Namespace) -> int:
    from app.bootstrap import bootstrap_org, bootstrap_platform_admin
    from app.db import Database

    settings = get_settings()
    _migrate(settings.database_url)

    async def run() -> str:
        db = Database(settings.database_url)
        try:
            if args.platform_admin:
                token = await bootstrap_platform_admin(db)
                print(f"platform-admin token {token.token.mrn}")
            else:
                org, created, token = await bootstrap_org(db, org_id=args.org_id, name=args.name)
                print(f"organization {org.mrn} ({'created' if created else 'already existed'})")
                print(f"owner token {token.token.mrn}")
            return token.secret
        finally:
            await db.dispose()

    try:
        secret = asyncio.run(run())
    except AppError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    print(secret)  # the last line of stdout: the token itself
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="teamclaims", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="apply pending migrations, then serve the API")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8000)")
    serve.add_argument("--workers", type=int,
                       help="worker processes, one per core (default 1; more need PostgreSQL)")
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser("migrate", help="apply pending migrations (alembic upgrade head)")
    migrate.set_defaults(func=cmd_migrate)

    boot = sub.add_parser(
        "bootstrap", help="create an organization and print a new owner token (last line)"
    )
    who = boot.add_mutually_exclusive_group(required=True)
    who.add_argument("--org-id", help="organization id (created if it does not exist)")
    who.add_argument("--platform-admin", action="store_true",
                     help="print a new token with the platform-admin role instead")
    boot.add_argument("--name", help="organization name (default: the id)")
    boot.set_defaults(func=cmd_bootstrap)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
