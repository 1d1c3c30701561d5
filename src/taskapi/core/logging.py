"""Logging set-up: JSON lines in production, readable lines in development.

Request fields (request id, user id, route, status, duration) ride on the log record as
``extra``; both formats print them. Nothing here ever logs headers or bodies, so tokens,
passwords and secrets cannot reach the log.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import orjson

from taskapi.core.config import Settings

REQUEST_FIELDS = ("request_id", "user_id", "method", "route", "path", "status", "duration_ms")


def _request_fields(record: logging.LogRecord) -> dict[str, object]:
    return {
        name: getattr(record, name)
        for name in REQUEST_FIELDS
        if getattr(record, name, None) is not None
    }


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **_request_fields(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class ConsoleFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = _request_fields(record)
        if fields:
            line += " " + " ".join(f"{name}={value}" for name, value in fields.items())
        return line


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    json_format = settings.effective_log_format == "json"
    handler.setFormatter(JsonFormatter() if json_format else ConsoleFormatter())
    root = logging.getLogger("taskapi")
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    root.propagate = False
