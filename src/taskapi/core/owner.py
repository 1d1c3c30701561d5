"""What owner-scoped services need of the caller: only its user id."""

from __future__ import annotations

import uuid
from typing import Protocol


class Owner(Protocol):
    @property
    def id(self) -> uuid.UUID: ...
