"""Fixtures for the Node-free external-issuer tests: a loopback JWKS server and keys."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.external.issuer import JwksServer, SigningKeyPair, ed25519_key


@pytest.fixture
def signing_key() -> SigningKeyPair:
    return ed25519_key()


@pytest.fixture
def jwks_server(signing_key: SigningKeyPair) -> Iterator[JwksServer]:
    """A JWKS endpoint on 127.0.0.1 publishing ``signing_key``; stopped after the test."""
    with JwksServer([signing_key.public_jwk]) as server:
        yield server


@pytest.fixture
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    # trust_env=False: loopback traffic never goes through a proxy from the environment.
    async with httpx.AsyncClient(trust_env=False) as client:
        yield client
