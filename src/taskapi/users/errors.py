from __future__ import annotations

from taskapi.core.errors import Conflict


class EmailTaken(Conflict):
    slug, default_detail = "email-taken", "An account with this e-mail address already exists"
