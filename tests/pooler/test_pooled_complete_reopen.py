"""Complete and reopen, recurring tasks, through PgBouncer in transaction mode.

The test functions are imported; the fixtures of tests/pooler/conftest.py apply.
"""

from tests.tasks.test_complete_reopen import *  # noqa: F403
