"""Date arithmetic of recurring tasks."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta

from taskapi.tasks.models import Recurrence


def _add_months(moment: datetime, months: int) -> datetime:
    """Same day next month(s), clamped to the month's last day (Jan 31 → Feb 28/29)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def next_due(due_at: datetime, recurrence: Recurrence) -> datetime:
    """The due date of the occurrence after one due at ``due_at``; OverflowError past 9999."""
    if recurrence == Recurrence.daily:
        return due_at + timedelta(days=1)
    if recurrence == Recurrence.weekly:
        return due_at + timedelta(weeks=1)
    if recurrence == Recurrence.monthly:
        return _add_months(due_at, 1)
    return _add_months(due_at, 12)
