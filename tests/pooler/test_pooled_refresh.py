"""Refresh tokens: rotation, reuse detection, expiry, through PgBouncer in transaction mode.

The test functions are imported; the fixtures of tests/pooler/conftest.py apply.
"""

from tests.auth.test_refresh import *  # noqa: F403
