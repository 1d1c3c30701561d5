from __future__ import annotations

import enum

from pydantic import Field

from taskapi.tasks.query import SortKey
from taskapi.tasks.schemas import TaskRead


class CompatTask(TaskRead):
    user_id: str = Field(description="The owner: the token's subject.")


class CompatSort(enum.StrEnum):
    # Member names differ from values: a member called "title" would shadow str.title.
    created_desc = "created"
    title_asc = "title"
    due_date_asc = "due_date"


SORT_KEYS = {
    CompatSort.created_desc: SortKey.created_at_desc,
    CompatSort.title_asc: SortKey.title_asc,
    CompatSort.due_date_asc: SortKey.due_at_asc,
}
