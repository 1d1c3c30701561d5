"""A tiny HTTP server on 127.0.0.1 that answers canned responses and records requests.

Used as a token issuer's JWKS endpoint (honest, broken or hostile) and as the address an
attacker would like the service to fetch.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.loopback import LoopbackHTTPServer


@dataclass
class Canned:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        stub: StubServer = self.server.owner  # type: ignore[attr-defined]
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


class StubServer(LoopbackHTTPServer):
    def __init__(self) -> None:
        self.routes: dict[str, Canned] = {}
        self._paths: list[str] = []
        self._lock = threading.Lock()
        super().__init__(_Handler)

    def url(self, path: str) -> str:
        return self.address(path)

    def record(self, path: str) -> None:
        with self._lock:
            self._paths.append(path)

    @property
    def requested(self) -> list[str]:
        with self._lock:
            return list(self._paths)
