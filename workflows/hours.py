"""Business-hours arithmetic, time-zone aware, with holidays.

Other apps call `is_open(team_id, at)` (routing, the widget's offline mode, voice). A team without its own
calendar uses the default calendar (one without a team); with neither, the desk is always open.

Open intervals are local wall-clock times of the calendar's zone, so a 09:00-17:00 day stays 09:00-17:00
across daylight-saving changes. An interval ending at "24:00" runs to midnight.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

from .models import WEEKDAYS, BusinessHours

MAX_DAYS = 3 * 366  # a schedule with no open time at all must not loop forever


@dataclass(frozen=True)
class Calendar:
    zone: ZoneInfo
    week: dict[int, tuple[tuple[time, time | None], ...]]  # weekday → ((start, end or None=midnight), ...)
    holidays: frozenset[date]

    @property
    def always_open(self) -> bool:
        return not any(self.week.values())


ALWAYS_OPEN = Calendar(ZoneInfo("UTC"), {}, frozenset())


def calendar_for(team) -> Calendar:
    """The calendar of a team (a Team, its id, or None for the default)."""
    team_id = getattr(team, "pk", team)
    hours = None
    if team_id is not None:
        hours = BusinessHours.objects.filter(team_id=team_id).prefetch_related("holidays").first()
    if hours is None:
        hours = BusinessHours.objects.filter(team__isnull=True).prefetch_related("holidays").first()
    return build_calendar(hours) if hours is not None else ALWAYS_OPEN


def build_calendar(hours: BusinessHours) -> Calendar:
    try:
        zone = ZoneInfo(hours.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    week = {}
    for index, day in enumerate(WEEKDAYS):
        week[index] = tuple(parse_interval(i) for i in (hours.schedule or {}).get(day, []))
    return Calendar(zone, week, frozenset(h.date for h in hours.holidays.all()))


def parse_interval(interval) -> tuple[time, time | None]:
    """["09:00", "17:00"] → (09:00, 17:00); an end of "24:00" is midnight (None). Raises ValueError."""
    start, end = interval
    start_t = time.fromisoformat(start)
    end_t = None if end in ("24:00", "24:00:00") else time.fromisoformat(end)
    if end_t is not None and end_t <= start_t:
        raise ValueError(f"interval {start}-{end} ends before it starts")
    return start_t, end_t


def is_open(team, at: datetime | None = None) -> bool:
    """Whether the team is within business hours at `at` (default now)."""
    return calendar_is_open(calendar_for(team), at or timezone.now())


def add_business_time(team, start: datetime, minutes: float) -> datetime:
    """The moment `minutes` of business time after `start` (skips nights, weekends, holidays)."""
    return calendar_add(calendar_for(team), start, timedelta(minutes=minutes))


def business_minutes_between(team, start: datetime, end: datetime) -> float:
    """Business minutes elapsed between two moments (0 when end <= start)."""
    return calendar_minutes_between(calendar_for(team), start, end)


def calendar_minutes_between(calendar: Calendar, start: datetime, end: datetime) -> float:
    if end <= start:
        return 0.0
    if calendar.always_open:
        return (end - start).total_seconds() / 60
    total = 0.0
    for open_at, close_at in _intervals(calendar, start):
        if open_at >= end:
            break
        total += (min(close_at, end) - max(open_at, start)).total_seconds()
    return total / 60


def calendar_is_open(calendar: Calendar, at: datetime) -> bool:
    if calendar.always_open:
        return True
    local = at.astimezone(calendar.zone)
    if local.date() in calendar.holidays:
        return False
    for start, end in calendar.week.get(local.weekday(), ()):
        if start <= local.time() and (end is None or local.time() < end):
            return True
    return False


def calendar_add(calendar: Calendar, start: datetime, amount: timedelta) -> datetime:
    if calendar.always_open:
        return start + amount
    remaining = amount
    for open_at, close_at in _intervals(calendar, start):
        available = close_at - max(open_at, start)
        if remaining <= available:
            return max(open_at, start) + remaining
        remaining -= available
    raise ValueError("the calendar has no open time in the next three years")


def _intervals(calendar: Calendar, start: datetime):
    """Open intervals (as UTC datetimes) that end after `start`, in order."""
    day = start.astimezone(calendar.zone).date()
    for _ in range(MAX_DAYS):
        if day not in calendar.holidays:
            for open_t, close_t in calendar.week.get(day.weekday(), ()):
                open_at = _aware(day, open_t, calendar.zone)
                close_at = _aware(day + timedelta(days=1), time(0), calendar.zone) if close_t is None else _aware(day, close_t, calendar.zone)
                if close_at > start:
                    yield open_at, close_at
        day += timedelta(days=1)


def _aware(day: date, at: time, zone: ZoneInfo) -> datetime:
    # Wall-clock time in the zone; a time skipped by a DST jump resolves forward (fold=0 semantics).
    local = datetime.combine(day, at, tzinfo=zone)
    return local.astimezone(UTC).astimezone(zone).astimezone(UTC)
