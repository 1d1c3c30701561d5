"""Load benchmark of the running service: ``make bench`` (``BENCH_ARGS`` for options).

    .venv/bin/python -m bench.run                       # PostgreSQL, 1 and 2 workers
    .venv/bin/python -m bench.run --db sqlite           # the embedded default
    .venv/bin/python -m bench.run --small --duration 3 --no-record   # smoke run (~2 min)

It starts a throwaway PostgreSQL 15 with durable settings (``tests/servers.py``, fsync
on), migrates it, seeds it (``bench/seed.py``: 100 users x 1,000 tasks with tags, one
user with 200,000 tasks, one with 100), then for each worker count starts
``taskapi serve --workers N`` as production would run it and drives it with wrk
(``bench/scenarios/lines.lua``), one scenario after the other. In the same run it
measures two ceilings: a bare ASGI endpoint on the same server stack
(``bench/bare_app.py``), and pgbench running the SQL of the get and list scenarios
(``bench/scenarios/pgbench_*.sql``) with the same client count. It prints one table and
the targets check, and appends both to ``docs/performance.md`` (unless ``--no-record``).
It measures only: nothing in the service is tuned here.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import secrets
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import asyncpg
import httpx
from tests.servers import PostgresServer, find_free_port, find_postgres_binaries, start_postgres

from bench import seed as seeding
from bench.procs import ManagedProcess
from taskapi.core.migrate import upgrade
from taskapi.core.pagination import CursorCodec

ROOT = Path(__file__).resolve().parent.parent
SCENARIO_DIR = ROOT / "bench" / "scenarios"
LUA = SCENARIO_DIR / "lines.lua"
DOC = ROOT / "docs" / "performance.md"
HOST = "127.0.0.1"
PG_SETTINGS = {"shared_buffers": "512MB", "max_wal_size": "4GB"}
POOL_SIZE = 40
WRK_TIMEOUT = "30s"
PAGE = 20

SCENARIOS: dict[str, str] = {
    "get": "GET /api/v1/tasks/{id}, 20 tasks of each regular user, users round robin",
    "list": "GET /api/v1/tasks?limit=20 (first page), regular users round robin",
    "list_big": "first page of the 200k-task user",
    "deep": "the 200k-task user's page at row ~100,000 (a cursor)",
    "search": "q=<word in ~2 % of tasks> for the 200k-task user",
    "tag": "GET /api/v1/tasks?tag=<the most used tag>, regular users round robin",
    "list_small": "first page of the 100-task user (baseline of list_big and deep)",
    "search_small": "the same q for the 100-task user (baseline of search)",
    "create": "POST /api/v1/tasks (title, description, priority, one tag)",
    "patch": "PATCH /api/v1/tasks/{id} with a new title",
    "complete": "POST /api/v1/tasks/{id}/complete, then /reopen, on pending tasks",
    "login": "POST /api/v1/auth/login (Argon2id at the production cost: slow by design)",
}
CEILINGS: dict[str, str] = {
    "bare": "bare ASGI endpoint (bench/bare_app.py), same uvicorn options and workers",
    "pgbench_get": "pgbench, the SQL of get (the task with its tag names, one statement)",
    "pgbench_list": "pgbench, the SQL of list (LIMIT 21 page with tag names, one statement)",
}
READS = ("get", "list", "list_big", "deep", "search", "tag", "list_small", "search_small")
THROUGHPUT_TARGETS = {"get": 2_000, "list": 1_500, "create": 1_000}
READ_P99_MS = 50.0
SCALING = 1.6
BIG_VS_SMALL = (("list_big", "list_small"), ("deep", "list_small"), ("search", "search_small"))
BIG_FACTOR = 1.5
PASSWORD = seeding.PASSWORD


def workers_label(workers: int | str) -> str:
    return f"{workers} worker" + ("" if str(workers) == "1" else "s")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------


@dataclass
class Result:
    scenario: str
    workers: str  # "1", "2", ... or "-" for pgbench
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non2xx: int
    errors: int  # socket errors and timeouts (wrk) or failed transactions (pgbench)
    statuses: dict[int, int] = field(default_factory=dict)
    fraction: float | None = None

    @property
    def non2xx_cell(self) -> str:
        cell = f"{self.non2xx:,}"
        if self.non2xx:
            cell += (
                " ("
                + ", ".join(
                    f"{code}×{count:,}"
                    for code, count in sorted(self.statuses.items())
                    if code >= 300
                )
                + ")"
            )
        if self.errors:
            cell += f" +{self.errors:,} errors"
        return cell


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_PERCENTILE = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.M)
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
_NON2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_STATUS = re.compile(r"^BENCH-STATUS (\d+) (\d+)$", re.M)
_REQUESTS = re.compile(r"^\s*(\d+) requests in", re.M)
_SUMMARY = re.compile(r"^BENCH-SUMMARY (.*)$", re.M)


def parse_wrk(scenario: str, workers: str, output: str) -> Result:
    rps = _RPS.search(output)
    if rps is None:
        raise RuntimeError(f"no Requests/sec in wrk's output:\n{output}")
    latency = {int(p): float(v) * _UNITS_MS[unit] for p, v, unit in _PERCENTILE.findall(output)}
    summary = _SUMMARY.search(output)
    if summary is not None:  # done() of lines.lua: the same percentiles, in microseconds
        fields = dict(item.split("=", 1) for item in summary.group(1).split())
        latency = {50: int(fields["p50_us"]) / 1000, 99: int(fields["p99_us"]) / 1000}
    statuses = {int(code): int(count) for code, count in _STATUS.findall(output)}
    socket = _SOCKET.search(output)
    requests = _REQUESTS.search(output)
    wrk_non2xx = _NON2XX.search(output)
    # wrk's own count leaves 3xx out; the Lua status counts do not.
    non2xx = sum(count for code, count in statuses.items() if not 200 <= code < 300)
    if wrk_non2xx is not None:
        non2xx = max(non2xx, int(wrk_non2xx.group(1)))
    count = int(requests.group(1)) if requests else sum(statuses.values())
    nan = float("nan")
    return Result(
        scenario=scenario,
        workers=workers,
        rps=float(rps.group(1)),
        p50_ms=latency.get(50, nan) if count else nan,
        p99_ms=latency.get(99, nan) if count else nan,
        requests=count,
        non2xx=non2xx,
        errors=sum(int(n) for n in socket.groups()) if socket else 0,
        statuses=statuses,
    )


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, round(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


# --------------------------------------------------------------------------------------
# load generators
# --------------------------------------------------------------------------------------


@dataclass
class Load:
    connections: int
    threads: int
    duration: int
    warmup: int


def wrk(url: str, requests_file: Path, load: Load, seconds: int) -> str:
    cmd = [
        "wrk", f"-t{load.threads}", f"-c{load.connections}", f"-d{seconds}s", "--latency",
        "--timeout", WRK_TIMEOUT, "-s", str(LUA), url, "--", str(requests_file),
        str(load.threads),
    ]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stderr.strip()}\n{out.stdout}")
    return out.stdout


def pgbench(
    server: PostgresServer,
    script: Path,
    defines: dict[str, int],
    load: Load,
    seconds: int,
    log_prefix: Path | None,
) -> str:
    binary = find_postgres_binaries().bindir / "pgbench"
    cmd = [
        str(binary), "-h", server.host, "-p", str(server.port), "-U", server.user, "-n",
        "-M", "prepared", "-c", str(load.connections), "-j", str(load.threads),
        "-T", str(seconds), "-f", str(script),
    ]  # fmt: skip
    for name, value in defines.items():
        cmd += ["-D", f"{name}={value}"]
    if log_prefix is not None:
        cmd += ["-l", f"--log-prefix={log_prefix}"]
    cmd.append(server.dbname)
    # The get and list statements run on the service's hot pool, which keeps
    # PostgreSQL's default plan cache (core/db.py, ADR 0006): so does pgbench here.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    out = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        env=env,
        cwd=log_prefix.parent if log_prefix else None,
        timeout=seconds + 120,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"pgbench failed ({out.returncode}): {out.stderr.strip()}")
    return out.stdout


def run_pgbench(
    server: PostgresServer, name: str, defines: dict[str, int], load: Load, tmp: Path
) -> Result:
    script = SCENARIO_DIR / f"{name}.sql"
    log(f"{name}: warm-up {load.warmup}s, then {load.duration}s")
    if load.warmup:
        pgbench(server, script, defines, load, load.warmup, None)
    prefix = tmp / f"{name}-log"
    output = pgbench(server, script, defines, load, load.duration, prefix)
    latencies: list[float] = []
    for path in tmp.glob(f"{prefix.name}.*"):
        with path.open(encoding="ascii") as lines:
            latencies += [int(line.split()[2]) / 1000 for line in lines if line.strip()]
        path.unlink()
    tps = re.search(r"^tps = ([\d.]+)", output, re.M)
    failed = re.search(r"number of failed transactions: (\d+)", output)
    if tps is None:
        raise RuntimeError(f"no tps in pgbench's output:\n{output}")
    return Result(
        scenario=name,
        workers="-",
        rps=float(tps.group(1)),
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
        requests=len(latencies),
        non2xx=0,
        errors=int(failed.group(1)) if failed else 0,
    )


# --------------------------------------------------------------------------------------
# requests of each scenario
# --------------------------------------------------------------------------------------


def _line(method: str, path: str, token: str | None, body: object = None) -> str:
    payload = "-" if body is None else json.dumps(body, separators=(",", ":"))
    return "\t".join([method, path, token or "-", payload])


def deep_cursor(info: seeding.SeedInfo, secret: str) -> str:
    """The service's own cursor after row ``deep_depth - 1`` of the big user's listing
    (sort -created_at), as ``tasks.service._cursor_payload`` makes it."""
    created_at, task_id = info.deep_keyset
    payload = {"u": info.big.id.hex, "s": "-created_at", "v": created_at.isoformat()}
    payload["i"] = task_id.hex
    return CursorCodec(secret).encode(payload)


def scenario_requests(
    info: seeding.SeedInfo, tokens: dict[int, str], cursor: str, threads: int
) -> dict[str, list[str]]:
    users, big, tiny = info.users, info.big, info.tiny

    def token(user: seeding.BenchUser) -> str:
        return tokens[user.number]

    page = f"/api/v1/tasks?limit={PAGE}"
    requests: dict[str, list[str]] = {
        "get": [
            _line("GET", f"/api/v1/tasks/{user.get_ids[k]}", token(user))
            for k in range(seeding.ID_SAMPLE)
            for user in users
            if k < len(user.get_ids)
        ],
        "list": [_line("GET", page, token(user)) for user in users],
        "list_big": [_line("GET", page, token(big))],
        "deep": [_line("GET", f"{page}&cursor={cursor}", token(big))],
        "search": [_line("GET", f"{page}&q={info.search_word}", token(big))],
        "tag": [_line("GET", f"{page}&tag={info.tag}", token(user)) for user in users],
        "list_small": [_line("GET", page, token(tiny))],
        "search_small": [_line("GET", f"{page}&q={info.search_word}", token(tiny))],
        "create": [
            _line(
                "POST",
                "/api/v1/tasks",
                token(user),
                {
                    "title": "Benchmark task %n",
                    "description": "created by bench/run.py",
                    "priority": "high",
                    "tags": [info.tag],
                },
            )
            for user in users
        ],
        "patch": [
            _line("PATCH", f"/api/v1/tasks/{user.patch_ids[k]}", token(user), {"title": "Task %n"})
            for k in range(seeding.ID_SAMPLE)
            for user in users
            if k < len(user.patch_ids)
        ],
        "login": [
            _line("POST", "/api/v1/auth/login", None, {"email": u.email, "password": PASSWORD})
            for u in users
        ],
    }
    # Complete every task, then reopen every task: line j and line n + j go to the same
    # wrk thread when n is a multiple of the thread count, so a task's complete and
    # reopen never overlap (they are n / threads requests apart).
    pairs = [
        (user, user.complete_ids[k])
        for k in range(seeding.COMPLETE_SAMPLE)
        for user in users
        if k < len(user.complete_ids)
    ]
    if len(pairs) >= threads:
        pairs = pairs[: len(pairs) - len(pairs) % threads]
    requests["complete"] = [
        _line("POST", f"/api/v1/tasks/{task_id}/{action}", token(user))
        for action in ("complete", "reopen")
        for user, task_id in pairs
    ]
    return requests


def complete_ids(info: seeding.SeedInfo) -> list[uuid.UUID]:
    return [task_id for user in info.users for task_id in user.complete_ids]


# --------------------------------------------------------------------------------------
# the database
# --------------------------------------------------------------------------------------


class BenchDatabase:
    """The throwaway database and what the benchmark does to it besides the service."""

    def __init__(self, kind: str, tmp: Path) -> None:
        self.kind = kind
        self.server: PostgresServer | None = None
        self.sqlite_path = tmp / "taskapi.db"

    def start(self) -> None:
        if self.kind == "postgres":
            self.server = start_postgres(fast=False, settings=PG_SETTINGS)
            log(f"PostgreSQL on port {self.server.port} (durable: fsync on), {PG_SETTINGS}")

    @property
    def url(self) -> str:
        if self.server is not None:
            return self.server.url(driver="asyncpg")
        return f"sqlite+aiosqlite:///{self.sqlite_path}"

    def seed(self, sizes: seeding.Sizes) -> seeding.SeedInfo:
        if self.server is not None:
            return seeding.seed(sizes, postgres_dsn=self.server.dsn)
        return seeding.seed(sizes, sqlite_path=str(self.sqlite_path))

    def reopen(self, task_ids: Sequence[uuid.UUID]) -> None:
        """Put the complete scenario's tasks back to pending, so every complete does work."""
        if self.server is not None:
            asyncio.run(self._reopen_postgres(self.server.dsn, task_ids))
            return
        conn = sqlite3.connect(self.sqlite_path, timeout=30)
        try:
            with conn:
                conn.executemany(
                    "UPDATE tasks SET completed = 0, completed_at = NULL WHERE id = ?",
                    [(task_id.hex,) for task_id in task_ids],
                )
        finally:
            conn.close()

    @staticmethod
    async def _reopen_postgres(dsn: str, task_ids: Sequence[uuid.UUID]) -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(
                "UPDATE tasks SET completed = false, completed_at = NULL "
                "WHERE id = ANY($1::uuid[])",
                list(task_ids),
            )
        finally:
            await conn.close()

    def version(self) -> str:
        if self.server is not None:
            return self.server.execute("SHOW server_version").split()[0]
        return sqlite3.sqlite_version

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


# --------------------------------------------------------------------------------------
# the service
# --------------------------------------------------------------------------------------


def service_env(database_url: str, secret: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKAPI_")}
    env.update(
        {
            "TASKAPI_ENV": "production",
            "TASKAPI_JWT_SECRET": secret,
            "TASKAPI_DATABASE_URL": database_url,
            "TASKAPI_DATABASE_POOL_SIZE": str(POOL_SIZE),
            # On, but far above what the load reaches.
            "TASKAPI_RATE_LIMIT_API": "10000000/minute",
            "TASKAPI_RATE_LIMIT_AUTH": "10000000/minute",
            "TASKAPI_LOGIN_FAILURE_LIMIT": "10000000/minute",
            "TASKAPI_LOGIN_FAILURE_LIMIT_ACCOUNT": "10000000/minute",
            "TASKAPI_LOG_LEVEL": "info",  # every feature on: one JSON access-log line per request
            # Tokens taken before the load must outlive the run (no per-request cost).
            "TASKAPI_ACCESS_TOKEN_TTL": "3600",
        }
    )
    return env


def start_service(workers: int, env: dict[str, str], tmp: Path) -> tuple[ManagedProcess, str]:
    port = find_free_port()
    taskapi = Path(sys.executable).with_name("taskapi")
    cmd = [str(taskapi), "serve", "--host", HOST, "--port", str(port), "--workers", str(workers)]
    process = ManagedProcess(
        f"taskapi serve --workers {workers}",
        cmd,
        env=env,
        cwd=tmp,  # no .env file and no ./data here
        log_path=tmp / f"service-{workers}.log",
    ).start()
    url = f"http://{HOST}:{port}"
    process.wait_ready(url + "/readyz")
    return process, url


def start_bare(workers: int, tmp: Path) -> tuple[ManagedProcess, str]:
    port = find_free_port()
    cmd = [sys.executable, "-m", "bench.bare_app", "--host", HOST, "--port", str(port)]
    cmd += ["--workers", str(workers)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKAPI_")}
    process = ManagedProcess(
        f"bare ASGI app --workers {workers}",
        cmd,
        env=env,
        cwd=ROOT,
        log_path=tmp / f"bare-{workers}.log",
    ).start()
    url = f"http://{HOST}:{port}"
    process.wait_ready(url + "/")
    return process, url


async def _login_all(url: str, users: Sequence[seeding.BenchUser]) -> dict[int, str]:
    tokens: dict[int, str] = {}
    limit = asyncio.Semaphore(4)
    async with httpx.AsyncClient(base_url=url, timeout=120.0) as client:

        async def login(user: seeding.BenchUser) -> None:
            async with limit:
                response = await client.post(
                    "/api/v1/auth/login", json={"email": user.email, "password": PASSWORD}
                )
            response.raise_for_status()
            tokens[user.number] = response.json()["access_token"]

        await asyncio.gather(*(login(user) for user in users))
    return tokens


def probe(url: str, line: str) -> str:
    """Send a scenario's first request once; describe the answer."""
    method, path, bearer, body = line.split("\t")
    headers = {} if bearer == "-" else {"Authorization": f"Bearer {bearer}"}
    content = None
    if body != "-":
        headers["Content-Type"] = "application/json"
        content = body.replace("%n", "probe").encode()
    response = httpx.request(method, url + path, headers=headers, content=content, timeout=60)
    note = f"{response.status_code}"
    if response.status_code >= 300:
        return note + f" {response.text[:300]}"
    with contextlib.suppress(ValueError):
        data = response.json()
        if isinstance(data, dict) and "items" in data:
            more = "set" if data.get("next_cursor") else "null"
            note += f", {len(data['items'])} items, next_cursor {more}"
    return note


# --------------------------------------------------------------------------------------
# the run
# --------------------------------------------------------------------------------------


@dataclass
class Run:
    args: argparse.Namespace
    load: Load
    tmp: Path
    results: list[Result] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def scenario(
        self,
        name: str,
        workers: int,
        url: str,
        requests_file: Path,
        before: Callable[[], None] | None = None,
    ) -> Result:
        line = requests_file.read_text(encoding="utf-8").splitlines()[0]
        answer = probe(url, line)
        if not answer.startswith("2"):
            self.warnings.append(f"{name} ({workers_label(workers)}): probe answered {answer}")
        log(f"{name} ({workers_label(workers)}): probe {answer}; warm-up {self.load.warmup}s, "
            f"then {self.load.duration}s")  # fmt: skip
        # No warm-up for login: its Argon2 work would still be queued when the run starts.
        if self.load.warmup and name != "login":
            if before:
                before()
            wrk(url, requests_file, self.load, self.load.warmup)
        if before:
            before()
        result = parse_wrk(
            name, str(workers), wrk(url, requests_file, self.load, self.load.duration)
        )
        log(f"  {result.rps:,.0f} req/s, p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, "
            f"non-2xx {result.non2xx_cell}")  # fmt: skip
        if result.requests == 0:
            self.warnings.append(
                f"{name} ({workers_label(workers)}): no request completed in {self.load.duration}s"
            )
        self.results.append(result)
        return result


def warmup_seconds(duration: int) -> int:
    """A warm-up run before each measured one; none in smoke runs."""
    return 2 if duration >= 5 else 0


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description="Load benchmark of Task API (wrk, pgbench)."
    )
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--workers", default="1,2", help="worker counts, e.g. 1,2 (default)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per scenario")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help="comma list of: " + ", ".join(SCENARIOS) + " (the ceilings always run)",
    )
    parser.add_argument(
        "--small",
        action="store_true",
        help=f"quick seed for smoke runs: {seeding.SMALL.describe()}",
    )
    parser.add_argument("--no-record", action="store_true", help="do not append to the docs")
    args = parser.parse_args(argv)
    try:
        args.worker_counts = [int(n) for n in args.workers.split(",") if n.strip()]
    except ValueError:
        parser.error("--workers takes numbers separated by commas, e.g. 1,2")
    if not args.worker_counts or min(args.worker_counts) < 1:
        parser.error("--workers needs at least one count of 1 or more")
    args.scenario_list = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    unknown = [name for name in args.scenario_list if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenarios {unknown}; choose from {', '.join(SCENARIOS)}")
    # The order of SCENARIOS: reads, then writes, then login (it leaves Argon2 work behind).
    args.scenario_list = [name for name in SCENARIOS if name in args.scenario_list]
    if args.duration < 1 or args.connections < args.threads or args.threads < 1:
        parser.error("need --duration >= 1 and --connections >= --threads >= 1")
    return args


def bench(args: argparse.Namespace, tmp: Path) -> tuple[Run, seeding.SeedInfo, dict[str, str]]:
    load = Load(
        connections=args.connections,
        threads=args.threads,
        duration=args.duration,
        warmup=warmup_seconds(args.duration),
    )
    run = Run(args, load, tmp)
    sizes = seeding.SMALL if args.small else seeding.FULL
    database = BenchDatabase(args.db, tmp)
    machine: dict[str, str] = {}
    try:
        database.start()
        log(f"migrating {args.db}")
        upgrade(database.url)
        log(f"seeding: {sizes.describe()}")
        info = database.seed(sizes)
        log(
            f"seeded {', '.join(f'{n:,} {t}' for t, n in info.rows.items())} in "
            f"{info.seconds:.0f}s; search word {info.search_word!r} "
            f"(big user {info.search_hits['big']:,} tasks, tiny user {info.search_hits['tiny']})"
        )
        machine["database"] = (
            f"PostgreSQL {database.version()}" if args.db == "postgres" else
            f"SQLite {database.version()}"
        )  # fmt: skip
        if database.server is not None:
            defines = {"nusers": sizes.users, "ntasks": sizes.tasks_per_user}
            for name in ("pgbench_get", "pgbench_list"):
                run.results.append(run_pgbench(database.server, name, defines, load, tmp))
                log(f"  {run.results[-1].rps:,.0f} tps, p50 {run.results[-1].p50_ms:.2f} ms")

        secret = secrets.token_urlsafe(36)  # 48 bytes
        env = service_env(database.url, secret)
        cursor = deep_cursor(info, secret)
        tokens: dict[int, str] = {}
        files: dict[str, Path] = {}
        ids = complete_ids(info)

        def reopen() -> None:
            database.reopen(ids)

        for workers in args.worker_counts:
            bare, bare_url = start_bare(workers, tmp)
            try:
                files.setdefault("bare", tmp / "bare.tsv").write_text(
                    _line("GET", "/", None) + "\n", encoding="utf-8"
                )
                run.scenario("bare", workers, bare_url, files["bare"])
            finally:
                bare.stop()
            log(f"starting taskapi serve --workers {workers}")
            service, url = start_service(workers, env, tmp)
            try:
                if not tokens:
                    everyone = [*info.users, info.big, info.tiny]
                    log(f"logging in {len(everyone)} users (Argon2id, a few seconds)")
                    tokens = asyncio.run(_login_all(url, everyone))
                    for name, lines in scenario_requests(
                        info, tokens, cursor, load.threads
                    ).items():
                        files[name] = tmp / f"{name}.tsv"
                        files[name].write_text("\n".join(lines) + "\n", encoding="utf-8")
                for name in args.scenario_list:
                    before = reopen if name == "complete" else None
                    try:
                        run.scenario(name, workers, url, files[name], before)
                    except (RuntimeError, subprocess.TimeoutExpired, httpx.HTTPError) as exc:
                        run.warnings.append(f"{name} ({workers_label(workers)}) failed: {exc}")
                        log(f"  failed: {exc}")
            finally:
                log(f"stopping taskapi serve --workers {workers}")
                service.stop()
        return run, info, machine
    finally:
        database.stop()


# --------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------


def _num(value: float) -> str:
    if value != value:  # NaN
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(results: Sequence[Result]) -> list[str]:
    bare = {r.workers: r.rps for r in results if r.scenario == "bare"}
    for result in results:
        if result.workers in bare and bare[result.workers] > 0:
            result.fraction = result.rps / bare[result.workers]
    order = ["bare", *SCENARIOS, "pgbench_get", "pgbench_list"]
    rows = sorted(results, key=lambda r: (order.index(r.scenario), r.workers))
    out = [
        "| scenario | workers | req/s | p50 ms | p99 ms | non-2xx | × bare |",
        "|---|---:|---:|---:|---:|---|---:|",
    ]
    for r in rows:
        fraction = f"{r.fraction:.2f}" if r.fraction is not None else "-"
        out.append(
            f"| {r.scenario} | {r.workers} | {_num(r.rps)} | {_num(r.p50_ms)} | "
            f"{_num(r.p99_ms)} | {r.non2xx_cell} | {fraction} |"
        )
    return out


def targets(results: Sequence[Result], worker_counts: Sequence[int]) -> list[str]:
    by = {(r.scenario, r.workers): r for r in results}
    counts = [str(n) for n in worker_counts]
    lines: list[str] = []

    def verdict(ok: bool, text: str) -> None:
        lines.append(f"{'PASS' if ok else 'FAIL'}  {text}")

    for name, floor in THROUGHPUT_TARGETS.items():
        got = [(n, by[(name, n)].rps) for n in counts if (name, n) in by]
        if got:
            best = max(rps for _, rps in got)
            detail = ", ".join(f"{n}w {rps:,.0f}" for n, rps in got)
            verdict(best >= floor, f"{name} ≥ {floor:,} req/s (best of): {detail}")
    reads = [by[(name, n)] for n in counts for name in READS if (name, n) in by]
    slow = sorted(
        (r for r in reads if not r.p99_ms <= READ_P99_MS),
        key=lambda r: -r.p99_ms if r.p99_ms == r.p99_ms else float("-inf"),
    )
    if reads:
        worst = ", ".join(f"{r.workers}w {r.scenario} {_num(r.p99_ms)}" for r in slow[:4])
        verdict(
            not slow,
            f"reads p99 ≤ {READ_P99_MS:.0f} ms: "
            + ("all" if not slow else f"{len(slow)}/{len(reads)} over, worst: {worst}"),
        )
    bad = [r for r in results if r.non2xx or r.errors]
    verdict(
        not bad,
        "zero non-2xx: "
        + (
            "none"
            if not bad
            else ", ".join(f"{r.scenario}/{r.workers}w {r.non2xx_cell}" for r in bad)
        ),
    )
    if "1" in counts and "2" in counts:
        ratios = [
            (name, by[(name, "2")].rps / by[(name, "1")].rps)
            for name in ["bare", *SCENARIOS]
            if (name, "1") in by and (name, "2") in by and by[(name, "1")].rps > 0
        ]
        if ratios:
            low = [f"{name} {ratio:.2f}" for name, ratio in ratios if ratio < SCALING]
            verdict(
                not low,
                f"2 workers ≥ {SCALING}× 1 worker: "
                + ("all" if not low else f"{len(low)}/{len(ratios)} below: " + ", ".join(low)),
            )
    parts, ok = [], True
    for n in counts:
        for big, small in BIG_VS_SMALL:
            if (big, n) in by and (small, n) in by and by[(small, n)].p50_ms > 0:
                ratio = by[(big, n)].p50_ms / by[(small, n)].p50_ms
                ok = ok and ratio <= BIG_FACTOR
                parts.append(f"{n}w {big} {ratio:.2f}×")
    if parts:
        verdict(ok, f"200k-user p50 ≤ {BIG_FACTOR}× the 100-task user's: " + ", ".join(parts))
    return lines


def git_commit() -> str:
    def git(*args: str) -> str:
        out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return out.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + (" (dirty)" if git("status", "--porcelain") else "")


def machine_facts(database: str, load: tuple[float, float]) -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    nproc = subprocess.run(["nproc"], capture_output=True, text=True, check=False).stdout.strip()
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    wrk_name = (wrk_version.stdout or wrk_version.stderr).split("[")[0].strip()
    return (
        f"{nproc} CPUs (`nproc`), {cpu}; Python {platform.python_version()}; {database}; "
        f"{wrk_name}; load generator, service and database on the same machine; load "
        f"average (1 min) {load[0]:.1f} at the start, {load[1]:.1f} at the end"
    )


def command_line(argv: Sequence[str]) -> str:
    python = Path(sys.executable)
    with contextlib.suppress(ValueError):
        python = python.relative_to(ROOT)
    direct = f"{python} -m bench.run" + (" " + shlex.join(argv) if argv else "")
    if "MAKELEVEL" in os.environ:
        args = os.environ.get("BENCH_ARGS", shlex.join(argv)).strip()
        return "`make bench" + (f' BENCH_ARGS="{args}"' if args else "") + f"` (`{direct}`)"
    return f"`{direct}`"


def report_section(
    args: argparse.Namespace,
    argv: Sequence[str],
    info: seeding.SeedInfo,
    machine: str,
    lines: Sequence[str],
    checks: Sequence[str],
    seconds: float,
    stamp: str,
    commit: str,
) -> str:
    sizes = info.sizes
    out = [
        f"## {stamp} — {args.db}, commit {commit}",
        "",
        f"- Command: {command_line(argv)}; {seconds / 60:.1f} minutes in all.",
        f"- Machine: {machine}.",
        f"- Seed ({info.seconds:.0f} s): {sizes.describe()}; "
        + ", ".join(f"{n:,} {t}" for t, n in info.rows.items())
        + f". Search word `{info.search_word}` ({info.search_hits['big']:,} of the big "
        f"user's tasks, {info.search_hits['tiny']} of the tiny user's); deep page from row "
        f"{info.deep_depth:,}; tag `{info.tag}`.",
        f"- Load: `wrk -t{args.threads} -c{args.connections} -d{args.duration}s --latency` "
        f"after a {warmup_seconds(args.duration)} s warm-up (none for login), per scenario "
        "and worker count; "
        f"pgbench `-c {args.connections} -j {args.threads} -T {args.duration} -M prepared`.",
        "",
        *lines,
        "",
        "Targets:",
        "",
        "```",
        *checks,
        "```",
        "",
    ]
    return "\n".join(out)


DOC_HEADER = (
    """# Performance

Figures of the load benchmark, newest last. Each section is appended by
`make bench` (`.venv/bin/python -m bench.run`, see [bench/run.py](../bench/run.py));
`make bench BENCH_ARGS="--db sqlite"` gives the embedded default's figures. Do not edit
the sections by hand: run the benchmark again.

How it measures: a throwaway PostgreSQL 15 with its durable settings (fsync,
synchronous_commit and full_page_writes on; `shared_buffers=512MB`), migrated and seeded
directly in SQL (`bench/seed.py`). The service runs as production would run it:
`taskapi serve --workers N` with `TASKAPI_ENV=production`, a 48-byte secret, a pool of
40 connections, rate limits on (in-process memory store) but far above the load, log
level warning; access tokens are taken through `POST /api/v1/auth/login` before the load
(with `TASKAPI_ACCESS_TOKEN_TTL=3600` so that they outlive the run). wrk drives one
scenario at a time at 32 connections, spreading requests over the regular users round
robin (`bench/scenarios/lines.lua`); the writes touch disjoint tasks, so no request
conflicts with another. wrk, the service and the database share the machine's cores,
so figures are comparable only between runs on an otherwise idle machine: each section
records the load average at its start and end.

Scenarios:

"""
    + "\n".join(f"- `{name}`: {text}." for name, text in {**SCENARIOS, **CEILINGS}.items())
    + """

*× bare* is the scenario's req/s as a fraction of the bare endpoint's with the same
worker count. p50 and p99 are wrk's latency percentiles (pgbench: per-transaction log).
Targets from the issue: get ≥ 2,000 req/s, list ≥ 1,500, create ≥ 1,000 (best worker
count); p99 ≤ 50 ms for every read at every worker count; no non-2xx answer; two workers
≥ 1.6× one worker in every scenario; the 200k-task user's first page, deep page and
search within 1.5× of the 100-task user's p50 (first page, first page, search).

"""
)


def record(section: str) -> None:
    DOC.parent.mkdir(parents=True, exist_ok=True)
    if not DOC.exists():
        DOC.write_text(DOC_HEADER, encoding="utf-8")
    with DOC.open("a", encoding="utf-8") as doc:
        # A blank line first: the section's heading must not run into the text above.
        doc.write("\n" + section)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("bench: wrk is not installed (apt-get install -y wrk; `make bench` does it)")
        return 2
    signal.signal(signal.SIGTERM, _interrupt)
    started = time.perf_counter()
    load_start = os.getloadavg()[0]
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    commit = git_commit()
    tmp = Path(tempfile.mkdtemp(prefix="taskapi-bench-"))
    try:
        run, info, facts = bench(args, tmp)
    except KeyboardInterrupt:
        log("interrupted; servers stopped")
        return 130
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    seconds = time.perf_counter() - started
    load = (load_start, os.getloadavg()[0])
    lines = table(run.results)
    checks = targets(run.results, args.worker_counts)
    print()
    print("\n".join(lines))
    print()
    print("\n".join(checks))
    for warning in run.warnings:
        print(f"warning: {warning}")
    print(
        f"\n{seconds / 60:.1f} minutes; {args.db}; commit {commit}; load average "
        f"{load[0]:.1f} at the start, {load[1]:.1f} at the end (nproc {os.cpu_count()})"
    )
    if not args.no_record:
        machine = machine_facts(facts.get("database", args.db), load)
        record(report_section(args, argv, info, machine, lines, checks, seconds, stamp, commit))
        log(f"appended to {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
