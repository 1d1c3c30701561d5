from __future__ import annotations

import httpx
import pytest

from tests.factories import SignedInUser, signed_in_user


@pytest.fixture
async def alice(client: httpx.AsyncClient) -> SignedInUser:
    return await signed_in_user(client)


@pytest.fixture
async def bob(client: httpx.AsyncClient) -> SignedInUser:
    return await signed_in_user(client)
