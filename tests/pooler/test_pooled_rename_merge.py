"""Tag rename and merge, through PgBouncer in transaction mode.

The test functions are imported; the fixtures of tests/pooler/conftest.py apply.
"""

from tests.tags.test_rename_merge import *  # noqa: F403
