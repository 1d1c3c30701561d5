"""A tiny HTTP server on 127.0.0.1 that answers canned responses and records requests.

Used as a token issuer's JWKS endpoint (honest, broken or hostile) and as the address an
attacker would like the service to fetch.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self


@dataclass
class Canned:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        stub = self.server.stub
        stub.record(self.path)
        canned = stub.routes.get(self.path, Canned(404, b""))
        self.send_response(canned.status)
        for name, value in canned.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(canned.body)))
        self.end_headers()
        self.wfile.write(canned.body)

    def log_message(self, format: str, *args: Any) -> None:
        """No per-request line on stderr."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    stub: StubServer


class StubServer:
    def __init__(self) -> None:
        self.routes: dict[str, Canned] = {}
        self._paths: list[str] = []
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.stub = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def record(self, path: str) -> None:
        with self._lock:
            self._paths.append(path)

    @property
    def requested(self) -> list[str]:
        with self._lock:
            return list(self._paths)

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
