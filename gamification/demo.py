"""Demo data: a few awards so the leaderboard is not empty (rules, levels and badges come from the migration)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils import timezone

from .models import Award, Reason
from .services import recompute_totals


def seed(stdout) -> None:
    users = {u.username: u for u in get_user_model().objects.filter(username__in=["alice", "bob", "carol", "dave"])}
    now = timezone.now()
    plan = {"alice": 3, "bob": 2, "carol": 4, "dave": 1}
    rows = [
        Award(agent=users[name], reason=Reason.TICKET_RESOLVED, points=10, ref=f"demo:{name}:{i}", note="demo", created_at=now)
        for name, count in plan.items() if name in users for i in range(count)
    ]
    Award.objects.bulk_create(rows, ignore_conflicts=True)
    recompute_totals()
    stdout.write("Gamification: demo awards.")
