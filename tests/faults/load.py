"""Concurrent write load against an app, recording every answer for later checks."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field

import httpx

from tests.factories import SignedInUser

TASKS = "/api/v1/tasks"
PROBLEM_MEDIA_TYPE = "application/problem+json"
LEAK_MARKERS = ("Traceback", "sqlalchemy", "asyncpg", "SELECT", "INSERT", 'File "')


@dataclass(frozen=True)
class Outcome:
    started: float
    ended: float
    status: int
    task_id: str | None
    problem: str | None  # why a non-2xx answer is not a proper 503 problem (None: it is)


def unavailable_problem(response: httpx.Response) -> str | None:
    """None if ``response`` is a well-formed 503 problem+json with Retry-After."""
    if response.status_code != 503:
        return f"status {response.status_code}: {response.text[:200]}"
    media_type = response.headers.get("content-type", "").split(";")[0].strip()
    if media_type != PROBLEM_MEDIA_TYPE:
        return f"503 with content-type {media_type!r}"
    retry_after = response.headers.get("retry-after", "")
    if not retry_after.isdigit() or int(retry_after) < 1:
        return f"503 with Retry-After {retry_after!r}"
    try:
        body = response.json()
    except ValueError:
        return "503 whose body is not JSON"
    if body.get("status") != 503 or not body.get("title") or not body.get("detail"):
        return f"503 with a malformed problem document: {body}"
    for marker in LEAK_MARKERS:
        if marker in response.text:
            return f"503 leaking {marker!r}"
    return None


@dataclass
class WriteLoad:
    """``workers`` tasks creating tasks in a loop until ``stop()``."""

    client: httpx.AsyncClient
    user: SignedInUser
    workers: int = 8
    pause_after_error: float = 0.05
    outcomes: list[Outcome] = field(default_factory=list)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._worker(n)) for n in range(self.workers)]

    async def stop(self) -> None:
        self._stopping.set()
        await asyncio.gather(*self._tasks)

    async def _worker(self, number: int) -> None:
        while not self._stopping.is_set():
            title = f"load {number} {uuid.uuid4().hex[:8]}"
            started = time.monotonic()
            response = await self.client.post(
                TASKS, json={"title": title}, headers=self.user.headers
            )
            ended = time.monotonic()
            task_id = None
            problem = None
            if response.status_code == 201:
                task_id = response.json()["id"]
            else:
                problem = unavailable_problem(response)
            self.outcomes.append(Outcome(started, ended, response.status_code, task_id, problem))
            if response.status_code != 201:
                await asyncio.sleep(self.pause_after_error)

    # -- reading the record ---------------------------------------------

    @property
    def acknowledged(self) -> list[str]:
        return [o.task_id for o in self.outcomes if o.task_id is not None]

    def successes_started_after(self, moment: float) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == 201 and o.started >= moment]

    async def wait_for_successes(self, count: int, *, after: float, timeout: float) -> float:
        """Wait until ``count`` writes that started after ``after`` succeeded; return when
        the first of them ended (raises AssertionError after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = self.successes_started_after(after)
            if len(done) >= count:
                return min(o.ended for o in done)
            await asyncio.sleep(0.05)
        statuses = sorted({o.status for o in self.outcomes if o.started >= after})
        raise AssertionError(
            f"fewer than {count} writes succeeded within {timeout:.0f}s "
            f"(statuses since: {statuses})"
        )

    def bad_answers(self) -> list[str]:
        """Every answer that is neither a 201 nor a proper 503 problem."""
        return [o.problem for o in self.outcomes if o.problem is not None]
