"""Badge criteria at and around their thresholds; each badge is awarded once."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from feedback.models import Survey
from gamification.models import AgentBadge, Badge
from gamification.services import award, evaluate_badges
from tests.factories import AgentFactory, TeamFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    return AgentFactory(username="alice", teams=[TeamFactory()])


def badge(**fields) -> Badge:
    defaults = {"slug": fields["criterion"], "name": fields["criterion"].title()}
    return Badge.objects.create(**{**defaults, **fields})


def held(agent) -> list[str]:
    return list(AgentBadge.objects.filter(agent=agent).values_list("badge__slug", flat=True))


def test_chat_badge_at_exactly_the_threshold_and_only_once(rules, alice):
    badge(criterion="chats_resolved", threshold=2)
    TicketFactory(assignee=alice, channel="chat", status="resolved")
    TicketFactory(assignee=alice, channel="email", status="resolved")  # not a chat
    TicketFactory(assignee=alice, channel="chat", status="open")  # not resolved
    assert evaluate_badges(agent_id=alice.pk) == []

    TicketFactory(assignee=alice, channel="chat", status="closed")
    assert [b.slug for b in evaluate_badges(agent_id=alice.pk)] == ["chats_resolved"]
    assert evaluate_badges(agent_id=alice.pk) == []
    assert held(alice) == ["chats_resolved"]


def test_fast_first_responses_count_only_within_the_limit(rules, alice):
    badge(criterion="fast_first_responses", threshold=2, seconds=30)
    now = timezone.now()
    TicketFactory(assignee=alice, created_at=now, first_response_at=now + timedelta(seconds=30))  # on the limit: counts
    TicketFactory(assignee=alice, created_at=now, first_response_at=now + timedelta(seconds=31))
    TicketFactory(assignee=alice, created_at=now, first_response_at=None)
    assert held(alice) == [] and evaluate_badges(agent_id=alice.pk) == []

    TicketFactory(assignee=alice, created_at=now, first_response_at=now + timedelta(seconds=5))
    assert [b.slug for b in evaluate_badges(agent_id=alice.pk)] == ["fast_first_responses"]


def _answered(agent, rating: int, when: datetime) -> None:
    ticket = TicketFactory(assignee=agent, channel="chat")
    Survey.objects.create(ticket=ticket, agent=agent, channel="chat", trigger="t", rating=rating, answered_at=when, expires_at=when + timedelta(days=7))


def test_weekly_csat_needs_the_average_and_the_minimum_in_one_week(rules, alice):
    badge(criterion="weekly_csat", threshold="4.8", minimum=3)
    monday = timezone.make_aware(datetime(2026, 3, 2, 10, 0))
    # Week 1: 5, 5 on Monday and Sunday... and a 4 on the next Monday (another week): each week is short of 3.
    _answered(alice, 5, monday)
    _answered(alice, 5, monday + timedelta(days=6, hours=13))
    _answered(alice, 5, monday + timedelta(days=7))
    assert evaluate_badges(agent_id=alice.pk) == []

    # Week 2 gets 5, 5, 4 → average 4.67: still not enough.
    _answered(alice, 5, monday + timedelta(days=8))
    _answered(alice, 4, monday + timedelta(days=9))
    assert evaluate_badges(agent_id=alice.pk) == []

    # Week 3: 5, 5, 5, 5, 4 → exactly 4.8.
    for rating in (5, 5, 5, 5, 4):
        _answered(alice, rating, monday + timedelta(days=15))
    assert [b.slug for b in evaluate_badges(agent_id=alice.pk)] == ["weekly_csat"]


def test_points_badge_arrives_with_the_award_that_crosses_it(rules, alice):
    badge(criterion="points", threshold=20)
    first = award(agent_id=alice.pk, reason="ticket_resolved", ref="ticket:1", notify=False)
    second = award(agent_id=alice.pk, reason="ticket_resolved", ref="ticket:2", notify=False)
    third = award(agent_id=alice.pk, reason="ticket_resolved", ref="ticket:3", notify=False)
    assert (first.badges, [b.slug for b in second.badges], third.badges) == ((), ["points"], ())


def test_inactive_badges_are_not_awarded(rules, alice):
    badge(criterion="points", threshold=0, active=False)
    assert evaluate_badges(agent_id=alice.pk) == []
