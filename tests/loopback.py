"""A threaded HTTP server on 127.0.0.1 (a free port) for test stubs: an issuer's JWKS
endpoint, a hostile address. Handlers reach their stub through ``self.server.owner``."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: Any


class LoopbackHTTPServer:
    """Serves ``handler`` from construction until ``stop()`` or the end of a with-block."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._httpd = _Server(("127.0.0.1", 0), handler)
        self._httpd.owner = self
        # A short poll interval: stop() waits for serve_forever's loop to notice.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        self._stopped = False

    def address(self, path: str) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def stop(self) -> None:
        """Close the listening socket: further connections are refused."""
        if self._stopped:
            return
        self._stopped = True
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
