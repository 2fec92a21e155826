from __future__ import annotations

import pytest

from gamification.models import Badge, Level, PointRule


@pytest.fixture
def rules(db):
    """Known point values (the migration's defaults may be edited by admins; tests pin their own)."""
    values = {
        "first_response": (5, 60), "ticket_resolved": (10, None), "chat_resolved": (7, None), "five_star_survey": (15, None),
        "article_published": (20, None), "suggestion_accepted": (25, None), "sla_breached": (-10, None),
    }
    for reason, (points, target) in values.items():
        PointRule.objects.update_or_create(reason=reason, defaults={"points": points, "target_seconds": target, "active": True})
    Level.objects.get_or_create(min_points=0, defaults={"name": "Rookie"})
    Level.objects.get_or_create(min_points=100, defaults={"name": "Helper"})
    for slug, name, criterion in (("speedy", "Speedy", "fast_first_responses"), ("thousand-points", "High scorer", "points")):
        Badge.objects.get_or_create(slug=slug, defaults={"name": name, "criterion": criterion, "threshold": 1000, "seconds": 30})
    Badge.objects.update(active=False)  # each badge test enables the badge it is about
    return values
