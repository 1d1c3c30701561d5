"""Test-data builders that go through the public API, as a client would."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

DEFAULT_PASSWORD = "correct horse battery"


@dataclass
class SignedInUser:
    id: str
    email: str
    password: str
    access_token: str
    refresh_token: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


async def register(
    client: httpx.AsyncClient,
    *,
    email: str | None = None,
    password: str = DEFAULT_PASSWORD,
    display_name: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "email": email or f"user-{uuid.uuid4().hex[:12]}@example.com",
        "password": password,
    }
    if display_name is not None:
        body["display_name"] = display_name
    response = await client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 201, response.text
    user: dict[str, Any] = response.json()
    return user


async def login(
    client: httpx.AsyncClient, email: str, password: str = DEFAULT_PASSWORD
) -> dict[str, Any]:
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    pair: dict[str, Any] = response.json()
    return pair


async def signed_in_user(
    client: httpx.AsyncClient, *, email: str | None = None, password: str = DEFAULT_PASSWORD
) -> SignedInUser:
    user = await register(client, email=email, password=password)
    pair = await login(client, user["email"], password)
    return SignedInUser(
        id=user["id"],
        email=user["email"],
        password=password,
        access_token=pair["access_token"],
        refresh_token=pair["refresh_token"],
    )


async def create_task(
    client: httpx.AsyncClient, user: SignedInUser, **fields: Any
) -> dict[str, Any]:
    body = {"title": "A task", **fields}
    response = await client.post("/api/v1/tasks", json=body, headers=user.headers)
    assert response.status_code == 201, response.text
    task: dict[str, Any] = response.json()
    return task
