"""Recurrence keeps tags, through PgBouncer in transaction mode.

The test functions are imported; the fixtures of tests/pooler/conftest.py apply.
"""

from tests.search.test_recurrence_tags import *  # noqa: F403
