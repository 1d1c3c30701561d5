"""A stand-in token issuer for the Node-free external-auth tests.

- ``SigningKeyPair``: a key made with ``cryptography`` (Ed25519, EC P-256, RSA), its
  public JWK, and a ``sign`` method that mints tokens with it.
- ``JwksServer``: a real HTTP server on 127.0.0.1 (``http.server`` in a thread) that
  serves a JWKS document, counts the requests it gets, can answer errors or be stopped.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from dataclasses import dataclass
from functools import cache
from http.server import BaseHTTPRequestHandler
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from tests.loopback import LoopbackHTTPServer

ISSUER = "https://issuer.example"
AUDIENCE = "task-api-frontend"
JWKS_PATH = "/.well-known/jwks.json"


# --- keys and tokens -------------------------------------------------------------------


@dataclass(frozen=True)
class SigningKeyPair:
    kid: str
    algorithm: str
    private_key: Any
    public_jwk: dict[str, Any]

    @property
    def public_pem(self) -> bytes:
        pem: bytes = self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return pem

    def sign(
        self, claims: dict[str, Any], *, kid: str | None = None, algorithm: str | None = None
    ) -> str:
        headers = {"kid": self.kid if kid is None else kid}
        return jwt.encode(
            claims, self.private_key, algorithm=algorithm or self.algorithm, headers=headers
        )


def _jwk(algorithm_class: Any, public_key: Any, kid: str, alg: str) -> dict[str, Any]:
    jwk: dict[str, Any] = algorithm_class.to_jwk(public_key, as_dict=True)
    jwk.update({"kid": kid, "alg": alg})
    return jwk


def ed25519_key(kid: str | None = None) -> SigningKeyPair:
    kid = kid or f"ed-{uuid.uuid4().hex[:8]}"
    private = ed25519.Ed25519PrivateKey.generate()
    jwk = _jwk(OKPAlgorithm, private.public_key(), kid, "EdDSA")
    return SigningKeyPair(kid, "EdDSA", private, jwk)


def es256_key(kid: str | None = None) -> SigningKeyPair:
    kid = kid or f"ec-{uuid.uuid4().hex[:8]}"
    private = ec.generate_private_key(ec.SECP256R1())
    jwk = _jwk(ECAlgorithm, private.public_key(), kid, "ES256")
    return SigningKeyPair(kid, "ES256", private, jwk)


@cache
def _rsa_private_key() -> rsa.RSAPrivateKey:
    # RSA key generation is slow; one key per test session is plenty.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def rsa_key(kid: str | None = None) -> SigningKeyPair:
    kid = kid or f"rsa-{uuid.uuid4().hex[:8]}"
    private = _rsa_private_key()
    jwk = _jwk(RSAAlgorithm, private.public_key(), kid, "RS256")
    return SigningKeyPair(kid, "RS256", private, jwk)


def claims(
    subject: str | None = None,
    *,
    issuer: str = ISSUER,
    audience: str | list[str] | None = AUDIENCE,
    lifetime: int = 900,
    drop: tuple[str, ...] = (),
    **extra: Any,
) -> dict[str, Any]:
    """Claims shaped like Better Auth's: sub, email, name, iat, exp, iss, aud."""
    now = int(time.time())
    subject = subject or uuid.uuid4().hex
    values: dict[str, Any] = {
        "sub": subject,
        "email": f"{subject[:12]}@issuer.example",
        "name": "External Person",
        "iat": now,
        "exp": now + lifetime,
        "iss": issuer,
    }
    if audience is not None:
        values["aud"] = audience
    values.update(extra)
    for name in drop:
        values.pop(name, None)
    return values


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def handmade_token(header: dict[str, Any], payload: dict[str, Any], sign: Any = None) -> str:
    """A compact JWT built by hand (for tokens no honest library would produce).

    ``sign`` maps the signing input to signature bytes; None gives an empty signature.
    """
    signing_input = ".".join(
        b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, payload)
    )
    signature = b"" if sign is None else sign(signing_input.encode())
    return f"{signing_input}.{b64url(signature)}"


def hmac_sha256(secret: bytes) -> Any:
    return lambda data: hmac.new(secret, data, hashlib.sha256).digest()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- the JWKS endpoint -----------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        owner: JwksServer = self.server.owner  # type: ignore[attr-defined]
        owner.record_request()
        if owner.delay:
            time.sleep(owner.delay)
        if self.path != JWKS_PATH or owner.status != 200:
            status = 404 if self.path != JWKS_PATH else owner.status
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = json.dumps(owner.document()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request log line on stderr."""


class JwksServer(LoopbackHTTPServer):
    """``{"keys": [...]}`` at ``url``, on a loopback port of its own."""

    def __init__(self, keys: list[dict[str, Any]] | None = None) -> None:
        self.keys: list[dict[str, Any]] = list(keys or [])
        self.status = 200
        self.delay = 0.0
        self._lock = threading.Lock()
        self._requests = 0
        super().__init__(_Handler)

    @property
    def url(self) -> str:
        return self.address(JWKS_PATH)

    @property
    def requests(self) -> int:
        with self._lock:
            return self._requests

    def record_request(self) -> None:
        with self._lock:
            self._requests += 1

    def document(self) -> dict[str, Any]:
        return {"keys": list(self.keys)}

    def publish(self, *pairs: SigningKeyPair) -> None:
        self.keys = [pair.public_jwk for pair in pairs]
