"""Leaderboards and profiles (reads)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.apps import apps
from django.db.models import Avg, Count, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import AgentBadge, Award, Level, Score
from .services import agents, level_for

PERIODS = ("day", "week", "month")


def period_start(period: str, now: datetime | None = None) -> datetime:
    """Start of today / this week (Monday) / this month, in the desk's time zone."""
    local = timezone.localtime(now or timezone.now())
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return midnight
    if period == "week":
        return midnight - timedelta(days=midnight.weekday())
    if period == "month":
        return midnight.replace(day=1)
    raise ValueError(f"unknown period {period!r}")


def leaderboard(*, period: str, team_id: int | None = None, now: datetime | None = None) -> list[dict]:
    """Agents ranked by points earned in the period.

    Ties: equal points share a rank (competition ranking: 1, 2, 2, 4); within a tie agents are listed by
    name, then id, so the order is stable. Agents with no points in the period are listed with 0.
    """
    start = period_start(period, now)
    # One index range per agent (award_agent_time), not a join over every award ever made.
    period_sum = Award.objects.filter(agent=OuterRef("pk"), created_at__gte=start).values("agent").annotate(s=Sum("points")).values("s")
    qs = agents()
    if team_id is not None:
        qs = qs.filter(helpdesk_teams=team_id)
    rows = list(
        qs.annotate(points=Coalesce(Subquery(period_sum), Value(0), output_field=IntegerField()))
        .order_by("-points", "first_name", "last_name", "username", "id")
        .values("id", "username", "first_name", "last_name", "points")
    )
    ids = [r["id"] for r in rows]
    totals = dict(Score.objects.filter(agent_id__in=ids).values_list("agent_id", "total"))
    badges: dict[int, list[dict]] = {}
    for ab in AgentBadge.objects.filter(agent_id__in=ids).select_related("badge"):
        badges.setdefault(ab.agent_id, []).append({"slug": ab.badge.slug, "name": ab.badge.name})
    levels = list(Level.objects.all())
    results, rank, previous = [], 0, None
    for position, row in enumerate(rows, start=1):
        if row["points"] != previous:
            rank, previous = position, row["points"]
        level = level_for(totals.get(row["id"], 0), levels)
        results.append(
            {
                "rank": rank,
                "agent": {"id": row["id"], "name": _name(row)},
                "points": row["points"],
                "total": totals.get(row["id"], 0),
                "level": level.name if level else "",
                "badges": badges.get(row["id"], []),
            }
        )
    return results


def profile(*, agent) -> dict:
    total = Score.objects.filter(agent=agent).values_list("total", flat=True).first() or 0
    levels = list(Level.objects.all())
    level = level_for(total, levels)
    next_level = next((lv for lv in levels if lv.min_points > total), None)
    return {
        "total": total,
        "level": level,
        "next_level": next_level,
        "badges": list(AgentBadge.objects.filter(agent=agent).select_related("badge")),
        "awards": list(Award.objects.filter(agent=agent).select_related("ticket")[:50]),
        "periods": {p: _sum_since(agent, period_start(p)) for p in PERIODS},
        "csat": _csat(agent),
    }


def _csat(agent) -> dict:
    """The agent's survey answers over the last 30 days (the feedback app's Survey)."""
    try:
        Survey = apps.get_model("feedback", "Survey")
    except LookupError:
        return {"answers": 0, "avg": None}
    since = timezone.now() - timedelta(days=30)
    return Survey.objects.filter(agent=agent, answered_at__gte=since, rating__isnull=False).aggregate(answers=Count("id"), avg=Avg("rating"))


def _sum_since(agent, start: datetime) -> int:
    return Award.objects.filter(agent=agent, created_at__gte=start).aggregate(s=Coalesce(Sum("points"), 0))["s"]


def _name(row: dict) -> str:
    return f"{row['first_name']} {row['last_name']}".strip() or row["username"]
