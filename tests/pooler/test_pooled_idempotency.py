"""Idempotent creates, concurrent same-key requests included, through PgBouncer in transaction mode.

The test functions are imported; the fixtures of tests/pooler/conftest.py apply.
"""

from tests.search.test_idempotency import *  # noqa: F403
