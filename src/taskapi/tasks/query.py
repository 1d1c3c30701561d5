"""What a task listing asks for: filters and a sort, and the keyset cursor of a sort."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import InstrumentedAttribute

from taskapi.core.pagination import InvalidCursor
from taskapi.tasks.models import Priority, Task

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class Status(enum.StrEnum):
    all = "all"
    pending = "pending"
    completed = "completed"


class SortKey(enum.StrEnum):
    # Member names are suffixed: a member called "title" would shadow str.title.
    created_at_asc = "created_at"
    created_at_desc = "-created_at"
    updated_at_asc = "updated_at"
    updated_at_desc = "-updated_at"
    due_at_asc = "due_at"
    due_at_desc = "-due_at"
    priority_asc = "priority"
    priority_desc = "-priority"
    title_asc = "title"
    title_desc = "-title"


@dataclass(frozen=True, slots=True)
class TaskFilters:
    status: Status = Status.all
    priorities: tuple[Priority, ...] = ()
    tags: tuple[str, ...] = ()
    text: str | None = None
    due_before: datetime | None = None
    due_after: datetime | None = None
    overdue: bool = False
    now: datetime | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Keyset:
    """The position after which the next page starts: the sort value and the id."""

    value: Any
    id: uuid.UUID


@dataclass(frozen=True, slots=True)
class TaskSort:
    field: str
    descending: bool

    @classmethod
    def parse(cls, key: SortKey) -> TaskSort:
        return cls(field=key.value.lstrip("-"), descending=key.value.startswith("-"))

    @property
    def key(self) -> str:
        return ("-" if self.descending else "") + self.field

    @property
    def column(self) -> InstrumentedAttribute[Any]:
        column: InstrumentedAttribute[Any] = getattr(Task, self.field)
        return column

    @property
    def nullable(self) -> bool:
        return self.field == "due_at"

    def keyset_of(self, row: Mapping[Any, Any]) -> Keyset:
        return Keyset(row[self.field], row["id"])

    def dump_value(self, value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, Priority):
            return value.value
        return value

    def load_value(self, raw: Any) -> Any:
        """Turn a cursor's JSON value back into a column value, or refuse the cursor."""
        if raw is None:
            if self.nullable:
                return None
            raise InvalidCursor()
        try:
            if self.field in {"created_at", "updated_at", "due_at"}:
                parsed = datetime.fromisoformat(raw)
                if parsed.tzinfo is None:
                    raise ValueError("naive")
                return parsed
            if self.field == "priority":
                return Priority(raw)
        except (TypeError, ValueError) as exc:
            raise InvalidCursor() from exc
        if not isinstance(raw, str):
            raise InvalidCursor()
        return raw
