"""Whatever the service logs while people sign in and fail, it never writes a secret."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tests import servers
from tests.conftest import AppFactory
from tests.security.helpers import LOGIN, ME, REFRESH, REGISTER, bearer, client_at, new_email

PASSWORD = "first-Secret-passw0rd"
NEW_PASSWORD = "second-Secret-passw0rd"
WRONG = "wrong-Secret-passw0rd"
WEAK = "s3cr3t"
JWT_SECRET = "jwt-signing-secret-" + "k" * 32
REDIS_PASSWORD = "redis-Secret-pw"


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        # The message with any traceback, and every extra field a formatter could write.
        self.lines.append(self.format(record))
        self.lines.append(repr(vars(record)))


@pytest.fixture
def collected() -> Iterator[Collect]:
    """Everything the app's ``taskapi`` loggers and any library logger (via root) emit."""
    handler = Collect()
    taskapi, root = logging.getLogger("taskapi"), logging.getLogger()
    taskapi_level = taskapi.level
    taskapi.addHandler(handler)
    root.addHandler(handler)
    yield handler
    taskapi.removeHandler(handler)
    root.removeHandler(handler)
    taskapi.setLevel(taskapi_level)


async def test_no_password_token_or_signing_key_is_ever_logged(
    make_app: AppFactory, collected: Collect
) -> None:
    # An unreachable Redis with a password in its URL makes the app log a warning.
    dead_redis = f"redis://:{REDIS_PASSWORD}@127.0.0.1:{servers.find_free_port()}/0"
    app = make_app(
        jwt_secret=JWT_SECRET, log_level="debug", redis_url=dead_redis, rate_limit_api="100/minute"
    )
    logging.getLogger("taskapi").addHandler(collected)  # create_app replaced the handlers
    logging.getLogger("taskapi").setLevel(logging.DEBUG)
    email = new_email()
    seen: list[str] = []

    async with client_at(app, "198.51.100.100") as http:
        weak = await http.post(REGISTER, json={"email": email, "password": WEAK})
        created = await http.post(REGISTER, json={"email": email, "password": PASSWORD})
        wrong = await http.post(LOGIN, json={"email": email, "password": WRONG})
        signed_in = await http.post(LOGIN, json={"email": email, "password": PASSWORD})
        pair = signed_in.json()
        seen += [pair["access_token"], pair["refresh_token"]]
        me = await http.get(ME, headers=bearer(pair["access_token"]))
        refreshed = await http.post(REFRESH, json={"refresh_token": pair["refresh_token"]})
        seen += [refreshed.json()["access_token"], refreshed.json()["refresh_token"]]
        reused = await http.post(REFRESH, json={"refresh_token": pair["refresh_token"]})
        changed = await http.post(
            f"{ME}/password",
            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
            headers=bearer(refreshed.json()["access_token"]),
        )
        refresh_as_access = await http.get(ME, headers=bearer(pair["refresh_token"]))
        # RFC 6750 lets clients put a token in the query; an access log must not keep it.
        in_query = await http.get(ME, params={"access_token": refreshed.json()["access_token"]})
        malformed = await http.post(
            LOGIN,
            content=f'{{"email": "{email}", "password": "{NEW_PASSWORD}"',
            headers={"Content-Type": "application/json"},
        )
        final = await http.post(LOGIN, json={"email": email, "password": NEW_PASSWORD})
        seen += [final.json()["access_token"], final.json()["refresh_token"]]

    statuses = [
        weak.status_code,
        created.status_code,
        wrong.status_code,
        me.status_code,
        refreshed.status_code,
        reused.status_code,
        changed.status_code,
        refresh_as_access.status_code,
        in_query.status_code,
        malformed.status_code,
        final.status_code,
    ]
    assert statuses == [422, 201, 401, 200, 200, 401, 204, 401, 401, 422, 200]
    assert collected.lines, "nothing was captured: the capture is broken"
    log = "\n".join(collected.lines)
    secrets = [PASSWORD, NEW_PASSWORD, WRONG, WEAK, JWT_SECRET, REDIS_PASSWORD, *seen]
    for secret in secrets:
        assert secret not in log, f"a secret ({secret[:6]}…) was logged"
