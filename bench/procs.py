"""Server processes started by the benchmark, stopped by their PID (never by name).

Each process gets its own session (process group), so a Ctrl-C in the terminal reaches
only the benchmark, which then stops what it started. ``stop()`` sends SIGTERM to the PID,
waits, then SIGKILLs the PID; worker processes that outlive a killed supervisor are in
the group this module created and are killed with it. Every process still running when
the interpreter exits is stopped by an ``atexit`` hook.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

_running: dict[int, ManagedProcess] = {}


class ProcessError(RuntimeError):
    """A server did not come up."""


class ManagedProcess:
    def __init__(
        self,
        name: str,
        cmd: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        log_path: Path,
        stop_timeout: float = 45.0,
    ) -> None:
        self.name = name
        self.cmd = list(cmd)
        self.env = dict(env)
        self.cwd = cwd
        self.log_path = log_path
        self.stop_timeout = stop_timeout
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise RuntimeError(f"{self.name} is not running")
        return self._proc.pid

    def start(self) -> ManagedProcess:
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                self.cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.cwd,
                env=self.env,
                start_new_session=True,
            )
        _running[id(self)] = self
        return self

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "<no log>"
        return "\n".join("    | " + line for line in text.splitlines()[-lines:])

    def wait_ready(self, url: str, timeout: float = 120.0) -> None:
        """Poll ``url`` until it answers 200; fail early if the process exits."""
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=5.0) as client:
            while True:
                assert self._proc is not None
                code = self._proc.poll()
                if code is not None:
                    raise ProcessError(
                        f"{self.name} exited with {code} while starting:\n{self.log_tail()}"
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(url).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    self.stop()
                    raise ProcessError(
                        f"{self.name} did not answer {url} within {timeout:.0f}s:\n"
                        + self.log_tail()
                    )
                time.sleep(0.25)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        _running.pop(id(self), None)
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGKILL)
                # Workers left behind by the killed supervisor: in the group created for
                # it (its id is that PID, still ours until the process is reaped).
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def stop_all() -> None:
    for process in list(_running.values()):
        with contextlib.suppress(Exception):
            process.stop()


atexit.register(stop_all)
