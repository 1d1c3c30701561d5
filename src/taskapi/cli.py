"""``taskapi``: serve the API and manage its database."""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from taskapi import __version__
from taskapi.core.config import Settings


def _load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        lines = [
            f"  TASKAPI_{'_'.join(map(str, e['loc'])).upper() or '*'}: {e['msg']}"
            for e in exc.errors()
        ]
        sys.exit("taskapi: invalid configuration:\n" + "\n".join(lines))


def _migrate(settings: Settings) -> None:
    from taskapi.core.migrate import upgrade

    upgrade(settings.migration_url)


def cmd_migrate(_: argparse.Namespace) -> None:
    settings = _load_settings()
    _migrate(settings)
    print("taskapi: database is up to date")


def cmd_serve(args: argparse.Namespace) -> None:
    settings = _load_settings()
    if not args.no_migrate:
        _migrate(settings)
    if settings.jwt_secret is None:
        # Every worker must verify the others' tokens: share one random development key.
        os.environ["TASKAPI_JWT_SECRET"] = secrets.token_urlsafe(48)
        print(
            "taskapi: TASKAPI_JWT_SECRET is not set; using a random key until restart",
            file=sys.stderr,
        )
    metrics_dir: Path | None = None
    if args.workers > 1:
        # Each worker writes its metrics to files here; /metrics adds them up.
        metrics_dir = Path(tempfile.mkdtemp(prefix="taskapi-metrics-"))
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        if settings.redis_url is None:
            print(
                "taskapi: warning: several workers without TASKAPI_REDIS_URL: rate limits and "
                "sign-in lockouts are counted per worker",
                file=sys.stderr,
            )
    try:
        _run_server(args, settings)
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _run_server(args: argparse.Namespace, settings: Settings) -> None:
    import uvicorn

    uvicorn.run(
        "taskapi.app:create_app_from_environment",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=settings.log_level,
        # The app resolves client addresses itself, from TASKAPI_TRUSTED_PROXIES.
        proxy_headers=False,
        server_header=False,
        access_log=False,  # the app writes its own access log, with request id and user
        timeout_graceful_shutdown=30,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="taskapi", description="Task API: a multi-user task REST backend."
    )
    parser.add_argument("--version", action="version", version=f"taskapi {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="apply migrations, then serve the API")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default: 1)")
    serve.add_argument("--no-migrate", action="store_true", help="do not apply migrations first")
    serve.set_defaults(handler=cmd_serve)

    migrate = commands.add_parser("migrate", help="apply database migrations and exit")
    migrate.set_defaults(handler=cmd_migrate)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    args.handler(args)


if __name__ == "__main__":
    main()
