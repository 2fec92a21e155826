"""Leaderboards: per period and team, ranked, ties defined; the API shape of CONTRACT; the live frames."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from gamification.models import AgentBadge, Award, Badge
from gamification.selectors import leaderboard, period_start
from gamification.services import award, recompute_totals
from tests.factories import AgentFactory, TeamFactory

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(datetime(2026, 3, 11, 15, 0))  # a Wednesday


def give(agent, points: int, when: datetime, ref: str) -> None:
    Award.objects.create(agent=agent, reason="adjustment", points=points, ref=ref, created_at=when)


@pytest.fixture
def desk(rules):
    support, billing = TeamFactory(name="Support"), TeamFactory(name="Billing")
    people = {
        "alice": AgentFactory(username="alice", first_name="Alice", last_name="A", teams=[support]),
        "bob": AgentFactory(username="bob", first_name="Bob", last_name="B", teams=[support]),
        "carol": AgentFactory(username="carol", first_name="Carol", last_name="C", teams=[billing]),
        "dave": AgentFactory(username="dave", first_name="Dave", last_name="D", teams=[billing]),
    }
    give(people["alice"], 30, NOW - timedelta(hours=1), "a1")  # today
    give(people["bob"], 30, NOW - timedelta(days=1), "b1")  # Tuesday: this week, not today
    give(people["carol"], 50, NOW - timedelta(days=9), "c1")  # last month... no: 2 March, this month
    give(people["dave"], 30, NOW - timedelta(hours=2), "d1")
    give(people["dave"], 5, NOW - timedelta(days=40), "d2")  # January: no current period
    recompute_totals()
    return support, billing, people


def names(results) -> list[tuple[int, str, int]]:
    return [(r["rank"], r["agent"]["name"].split()[0], r["points"]) for r in results]


def test_periods_start_today_monday_and_the_first():
    assert period_start("day", NOW) == timezone.make_aware(datetime(2026, 3, 11))
    assert period_start("week", NOW) == timezone.make_aware(datetime(2026, 3, 9))
    assert period_start("month", NOW) == timezone.make_aware(datetime(2026, 3, 1))


def test_ties_share_a_rank_and_list_by_name(desk):
    assert names(leaderboard(period="day", now=NOW)) == [(1, "Alice", 30), (1, "Dave", 30), (3, "Bob", 0), (3, "Carol", 0)]
    assert names(leaderboard(period="week", now=NOW)) == [(1, "Alice", 30), (1, "Bob", 30), (1, "Dave", 30), (4, "Carol", 0)]
    assert names(leaderboard(period="month", now=NOW)) == [(1, "Carol", 50), (2, "Alice", 30), (2, "Bob", 30), (2, "Dave", 30)]


def test_team_board_lists_only_its_members(desk):
    support, billing, _people = desk
    assert names(leaderboard(period="month", team_id=billing.pk, now=NOW)) == [(1, "Carol", 50), (2, "Dave", 30)]


def test_api_shape_with_level_and_badges(desk, client: Client):
    support, _billing, people = desk
    Badge.objects.filter(slug="speedy").update(active=True)
    AgentBadge.objects.create(agent=people["alice"], badge=Badge.objects.get(slug="speedy"))
    award(agent_id=people["alice"].pk, reason="ticket_resolved", ref="ticket:9", notify=False)
    client.force_login(people["bob"])

    body = client.get(f"/api/v1/leaderboard/?period=day&team={support.pk}").json()

    assert body["period"] == "day" and body["team"] == support.pk
    top = body["results"][0]
    assert top["rank"] == 1 and top["agent"] == {"id": people["alice"].pk, "name": "Alice A"}
    assert top["points"] >= 10 and top["level"] == "Rookie"
    assert top["badges"] == [{"slug": "speedy", "name": "Speedy"}]


def test_api_refuses_bad_parameters(desk, client: Client):
    client.force_login(desk[2]["alice"])
    assert client.get("/api/v1/leaderboard/?period=year").status_code == 400
    assert client.get("/api/v1/leaderboard/?team=abc").status_code == 400
    assert client.get("/api/v1/leaderboard/?team=999999").status_code == 404


def test_api_needs_an_agent(client: Client):
    assert client.get("/api/v1/leaderboard/").status_code in (401, 403)


def test_pages_render_board_and_profile(desk, client: Client):
    _support, _billing, people = desk
    client.force_login(people["carol"])
    page = client.get("/agent/leaderboard/?period=month").content.decode()
    assert "Carol C" in page and 'data-period="month"' in page
    profile = client.get(f"/agent/profile/{people['carol'].pk}/").content.decode()
    assert ">50<" in profile
    assert client.get("/agent/profile/999999/").status_code == 404


def test_profile_shows_badges_and_csat(desk, client: Client):
    from feedback.models import Survey
    from tests.factories import TicketFactory

    _support, _billing, people = desk
    Badge.objects.filter(slug="speedy").update(active=True)
    AgentBadge.objects.create(agent=people["alice"], badge=Badge.objects.get(slug="speedy"))
    for rating in (5, 4):
        ticket = TicketFactory(assignee=people["alice"])
        Survey.objects.create(ticket=ticket, agent=people["alice"], channel="chat", trigger="t", rating=rating, answered_at=timezone.now(), expires_at=timezone.now())
    client.force_login(people["bob"])
    page = client.get(f"/agent/profile/{people['alice'].pk}/").content.decode()
    assert "Speedy" in page and "4.50 / 5 from 2 answers" in page


def test_board_queries_do_not_grow_with_agents(desk, client: Client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _support, _billing, people = desk
    client.force_login(people["alice"])

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/api/v1/leaderboard/?period=month").status_code == 200
        return len(ctx.captured_queries)

    before = count()
    for i in range(5):
        agent = AgentFactory(username=f"extra{i}")
        give(agent, i + 1, NOW, f"x{i}")
        Badge.objects.filter(slug="speedy").update(active=True)
        AgentBadge.objects.create(agent=agent, badge=Badge.objects.get(slug="speedy"))
    assert count() == before
