"""Every sort key and direction, unpaged and cursor-paged, through PgBouncer in transaction mode.

The test functions are imported; the fixtures of tests/pooler/conftest.py apply.
"""

from tests.search.test_sorting import *  # noqa: F403
