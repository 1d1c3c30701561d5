"""A real Better Auth server (Node) for interop tests, and a tiny client for it.

Plain functions and classes, no pytest fixtures: ``conftest.py`` decides scope,
skipping and failing.  The Node program lives in ``tests/interop/better-auth/``
(``server.mjs``, with ``better-auth`` pinned in ``package-lock.json``).

Typical use::

    reason = npm_available()            # None, or why Node/npm cannot be used
    ensure_installed()                  # ``npm ci`` when node_modules is stale
    with start_better_auth(JWT_EXPIRATION="3s") as ba:
        alice = sign_up(ba, "alice@example.com", "correct horse battery", "Alice")
        token = get_jwt(ba, alice)      # EdDSA JWT; keys at ba.jwks_url
        keys = jwks(ba)

Each server listens on 127.0.0.1 on a free port, keeps everything in memory
(a restart forgets all users and mints new keys) and is stopped by the PID this
module started -- never by process name.  Leftovers are prevented twice over:
an ``atexit`` hook stops every server still running, and the server exits by
itself when its stdin (a pipe held by this process) reaches EOF, which also
covers a test process killed with SIGKILL.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import fcntl
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypedDict

import httpx

from tests.servers import find_free_port

__all__ = [
    "BETTER_AUTH_DIR",
    "SESSION_COOKIE",
    "BetterAuthError",
    "BetterAuthServer",
    "BetterAuthStartError",
    "Session",
    "StartBetterAuth",
    "ensure_installed",
    "get_jwt",
    "jwks",
    "npm_available",
    "running_servers",
    "sign_in",
    "sign_up",
    "start_better_auth",
    "stop_all",
]

HOST = "127.0.0.1"
BETTER_AUTH_DIR = Path(__file__).resolve().parent / "better-auth"
SESSION_COOKIE = "better-auth.session_token"
API_PREFIX = "/api/auth"
MIN_NODE_MAJOR = 20
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
INSTALL_TIMEOUT = 300.0
HTTP_TIMEOUT = 15.0
_STDERR_TAIL_LINES = 40
_INSTALL_STAMP = ".taskapi-rig-installed"
_PORT_RETRIES = 3
# Variables server.mjs reads: never inherited from the caller's environment.
_RIG_VARIABLES = frozenset(
    {
        "PORT",
        "BETTER_AUTH_SECRET",
        "BETTER_AUTH_URL",
        "BETTER_AUTH_TELEMETRY",
        "JWT_ISSUER",
        "JWT_AUDIENCE",
        "JWT_EXPIRATION",
        "JWT_ALG",
        "JWKS_ROTATION_INTERVAL",
        "JWKS_GRACE_PERIOD",
        "EXIT_ON_STDIN_CLOSE",
        "NODE_ENV",
        "NODE_OPTIONS",
    }
)
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


class BetterAuthStartError(RuntimeError):
    """Installing or starting the Better Auth server failed."""


class BetterAuthError(RuntimeError):
    """Better Auth answered a request with an unexpected status."""

    def __init__(self, method: str, url: str, status: int, body: str) -> None:
        super().__init__(f"{method} {url} -> {status}: {body[:500]}")
        self.status = status
        self.body = body


class Session(TypedDict):
    """What sign-up / sign-in return.

    ``cookie`` is the ``better-auth.session_token=<value>`` pair exactly as the
    server sent it (value still URL-encoded), ready for a ``Cookie`` header.
    """

    cookie: str
    token: str
    user: dict[str, Any]


# --------------------------------------------------------------------------
# Node / npm
# --------------------------------------------------------------------------


def npm_available() -> str | None:
    """``None`` if Node (>= 20) and npm can run the rig, else the reason why not."""
    node = shutil.which("node")
    npm = shutil.which("npm")
    missing = [name for name, path in (("node", node), ("npm", npm)) if path is None]
    if missing:
        return f"{' and '.join(missing)} not found on PATH (Node >= {MIN_NODE_MAJOR} needed)"
    assert node is not None
    try:
        out = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        return f"cannot run {node} --version: {exc}"
    match = re.match(r"v(\d+)\.", out)
    if match is None:
        return f"unrecognised node version {out!r}"
    if int(match.group(1)) < MIN_NODE_MAJOR:
        return f"node {out} is too old (>= {MIN_NODE_MAJOR} needed)"
    return None


def _tail(text: str, lines: int = _STDERR_TAIL_LINES) -> str:
    kept = [line for line in text.splitlines() if line.strip()][-lines:]
    return "\n".join(f"    | {line}" for line in kept) if kept else "    | <empty>"


def _install_is_fresh(folder: Path) -> bool:
    stamp = folder / "node_modules" / _INSTALL_STAMP
    try:
        installed = stamp.stat().st_mtime
    except FileNotFoundError:
        return False
    inputs = (folder / "package-lock.json", folder / "package.json")
    return all(path.stat().st_mtime <= installed for path in inputs)


def ensure_installed(folder: Path = BETTER_AUTH_DIR) -> bool:
    """Run ``npm ci`` in ``folder`` if ``node_modules`` is missing or older than
    ``package-lock.json`` / ``package.json``.  Returns True if it installed.

    Safe against concurrent callers (an exclusive lock file serialises them).
    Raises :class:`BetterAuthStartError` (with npm's output tail) on failure.
    """
    if _install_is_fresh(folder):
        return False
    npm = shutil.which("npm")
    if npm is None:
        raise BetterAuthStartError("npm not found on PATH")
    lock_path = Path(tempfile.gettempdir()) / f"taskapi-better-auth-{os.getuid()}.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _install_is_fresh(folder):  # another process did it meanwhile
            return False
        env = dict(os.environ)
        env.pop("NODE_ENV", None)  # installs must not depend on the caller's NODE_ENV
        try:
            result = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"],
                cwd=folder,
                env=env,
                capture_output=True,
                text=True,
                timeout=INSTALL_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise BetterAuthStartError(
                f"npm ci in {folder} timed out after {INSTALL_TIMEOUT:.0f} s"
            ) from exc
        if result.returncode != 0:
            raise BetterAuthStartError(
                f"npm ci in {folder} failed with exit code {result.returncode}:\n"
                + _tail(result.stdout + "\n" + result.stderr)
            )
        (folder / "node_modules" / _INSTALL_STAMP).write_text(
            "written after a successful npm ci\n", encoding="utf-8"
        )
    return True


# --------------------------------------------------------------------------
# the server
# --------------------------------------------------------------------------

_running: list[BetterAuthServer] = []
_running_lock = threading.Lock()


def running_servers() -> list[BetterAuthServer]:
    with _running_lock:
        return list(_running)


def stop_all() -> None:
    """Stop every server this process started (registered with ``atexit``)."""
    for server in running_servers():
        with contextlib.suppress(Exception):
            server.stop()


atexit.register(stop_all)


class BetterAuthServer:
    """One running ``node server.mjs``.  Use :func:`start_better_auth`."""

    def __init__(self, port: int, env: Mapping[str, str]) -> None:
        self.host = HOST
        self.port = port
        self.env: dict[str, str] = dict(env)
        self._owner_pid = os.getpid()
        self._lock = threading.RLock()
        self._proc: subprocess.Popen[str] | None = None
        self._stderr: collections.deque[str] = collections.deque(maxlen=500)
        self._ready = threading.Event()
        self._readers: list[threading.Thread] = []
        self.startup_seconds: float | None = None

    # -- addresses ------------------------------------------------------

    @property
    def base_url(self) -> str:
        """Better Auth's base URL, e.g. ``http://127.0.0.1:40123``."""
        return f"http://{self.host}:{self.port}"

    @property
    def origin(self) -> str:
        """Scheme, host and port: the default ``iss`` and ``aud`` of its JWTs."""
        return self.base_url

    @property
    def auth_url(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def jwks_url(self) -> str:
        return self.auth_url + "/jwks"

    @property
    def token_url(self) -> str:
        return self.auth_url + "/token"

    # -- process --------------------------------------------------------

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise RuntimeError("Better Auth server has not been started")
        return self._proc.pid

    @property
    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stderr_tail(self, lines: int = _STDERR_TAIL_LINES) -> str:
        return _tail("\n".join(self._stderr), lines)

    def start(self, timeout: float = START_TIMEOUT) -> Self:
        node = shutil.which("node")
        if node is None:
            raise BetterAuthStartError("node not found on PATH")
        with self._lock:
            if self._proc is not None:
                raise RuntimeError("already started")
            self._proc = subprocess.Popen(
                [node, "server.mjs"],
                cwd=BETTER_AUTH_DIR,
                env=self.env,
                stdin=subprocess.PIPE,  # EOF (we died) makes the server exit
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
                errors="replace",
                start_new_session=True,  # terminal Ctrl-C goes to us; atexit stops it
            )
            with _running_lock:
                _running.append(self)
            self._readers = [
                threading.Thread(target=self._read_stdout, daemon=True),
                threading.Thread(target=self._read_stderr, daemon=True),
            ]
            for thread in self._readers:
                thread.start()
        started = time.monotonic()
        while not self._ready.wait(0.05):
            if self._proc.poll() is not None:
                self._join_readers()
                code = self._proc.returncode
                self.stop()
                raise BetterAuthStartError(
                    f"Better Auth server exited with code {code} before READY "
                    f"(port {self.port}):\n{self.stderr_tail()}"
                )
            if time.monotonic() - started > timeout:
                self.stop()
                raise BetterAuthStartError(
                    f"Better Auth server not READY after {timeout:.0f} s "
                    f"(port {self.port}):\n{self.stderr_tail()}"
                )
        self.startup_seconds = time.monotonic() - started
        return self

    def _read_stdout(self) -> None:
        proc = self._proc
        assert proc is not None
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip() == f"READY {self.port}":
                self._ready.set()

    def _read_stderr(self) -> None:
        proc = self._proc
        assert proc is not None
        assert proc.stderr is not None
        for line in proc.stderr:
            self._stderr.append(line.rstrip("\n"))

    def _join_readers(self) -> None:
        for thread in self._readers:
            thread.join(timeout=2)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM by PID, wait, SIGKILL if needed.  Idempotent."""
        with self._lock:
            proc = self._proc
            if proc is None or os.getpid() != self._owner_pid:
                return
            try:
                if proc.poll() is None:
                    # Popen.send_signal is a no-op once the child is reaped, so a
                    # recycled PID can never be hit.
                    proc.send_signal(signal.SIGTERM)
                    try:
                        proc.wait(timeout=timeout)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait(timeout=timeout)
            finally:
                if proc.stdin is not None:
                    with contextlib.suppress(OSError):
                        proc.stdin.close()
                self._join_readers()
                for stream in (proc.stdout, proc.stderr):
                    if stream is not None:
                        with contextlib.suppress(OSError):
                            stream.close()
                with _running_lock, contextlib.suppress(ValueError):
                    _running.remove(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.is_running else "stopped"
        return f"<BetterAuthServer {self.base_url} pid={self._proc and self._proc.pid} {state}>"


def _server_env(port: int, overrides: Mapping[str, str | int | float]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in _RIG_VARIABLES}
    for key, value in overrides.items():
        if not _ENV_NAME.match(key):
            raise ValueError(f"not an environment variable name: {key!r}")
        if key == "PORT":
            raise ValueError("PORT is chosen by start_better_auth(port=...)")
        env[key] = str(value)
    env["PORT"] = str(port)
    env["EXIT_ON_STDIN_CLOSE"] = "1"
    return env


def start_better_auth(
    *,
    port: int | None = None,
    timeout: float = START_TIMEOUT,
    **env: str | int | float,
) -> BetterAuthServer:
    """Start ``server.mjs`` on a free loopback port and wait for ``READY``.

    Keyword arguments in upper case are passed as environment variables, e.g.
    ``JWT_ISSUER``, ``JWT_AUDIENCE``, ``JWT_EXPIRATION="3s"``, ``JWT_ALG="ES256"``,
    ``JWKS_ROTATION_INTERVAL=2``, ``BETTER_AUTH_SECRET``.  The caller's own values of
    those variables (and ``NODE_ENV``) are never inherited.  Call
    :func:`ensure_installed` first.
    """
    attempts = 1 if port is not None else _PORT_RETRIES
    last: BetterAuthStartError | None = None
    for _ in range(attempts):
        chosen = port if port is not None else find_free_port(HOST)
        server = BetterAuthServer(chosen, _server_env(chosen, env))
        try:
            return server.start(timeout=timeout)
        except BetterAuthStartError as exc:
            last = exc
            if "EADDRINUSE" not in str(exc):
                raise
    assert last is not None
    raise last


StartBetterAuth = Callable[..., BetterAuthServer]
"""Type of a fixture that starts extra servers: ``start(**env) -> BetterAuthServer``."""


# --------------------------------------------------------------------------
# client
# --------------------------------------------------------------------------


@contextlib.contextmanager
def _client(server: BetterAuthServer) -> Iterator[httpx.Client]:
    # trust_env=False: never route loopback traffic through a proxy from the env.
    with httpx.Client(base_url=server.auth_url, timeout=HTTP_TIMEOUT, trust_env=False) as client:
        yield client


def _check(response: httpx.Response, expected: int = 200) -> None:
    if response.status_code != expected:
        raise BetterAuthError(
            response.request.method, str(response.request.url), response.status_code, response.text
        )


def _session_from(response: httpx.Response) -> Session:
    _check(response)
    cookie: str | None = None
    for header in response.headers.get_list("set-cookie"):
        pair = header.split(";", 1)[0].strip()
        if pair.startswith(SESSION_COOKIE + "="):
            cookie = pair
    if cookie is None:
        raise BetterAuthError(
            response.request.method,
            str(response.request.url),
            response.status_code,
            f"no {SESSION_COOKIE} cookie in the response; body: {response.text}",
        )
    body: dict[str, Any] = response.json()
    return Session(cookie=cookie, token=str(body.get("token", "")), user=dict(body["user"]))


def sign_up(server: BetterAuthServer, email: str, password: str, name: str) -> Session:
    """POST /api/auth/sign-up/email; the new user is signed in."""
    with _client(server) as client:
        response = client.post(
            "/sign-up/email",
            json={"email": email, "password": password, "name": name},
            headers={"Origin": server.origin},
        )
    return _session_from(response)


def sign_in(server: BetterAuthServer, email: str, password: str) -> Session:
    """POST /api/auth/sign-in/email: a new session for an existing user."""
    with _client(server) as client:
        response = client.post(
            "/sign-in/email",
            json={"email": email, "password": password},
            headers={"Origin": server.origin},
        )
    return _session_from(response)


def get_jwt(server: BetterAuthServer, session: Session) -> str:
    """GET /api/auth/token with the session cookie -> a freshly signed JWT."""
    with _client(server) as client:
        response = client.get("/token", headers={"Cookie": session["cookie"]})
    _check(response)
    token = response.json().get("token")
    if not isinstance(token, str) or not token:
        raise BetterAuthError("GET", str(response.request.url), 200, response.text)
    return token


def jwks(server: BetterAuthServer) -> dict[str, Any]:
    """GET /api/auth/jwks -> ``{"keys": [...]}`` (public keys only)."""
    with _client(server) as client:
        response = client.get("/jwks")
    _check(response)
    keys: dict[str, Any] = response.json()
    return keys
