"""Throwaway PostgreSQL, PgBouncer and Redis servers for the test suite.

Plain functions and classes, no pytest fixtures: ``conftest.py`` decides
scope, skipping and failing.  Only the standard library is used, so this file
can also be run as a script (it is, by the watchdog described below).

Typical use::

    with start_postgres() as pg:            # raises ServerUnavailable if no binaries
        engine = create_async_engine(pg.url())
        ...
        pg.restart()                         # same data dir, same port

    with start_pgbouncer(pg) as pool:       # transaction mode, in front of pg
        engine = create_async_engine(pool.url(), ...)

    with start_redis() as rd:
        client = Redis.from_url(rd.url)

Every server runs in its own temporary directory (data, unix socket, logs), is
bound to 127.0.0.1 only, on a free port, and is stopped by the PID this module
started -- never by process name.  Leftovers are prevented twice over:

* an ``atexit`` hook stops every server still running when the interpreter
  exits normally (including after ``KeyboardInterrupt``);
* each server has a tiny watchdog process holding the read end of a pipe; if
  the test process dies without cleaning up (SIGKILL, segfault, CI timeout),
  the pipe reaches EOF and the watchdog stops the server and removes its
  directory.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

__all__ = [
    "PgBinaries",
    "PgBouncerServer",
    "PostgresServer",
    "PsqlError",
    "RedisServer",
    "ServerStartError",
    "ServerUnavailable",
    "ShutdownMode",
    "find_free_port",
    "find_pgbouncer",
    "find_postgres_binaries",
    "find_redis_server",
    "running_servers",
    "start_pgbouncer",
    "start_postgres",
    "start_redis",
    "stop_all",
]

HOST = "127.0.0.1"
PG_USER = "postgres"
DEFAULT_DBNAME = "taskapi_test"
LOG_TAIL_LINES = 40
# sun_path is 108 bytes on Linux; keep room for "/.s.PGSQL.NNNNN.lock".
_MAX_SOCKET_DIR_LEN = 80

ShutdownMode = Literal["smart", "fast", "immediate"]
_PG_SHUTDOWN_SIGNALS: dict[str, signal.Signals] = {
    "smart": signal.SIGTERM,
    "fast": signal.SIGINT,
    "immediate": signal.SIGQUIT,
}


class ServerUnavailable(RuntimeError):
    """The server software is not installed or cannot be run here."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ServerStartError(RuntimeError):
    """The server software exists but the server did not come up."""


class PsqlError(RuntimeError):
    """``PostgresServer.execute`` failed (psql exited non-zero)."""


class _PortInUse(Exception):
    """Internal: the server lost the race for its port; retry with another."""


# --------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------


def find_free_port(host: str = HOST) -> int:
    """Return a TCP port that was free on ``host`` a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f"<cannot read {path}: {exc}>"
    tail = text.splitlines()[-lines:]
    return "\n".join(f"    | {line}" for line in tail) if tail else "    | <empty>"


def _proc_identity(pid: int) -> str | None:
    """Start time of a live process (or "" where /proc is absent); None if it
    is gone or a zombie.  Comparing it guards against PID reuse."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        if Path("/proc/self/stat").exists():
            return None
        try:  # no procfs: best effort
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return ""
        return ""
    except OSError:
        return None
    fields = raw[raw.rfind(")") + 2 :].split()
    if not fields or fields[0] in ("Z", "X", "x"):
        return None
    return fields[19] if len(fields) > 19 else ""


def _proc_ppid(pid: int) -> int | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
        return int(raw[raw.rfind(")") + 2 :].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _signal_if_same(pid: int, identity: str | None, sig: int) -> bool:
    """Send ``sig`` to ``pid`` only if it is still the process we started."""
    if identity is None or _proc_identity(pid) != identity:
        return False
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return False
    return True


def _read_pidfile(path: Path) -> int | None:
    try:
        first = path.read_text(encoding="ascii", errors="replace").split("\n", 1)[0]
        return int(first.strip())
    except (OSError, ValueError):
        return None


def _clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment minus libpq/PostgreSQL variables that could redirect
    our commands to another server or data directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if extra:
        env.update(extra)
    return env


def _world_traversable(path: Path) -> bool:
    """Whether an unprivileged user (postgres) can reach inside ``path``."""
    for part in (path, *path.parents):
        try:
            mode = part.stat().st_mode
        except OSError:
            return False
        if not mode & stat.S_IXOTH:
            return False
    return True


def _make_base_dir(prefix: str, for_uid: int | None) -> Path:
    root = Path(tempfile.gettempdir()).resolve()
    if len(str(root)) > _MAX_SOCKET_DIR_LEN - 20 or (
        for_uid is not None and not _world_traversable(root)
    ):
        root = Path("/tmp")
    base = Path(tempfile.mkdtemp(prefix=prefix, dir=root))
    if for_uid is not None:
        pw = pwd.getpwuid(for_uid)
        os.chown(base, pw.pw_uid, pw.pw_gid)
    return base


# --------------------------------------------------------------------------
# watchdog: stops a server if the owning (test) process dies uncleanly
# --------------------------------------------------------------------------


def _watchdog_main(argv: Sequence[str]) -> int:
    """``python servers.py --watchdog LEADER IDENTITY PIDFILE SIG GRACE DIR``.

    Blocks on stdin.  The owner writes a byte before closing to disarm; a bare
    EOF means the owner died: stop the server, then remove its directory.
    """
    leader, identity, pidfile, sig, grace, directory = argv
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    if sys.stdin.buffer.read():
        return 0
    leader_pid = int(leader)  # 0: no process yet, only the directory
    if leader_pid > 0 and _proc_identity(leader_pid) == identity:
        target, target_id = leader_pid, identity
        if pidfile:
            pm_pid = _read_pidfile(Path(pidfile))
            if pm_pid is not None and _proc_ppid(pm_pid) == leader_pid:
                pm_id = _proc_identity(pm_pid)
                if pm_id is not None:
                    target, target_id = pm_pid, pm_id
        _signal_if_same(target, target_id, int(sig))
        deadline = time.monotonic() + float(grace)
        while time.monotonic() < deadline:
            if _proc_identity(leader_pid) != identity:
                break
            time.sleep(0.1)
        else:
            _signal_if_same(target, target_id, signal.SIGKILL)
            if _proc_identity(leader_pid) == identity:
                with contextlib.suppress(OSError):
                    os.killpg(leader_pid, signal.SIGKILL)
            time.sleep(0.5)
    # Retry: a process that was just killed may still be writing or
    # removing files in there.
    for _ in range(20):
        if not directory or not Path(directory).exists():
            break
        shutil.rmtree(directory, ignore_errors=True)
        time.sleep(0.25)
    return 0


class _Watchdog:
    def __init__(
        self,
        leader_pid: int | None,
        pidfile: Path | None,
        sig: int,
        grace: float,
        directory: Path,
    ) -> None:
        identity = "" if leader_pid is None else _proc_identity(leader_pid)
        self._proc: subprocess.Popen[bytes] | None = None
        if identity is None:  # already gone: nothing to guard
            return
        self._proc = subprocess.Popen(
            [
                sys.executable,
                "-I",
                str(Path(__file__).resolve()),
                "--watchdog",
                str(leader_pid or 0),
                identity,
                str(pidfile or ""),
                str(sig),
                str(grace),
                str(directory),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            cwd="/",
        )

    def disarm(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        assert proc.stdin is not None
        with contextlib.suppress(OSError):
            proc.stdin.write(b"x")
        with contextlib.suppress(OSError):
            proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --------------------------------------------------------------------------
# common server plumbing
# --------------------------------------------------------------------------

_registry_lock = threading.Lock()
_registry: dict[int, _ManagedServer] = {}


def running_servers() -> list[_ManagedServer]:
    """Servers started by this process and not yet stopped."""
    with _registry_lock:
        return list(_registry.values())


def stop_all() -> None:
    """Stop every server this process started (registered with ``atexit``)."""
    for server in running_servers():
        if server._owner_pid != os.getpid():  # a forked child: not ours to stop
            continue
        with contextlib.suppress(Exception):
            server.stop()


atexit.register(stop_all)


class _ManagedServer:
    """Process handling shared by PostgreSQL, PgBouncer and Redis."""

    _kind = "server"
    _log_name = "server.log"

    def __init__(self, *, start_timeout: float, stop_timeout: float) -> None:
        self.host = HOST
        self.port = 0
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self._lock = threading.RLock()
        self._owner_pid = os.getpid()
        self._base_dir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._server_pid: int | None = None
        self._server_identity: str | None = None
        self._watchdog: _Watchdog | None = None
        self._stopped = False
        # A command prefix such as runuser (initdb refuses root); empty: run as we are.
        self._run_as: list[str] = []

    # -- public ---------------------------------------------------------

    @property
    def base_dir(self) -> Path:
        """The temporary directory holding data, socket and logs."""
        if self._base_dir is None:
            raise RuntimeError(f"{self._kind} has not been started")
        return self._base_dir

    @property
    def log_path(self) -> Path:
        return self.base_dir / self._log_name

    @property
    def pid(self) -> int:
        """PID of the server process itself (the postmaster for PostgreSQL)."""
        if self._server_pid is None or not self.is_running:
            raise RuntimeError(f"{self._kind} is not running")
        return self._server_pid

    @property
    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return _log_tail(self.log_path, lines)

    def stop(self) -> None:
        """Stop the server (if running) and delete its directory.  Idempotent."""
        with self._lock:
            try:
                self._shutdown(self._default_stop_signal(), self.stop_timeout)
            finally:
                if self._base_dir is not None:
                    shutil.rmtree(self._base_dir, ignore_errors=True)
                self._stopped = True
                self._unregister()

    def __enter__(self) -> Self:
        if self._proc is None and not self._stopped:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> Self:  # pragma: no cover - overridden
        raise NotImplementedError

    def stop_server_only(self) -> None:
        """Stop the server but keep its directory and port (``start_again`` resumes)."""
        self._stop_server(signal.SIGTERM)

    def start_again(self) -> None:
        """Start the stopped server on the same directory and port."""
        with self._lock:
            if self._stopped or self._base_dir is None:
                raise RuntimeError("server was stopped for good (or never started)")
            if self.is_running:
                raise RuntimeError("server is already running")
            try:
                self._start_and_wait()
            except _PortInUse:
                raise self._abort_start(
                    f"port {self.port} was taken while {self._kind} was stopped"
                ) from None

    def restart(self) -> None:
        self.stop_server_only()
        self.start_again()

    # -- internals ------------------------------------------------------

    def _start_and_wait(self) -> None:  # pragma: no cover - overridden
        """Start the process on ``self.port``; raise ``_PortInUse`` if it is taken."""
        raise NotImplementedError

    def _start_on_a_free_port(self, prepare: Callable[[], None] | None = None) -> None:
        """Start on a free port; another process may take it first, so try three times.
        ``prepare`` runs once the port is chosen (e.g. to write a config file)."""
        attempts = 3
        for attempt in range(1, attempts + 1):
            self.port = find_free_port(self.host)
            if prepare is not None:
                prepare()
            try:
                self._start_and_wait()
                return
            except _PortInUse:
                if attempt == attempts:
                    raise self._abort_start(
                        f"{self._kind} found no free port in {attempts} tries"
                    ) from None

    def _spawn_and_wait(
        self,
        cmd: Sequence[str],
        env: Mapping[str, str],
        *,
        port_markers: Sequence[str],
        ready: Callable[[], bool],
        waiting_for: str = "accept connections",
        poll_seconds: float = 0.1,
    ) -> None:
        """Start the process and poll ``ready`` until it is, it dies or time runs out."""
        log_size = self.log_path.stat().st_size if self.log_path.exists() else 0
        self._spawn(cmd, env)
        deadline = time.monotonic() + self.start_timeout
        while True:
            self._check_early_exit(log_size, port_markers)
            if ready():
                break
            if time.monotonic() > deadline:
                raise self._abort_start(
                    f"{self._kind} did not {waiting_for} on {self.host}:{self.port} "
                    f"within {self.start_timeout:.0f}s"
                )
            time.sleep(poll_seconds)
        self._refresh_server_pid()

    def _stop_server(self, sig: int) -> None:
        with self._lock:
            self._shutdown(sig, self.stop_timeout)
            self._arm_watchdog()  # guard the kept directory

    def _default_stop_signal(self) -> int:
        return signal.SIGTERM

    def _escalation_signal(self) -> int | None:
        """Signal between the polite one and SIGKILL (None: go to SIGKILL)."""
        return None

    def _pidfile(self) -> Path | None:
        return None

    def _refresh_server_pid(self) -> None:
        """Under runuser our child is only the wrapper and the server is its child:
        take the server's PID from its pidfile."""
        proc, pidfile = self._proc, self._pidfile()
        if proc is None or pidfile is None or self._server_pid != proc.pid or not self._run_as:
            return
        pid = _read_pidfile(pidfile)
        if pid is not None and _proc_ppid(pid) == proc.pid:
            self._server_pid, self._server_identity = pid, _proc_identity(pid)

    def _check_early_exit(self, log_size: int, port_markers: Sequence[str]) -> None:
        """Raise if the server process died while we waited for it."""
        assert self._proc is not None
        code = self._proc.poll()
        if code is None:
            return
        self._proc = None
        self._arm_watchdog()  # directory-only until the next attempt
        new_log = self.log_path.read_bytes()[log_size:].decode(errors="replace")
        if any(marker in new_log for marker in port_markers):
            raise _PortInUse
        raise self._abort_start(f"{self._kind} exited during start-up (exit {code})")

    def _register(self) -> None:
        with _registry_lock:
            _registry[id(self)] = self

    def _unregister(self) -> None:
        with _registry_lock:
            _registry.pop(id(self), None)

    def _spawn(self, cmd: Sequence[str], env: Mapping[str, str]) -> None:
        with self.log_path.open("ab") as log:
            stamp = time.strftime("%H:%M:%S")
            log.write(f"\n=== {stamp} starting: {' '.join(cmd)}\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                list(cmd),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.base_dir,
                env=dict(env),
                # Own process group: a Ctrl-C in the terminal must not reach
                # the server (atexit stops it properly instead).
                start_new_session=True,
            )
        self._server_pid = self._proc.pid
        self._server_identity = _proc_identity(self._proc.pid)
        self._register()
        self._arm_watchdog()

    def _arm_watchdog(self) -> None:
        """(Re)start the watchdog for the current process, or for the
        directory alone while no server process is running."""
        self._disarm_watchdog()
        running = self._proc is not None and self._proc.poll() is None
        self._watchdog = _Watchdog(
            self._proc.pid if running and self._proc is not None else None,
            self._pidfile(),
            self._default_stop_signal(),
            self.stop_timeout,
            self.base_dir,
        )

    def _disarm_watchdog(self) -> None:
        wd, self._watchdog = self._watchdog, None
        if wd is not None:
            wd.disarm()

    def _wait_exit(self, timeout: float) -> bool:
        assert self._proc is not None
        try:
            self._proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def _shutdown(self, sig: int, timeout: float) -> None:
        """Signal the server by PID, wait, escalate; reap our child."""
        self._disarm_watchdog()
        self._refresh_server_pid()
        proc = self._proc
        if proc is None:
            return
        try:
            if proc.poll() is not None:
                return
            pid, ident = self._server_pid, self._server_identity
            if pid is not None:
                _signal_if_same(pid, ident, sig)
            if self._wait_exit(timeout):
                return
            escalation = self._escalation_signal()
            if escalation is not None and pid is not None:
                _signal_if_same(pid, ident, escalation)
                if self._wait_exit(5.0):
                    return
            if pid is not None:
                _signal_if_same(pid, ident, signal.SIGKILL)
            if proc.poll() is None:
                # Our child is unreaped, so its process group id is still ours.
                with contextlib.suppress(OSError):
                    os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            self._proc = None
            self._server_pid = None
            self._server_identity = None

    def _abort_start(self, message: str) -> ServerStartError:
        """Tear down after a failed start; return the error to raise."""
        tail = self.log_tail()
        try:
            self.stop()
        except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
            message += f"\n(cleanup also failed: {exc!r})"
        return ServerStartError(f"{message}\n--- {self._log_name} (tail) ---\n{tail}")


# --------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class PgBinaries:
    bindir: Path
    initdb: Path
    postgres: Path
    psql: Path
    pg_isready: Path | None

    @property
    def version(self) -> str:
        out = subprocess.run(
            [str(self.postgres), "--version"],
            capture_output=True,
            text=True,
            check=False,
        )
        return out.stdout.strip()


def _version_key(path: Path) -> tuple[int, ...]:
    nums = re.findall(r"\d+", path.parent.name)
    return tuple(int(n) for n in nums)


def _binaries_in(bindir: Path) -> PgBinaries | None:
    initdb, postgres = bindir / "initdb", bindir / "postgres"
    if not (os.access(initdb, os.X_OK) and os.access(postgres, os.X_OK)):
        return None
    psql = bindir / "psql"
    if not os.access(psql, os.X_OK):
        found = shutil.which("psql")
        if found is None:
            return None
        psql = Path(found)
    isready: Path | None = bindir / "pg_isready"
    if not os.access(str(isready), os.X_OK):
        found = shutil.which("pg_isready")
        isready = Path(found) if found else None
    return PgBinaries(bindir, initdb, postgres, psql, isready)


def find_postgres_binaries(bindir: str | Path | None = None) -> PgBinaries:
    """Locate initdb/postgres/psql.

    Order: ``bindir`` argument, ``$TASKAPI_PG_BINDIR``, ``pg_config --bindir``,
    newest ``/usr/lib/postgresql/*/bin``, ``initdb`` on PATH.  Raises
    :class:`ServerUnavailable` if none has a usable set.
    """
    tried: list[str] = []
    explicit = bindir or os.environ.get("TASKAPI_PG_BINDIR")
    if explicit:
        found = _binaries_in(Path(explicit))
        if found is None:
            raise ServerUnavailable(f"no initdb/postgres/psql in {explicit}")
        return found
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if out.returncode == 0 and out.stdout.strip():
            candidates.append(Path(out.stdout.strip()))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates += [Path(initdb).resolve().parent, Path(initdb).parent]
    for cand in candidates:
        tried.append(str(cand))
        found = _binaries_in(cand)
        if found is not None:
            return found
    raise ServerUnavailable(
        "PostgreSQL server binaries (initdb, postgres, psql) not found; looked in: "
        + (", ".join(tried) or "pg_config, /usr/lib/postgresql/*/bin, PATH")
        + ". Install Debian's 'postgresql' package or set TASKAPI_PG_BINDIR."
    )


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class PostgresServer(_ManagedServer):
    """A private PostgreSQL cluster in a temporary directory.

    ``fast=True`` turns off fsync, synchronous_commit and full_page_writes
    (fine for tests: the data is thrown away); ``fast=False`` keeps
    PostgreSQL's durable defaults, e.g. for benchmarks.
    """

    _kind = "PostgreSQL"
    _log_name = "postgres.log"

    def __init__(
        self,
        *,
        fast: bool = True,
        dbname: str = DEFAULT_DBNAME,
        max_connections: int = 200,
        settings: Mapping[str, str] | None = None,
        bindir: str | Path | None = None,
        start_timeout: float = 30.0,
        stop_timeout: float = 30.0,
    ) -> None:
        super().__init__(start_timeout=start_timeout, stop_timeout=stop_timeout)
        self.user = PG_USER
        self.dbname = dbname
        self.fast = fast
        self.max_connections = max_connections
        self.extra_settings = dict(settings or {})
        self._bindir = bindir
        self._bins: PgBinaries | None = None
        self._run_as_uid: int | None = None

    # -- public ---------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.base_dir

    def url(self, driver: str | None = "asyncpg", dbname: str | None = None) -> str:
        """SQLAlchemy URL, e.g. ``postgresql+asyncpg://postgres@127.0.0.1:PORT/taskapi_test``.

        ``driver=None`` gives a plain libpq/asyncpg DSN (``postgresql://...``).
        """
        scheme = f"postgresql+{driver}" if driver else "postgresql"
        return f"{scheme}://{self.user}@{self.host}:{self.port}/{dbname or self.dbname}"

    @property
    def dsn(self) -> str:
        """Plain DSN for ``asyncpg.connect`` / psql."""
        return self.url(driver=None)

    def start(self) -> Self:
        """initdb, start, wait for connections, create ``dbname``."""
        with self._lock:
            if self._proc is not None or self._stopped:
                raise RuntimeError("start() may be called once; use restart()/start_again()")
            self._bins = find_postgres_binaries(self._bindir)
            self._prepare_user()
            self._base_dir = _make_base_dir("taskapi-pg-", self._run_as_uid)
            self._register()  # so atexit removes the dir even if initdb fails
            self._arm_watchdog()
            self._initdb()
            self._start_on_a_free_port()
            try:
                self.execute(f"CREATE DATABASE {_quote_ident(self.dbname)}", dbname="postgres")
            except (PsqlError, subprocess.TimeoutExpired) as exc:
                raise self._abort_start(f"could not create database: {exc}") from None
            return self

    def stop_server_only(self, mode: ShutdownMode = "fast") -> None:
        """Shut PostgreSQL down but keep the data directory and port.

        ``fast`` (SIGINT) disconnects clients, ``smart`` (SIGTERM) waits for
        them, ``immediate`` (SIGQUIT) is crash-like (recovery on next start).
        """
        self._stop_server(_PG_SHUTDOWN_SIGNALS[mode])

    def restart(self, mode: ShutdownMode = "fast") -> None:
        self.stop_server_only(mode)
        self.start_again()

    def execute(self, sql: str, dbname: str | None = None) -> str:
        """Run SQL through psql over TCP; return its unaligned output."""
        assert self._bins is not None
        cmd = [
            str(self._bins.psql), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
            "-h", self.host, "-p", str(self.port), "-U", self.user,
            "-d", dbname or self.dbname, "-c", sql,
        ]  # fmt: skip
        out = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            env=_clean_env({"PGCONNECT_TIMEOUT": "5"}),
            timeout=60,
            check=False,
        )
        if out.returncode != 0:
            raise PsqlError(f"psql failed ({out.returncode}) on {sql!r}: {out.stderr.strip()}")
        return out.stdout.strip()

    def create_database(self, name: str, template: str | None = None) -> None:
        sql = f"CREATE DATABASE {_quote_ident(name)}"
        if template:
            sql += f" TEMPLATE {_quote_ident(template)}"
        self.execute(sql, dbname="postgres")

    # -- internals ------------------------------------------------------

    def _default_stop_signal(self) -> int:
        return signal.SIGINT  # fast shutdown

    def _escalation_signal(self) -> int | None:
        return signal.SIGQUIT  # immediate shutdown, postmaster kills backends

    def _pidfile(self) -> Path | None:
        return self.data_dir / "postmaster.pid"

    def _prepare_user(self) -> None:
        if os.geteuid() != 0:
            self._run_as, self._run_as_uid = [], None
            return
        # initdb and postgres refuse to run as root.
        try:
            uid = pwd.getpwnam(PG_USER).pw_uid
        except KeyError:
            raise ServerUnavailable(
                "running as root and there is no 'postgres' user to run PostgreSQL as"
            ) from None
        runuser = shutil.which("runuser")
        if runuser is None:
            raise ServerUnavailable("running as root and 'runuser' is not available")
        self._run_as, self._run_as_uid = [runuser, "-u", PG_USER, "--"], uid

    def _initdb(self) -> None:
        assert self._bins is not None
        log = self.base_dir / "initdb.log"
        cmd = [
            *self._run_as, str(self._bins.initdb), "-D", str(self.data_dir),
            "-U", self.user, "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8",
            "--no-sync", "--no-instructions",
        ]  # fmt: skip
        with log.open("wb") as fh:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=fh,
                stderr=subprocess.STDOUT,
                cwd=self.base_dir,
                env=_clean_env(),
                start_new_session=True,
            )
        # Guard initdb too: if we die now, it is killed and the dir removed.
        self._disarm_watchdog()
        self._watchdog = _Watchdog(proc.pid, None, signal.SIGTERM, 5.0, self.base_dir)
        try:
            rc = proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, signal.SIGKILL)
            rc = proc.wait()
        finally:
            self._arm_watchdog()
        if rc != 0:
            tail = _log_tail(log)
            self.stop()
            raise ServerStartError(f"initdb failed (exit {rc}): {' '.join(cmd)}\n{tail}")

    def _server_cmd(self) -> list[str]:
        assert self._bins is not None
        settings: dict[str, str] = {
            "listen_addresses": self.host,
            "port": str(self.port),
            "unix_socket_directories": str(self.socket_dir),
            "max_connections": str(self.max_connections),
            "logging_collector": "off",
            "fsync": "off" if self.fast else "on",
            "synchronous_commit": "off" if self.fast else "on",
            "full_page_writes": "off" if self.fast else "on",
        }
        settings.update(self.extra_settings)
        cmd = [*self._run_as, str(self._bins.postgres), "-D", str(self.data_dir)]
        for key, value in settings.items():
            cmd += ["-c", f"{key}={value}"]
        return cmd

    def _start_and_wait(self) -> None:
        assert self._bins is not None
        self._spawn_and_wait(
            self._server_cmd(),
            _clean_env(),
            port_markers=("could not bind", "Address already in use"),
            ready=self._accepting,
        )

    def _accepting(self) -> bool:
        assert self._bins is not None
        env = _clean_env({"PGCONNECT_TIMEOUT": "2"})
        if self._bins.pg_isready is not None:
            isready = [
                str(self._bins.pg_isready), "-q", "-h", self.host, "-p", str(self.port),
                "-U", self.user, "-d", "postgres", "-t", "2",
            ]  # fmt: skip
            if subprocess.run(isready, env=env, check=False, timeout=10).returncode != 0:
                return False
        try:
            self.execute("SELECT 1", dbname="postgres")
        except (PsqlError, subprocess.TimeoutExpired):
            return False
        return True


def start_postgres(
    *,
    fast: bool = True,
    dbname: str = DEFAULT_DBNAME,
    max_connections: int = 200,
    settings: Mapping[str, str] | None = None,
    bindir: str | Path | None = None,
    start_timeout: float = 30.0,
) -> PostgresServer:
    """Create and start a :class:`PostgresServer` (raises ServerUnavailable)."""
    return PostgresServer(
        fast=fast,
        dbname=dbname,
        max_connections=max_connections,
        settings=settings,
        bindir=bindir,
        start_timeout=start_timeout,
    ).start()


# --------------------------------------------------------------------------
# Redis
# --------------------------------------------------------------------------


def find_redis_server() -> Path:
    found = shutil.which("redis-server")
    if found is None:
        raise ServerUnavailable(
            "redis-server not found on PATH; install Debian's 'redis-server' package"
        )
    return Path(found)


def _redis_ping(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer(_ManagedServer):
    """A private, non-persistent redis-server on 127.0.0.1."""

    _kind = "Redis"
    _log_name = "redis.log"

    def __init__(self, *, start_timeout: float = 30.0, stop_timeout: float = 15.0) -> None:
        super().__init__(start_timeout=start_timeout, stop_timeout=stop_timeout)
        self._binary: Path | None = None

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def ping(self) -> bool:
        return _redis_ping(self.host, self.port)

    def start(self) -> Self:
        with self._lock:
            if self._proc is not None or self._stopped:
                raise RuntimeError("start() may be called once; use restart()/start_again()")
            self._binary = find_redis_server()
            self._base_dir = _make_base_dir("taskapi-redis-", None)
            self._register()
            self._arm_watchdog()
            self._start_on_a_free_port()
            return self

    def _start_and_wait(self) -> None:
        assert self._binary is not None
        cmd = [
            str(self._binary), "--port", str(self.port), "--bind", self.host,
            "--save", "", "--appendonly", "no", "--daemonize", "no",
            "--dir", str(self.base_dir),
        ]  # fmt: skip
        self._spawn_and_wait(
            cmd,
            os.environ,
            port_markers=("Address already in use", "already in use"),
            ready=self.ping,
            waiting_for="answer PING",
            poll_seconds=0.05,
        )


def start_redis(*, start_timeout: float = 30.0) -> RedisServer:
    """Create and start a :class:`RedisServer` (raises ServerUnavailable)."""
    return RedisServer(start_timeout=start_timeout).start()


# --------------------------------------------------------------------------
# PgBouncer (in front of a PostgresServer)
# --------------------------------------------------------------------------

PGBOUNCER_USER = "postgres"  # Debian's pgbouncer refuses to run as root


def find_pgbouncer() -> Path:
    """Locate the ``pgbouncer`` binary (Debian puts it in /usr/sbin, off a user's PATH)."""
    explicit = os.environ.get("TASKAPI_PGBOUNCER")
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise ServerUnavailable(f"TASKAPI_PGBOUNCER={explicit} is not an executable")
        return Path(explicit)
    found = shutil.which("pgbouncer")
    if found:
        return Path(found)
    for candidate in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer", "/usr/local/bin/pgbouncer"):
        if os.access(candidate, os.X_OK):
            return Path(candidate)
    raise ServerUnavailable(
        "pgbouncer not found (PATH, /usr/sbin); install Debian's 'pgbouncer' package "
        "or set TASKAPI_PGBOUNCER"
    )


def _ini_value(value: str) -> str:
    if any(ch in value for ch in "\n\r;#"):
        raise ValueError(f"unsafe pgbouncer.ini value: {value!r}")
    return value


class PgBouncerServer(_ManagedServer):
    """A private PgBouncer on 127.0.0.1 in front of one :class:`PostgresServer`.

    Every database name is forwarded to the same name upstream (``* =`` entry), as
    user ``postgres``; clients authenticate with ``auth_type = trust`` (loopback
    only).  ``server_round_robin = 1`` hands transactions to the server connections
    in turn, so state that wrongly outlives a transaction (named prepared
    statements, SET) shows up as errors instead of hiding behind one reused
    connection.
    """

    _kind = "PgBouncer"
    _log_name = "pgbouncer.log"

    def __init__(
        self,
        upstream: PostgresServer,
        *,
        pool_mode: Literal["session", "transaction", "statement"] = "transaction",
        default_pool_size: int = 4,
        max_client_conn: int = 200,
        settings: Mapping[str, str] | None = None,
        start_timeout: float = 30.0,
        stop_timeout: float = 15.0,
    ) -> None:
        super().__init__(start_timeout=start_timeout, stop_timeout=stop_timeout)
        if default_pool_size < 1:
            raise ValueError("default_pool_size must be at least 1")
        self.upstream = upstream
        self.user = upstream.user
        self.pool_mode = pool_mode
        self.default_pool_size = default_pool_size
        self.max_client_conn = max_client_conn
        self.extra_settings = dict(settings or {})
        self._binary: Path | None = None
        self._run_as_uid: int | None = None

    # -- public ---------------------------------------------------------

    @property
    def config_path(self) -> Path:
        return self.base_dir / "pgbouncer.ini"

    @property
    def auth_file(self) -> Path:
        return self.base_dir / "userlist.txt"

    def url(self, driver: str | None = "asyncpg", dbname: str | None = None) -> str:
        """SQLAlchemy URL through the pooler (``driver=None``: a plain DSN)."""
        scheme = f"postgresql+{driver}" if driver else "postgresql"
        db = dbname or self.upstream.dbname
        return f"{scheme}://{self.user}@{self.host}:{self.port}/{db}"

    @property
    def dsn(self) -> str:
        return self.url(driver=None)

    def execute(self, sql: str, dbname: str | None = None) -> str:
        """Run SQL through the pooler with the upstream's psql."""
        bins = self.upstream._bins
        assert bins is not None
        cmd = [
            str(bins.psql), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
            "-h", self.host, "-p", str(self.port), "-U", self.user,
            "-d", dbname or self.upstream.dbname, "-c", sql,
        ]  # fmt: skip
        out = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            env=_clean_env({"PGCONNECT_TIMEOUT": "5"}),
            timeout=60,
            check=False,
        )
        if out.returncode != 0:
            raise PsqlError(f"psql failed ({out.returncode}) on {sql!r}: {out.stderr.strip()}")
        return out.stdout.strip()

    def start(self) -> Self:
        with self._lock:
            if self._proc is not None or self._stopped:
                raise RuntimeError("start() may be called once; use restart()/start_again()")
            if not self.upstream.is_running:
                raise RuntimeError("the upstream PostgreSQL server is not running")
            self._binary = find_pgbouncer()
            self._prepare_user()
            self._base_dir = _make_base_dir("taskapi-pgb-", self._run_as_uid)
            self._register()
            self._arm_watchdog()
            self.auth_file.write_text(f'"{self.user}" ""\n', encoding="utf-8")
            self._start_on_a_free_port(prepare=self._write_config)
            return self

    # -- internals ------------------------------------------------------

    def _default_stop_signal(self) -> int:
        return signal.SIGTERM  # immediate shutdown (SIGINT would wait for clients)

    def _pidfile(self) -> Path | None:
        return self.base_dir / "pgbouncer.pid"

    def _prepare_user(self) -> None:
        if os.geteuid() != 0:
            self._run_as, self._run_as_uid = [], None
            return
        try:
            uid = pwd.getpwnam(PGBOUNCER_USER).pw_uid
        except KeyError:
            raise ServerUnavailable(
                f"running as root and there is no '{PGBOUNCER_USER}' user to run PgBouncer as"
            ) from None
        runuser = shutil.which("runuser")
        if runuser is None:
            raise ServerUnavailable("running as root and 'runuser' is not available")
        self._run_as, self._run_as_uid = [runuser, "-u", PGBOUNCER_USER, "--"], uid

    def _write_config(self) -> None:
        upstream = self.upstream
        settings: dict[str, str] = {
            "listen_addr": self.host,
            "listen_port": str(self.port),
            "unix_socket_dir": "",
            "auth_type": "trust",
            "auth_file": str(self.auth_file),
            "pidfile": str(self._pidfile()),
            "logfile": "",  # stderr, which _spawn sends to pgbouncer.log
            "pool_mode": self.pool_mode,
            "default_pool_size": str(self.default_pool_size),
            "max_client_conn": str(self.max_client_conn),
            "server_round_robin": "1",
            "server_login_retry": "1",
            "server_connect_timeout": "5",
            "log_connections": "0",
            "log_disconnections": "0",
            "admin_users": self.user,
        }
        settings.update(self.extra_settings)
        lines = [
            "[databases]",
            f"* = host={upstream.host} port={upstream.port} user={upstream.user}",
            "",
            "[pgbouncer]",
            *(f"{key} = {_ini_value(value)}" for key, value in settings.items()),
        ]
        self.config_path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def _start_and_wait(self) -> None:
        assert self._binary is not None
        self._spawn_and_wait(
            [*self._run_as, str(self._binary), str(self.config_path)],
            _clean_env(),
            port_markers=("Address already in use", "bind(): "),
            ready=self._accepting,
        )

    def _accepting(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=1.0):
                pass
        except OSError:
            return False
        if not self.upstream.is_running:
            return True  # listening is all we can check
        try:
            self.execute("SELECT 1")
        except (PsqlError, subprocess.TimeoutExpired):
            return False
        return True


def start_pgbouncer(
    upstream: PostgresServer,
    pool_mode: Literal["session", "transaction", "statement"] = "transaction",
    *,
    default_pool_size: int = 4,
    max_client_conn: int = 200,
    settings: Mapping[str, str] | None = None,
    start_timeout: float = 30.0,
) -> PgBouncerServer:
    """Create and start a :class:`PgBouncerServer` (raises ServerUnavailable)."""
    return PgBouncerServer(
        upstream,
        pool_mode=pool_mode,
        default_pool_size=default_pool_size,
        max_client_conn=max_client_conn,
        settings=settings,
        start_timeout=start_timeout,
    ).start()


if __name__ == "__main__" and sys.argv[1:2] == ["--watchdog"]:
    sys.exit(_watchdog_main(sys.argv[2:]))
