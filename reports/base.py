"""Shared shapes of every report: filters in, tables (and charts) out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_date

DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Filters:
    start: datetime  # inclusive
    end: datetime  # exclusive
    team_id: int | None = None

    @property
    def days(self) -> int:
        return max(1, round((self.end - self.start).total_seconds() / 86400))

    def db(self, value: datetime) -> Any:
        """A datetime as the backend expects it in raw SQL."""
        return connection.ops.adapt_datetimefield_value(value)

    def ticket_where(self, alias: str = "t", column: str = "created_at") -> tuple[str, list]:
        sql = f"{alias}.{column} >= %s AND {alias}.{column} < %s AND {alias}.merged_into_id IS NULL"
        params = [self.db(self.start), self.db(self.end)]
        if self.team_id is not None:
            sql += f" AND {alias}.team_id = %s"
            params.append(self.team_id)
        return sql, params


def parse_filters(params, *, today: date | None = None) -> Filters:
    """`from` and `to` (YYYY-MM-DD, both inclusive, local time) and `team`; defaults: the last 30 days."""
    today = today or timezone.localdate()
    end_day = parse_date(params.get("to") or "") or today
    start_day = parse_date(params.get("from") or "") or end_day - timedelta(days=DEFAULT_DAYS - 1)
    if start_day > end_day:
        start_day, end_day = end_day, start_day
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(start_day, time.min), tz)
    end = timezone.make_aware(datetime.combine(end_day + timedelta(days=1), time.min), tz)
    team = params.get("team") or ""
    return Filters(start=start, end=end, team_id=int(team) if team.isdigit() else None)


@dataclass
class Column:
    key: str
    label: str
    kind: str = "text"  # text | int | number | duration | percent


@dataclass
class Table:
    name: str
    title: str
    columns: list[Column]
    rows: list[dict]


@dataclass
class Result:
    tables: list[Table] = field(default_factory=list)
    charts: list[str] = field(default_factory=list)  # SVG markup built by reports.charts (escaped there)
    notes: list[str] = field(default_factory=list)

    def table(self, name: str) -> Table | None:
        return next((t for t in self.tables if t.name == name), None)
