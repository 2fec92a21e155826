"""A real browser: an agent resolves a chat and sees the points arrive and the leaderboard re-rank live."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from gamification.models import Award, PointRule
from gamification.services import recompute_totals
from tests.conftest import login_page
from tests.factories import AgentFactory, TeamFactory, TicketFactory


@pytest.mark.django_db(transaction=True)
def test_resolving_a_chat_updates_points_and_leaderboard_live(asgi_server, browser):
    PointRule.objects.update_or_create(reason="chat_resolved", defaults={"points": 10, "active": True})
    support = TeamFactory(name="Support")
    alice = AgentFactory(username="alice", first_name="Alice", last_name="Andersson", teams=[support])
    bob = AgentFactory(username="bob", first_name="Bob", last_name="Berg", teams=[support])
    Award.objects.create(agent=bob, reason="adjustment", points=5, ref="warmup", created_at=timezone.now())
    recompute_totals()
    ticket = TicketFactory(team=support, assignee=alice, channel="chat", status="open", subject="Printer on fire")

    board = login_page(browser, asgi_server, "alice")
    board.goto(f"{asgi_server.url}/agent/leaderboard/?period=day&team={support.pk}")
    board.locator("body[data-socket='open']").wait_for(timeout=15000)  # selectors, not eval: the CSP forbids it
    rows = board.locator("#leaderboard-body tr")
    assert rows.nth(0).locator(".name").inner_text() == "Bob Berg"

    workspace = board.context.new_page()
    workspace.goto(f"{asgi_server.url}/agent/tickets/{ticket.pk}/")
    workspace.click("#resolve-form button[type=submit]")
    workspace.wait_for_load_state()

    toast = board.locator("#points-toast")
    toast.wait_for(state="visible", timeout=15000)
    assert "+10" in toast.inner_text() and "Chat resolved" in toast.inner_text()
    expect(rows.nth(0).locator(".name")).to_have_text("Alice Andersson", timeout=15000)
    assert rows.nth(0).locator(".points").inner_text() == "10"
    assert rows.nth(0).locator(".rank").inner_text() == "1"
    assert rows.nth(1).locator(".name").inner_text() == "Bob Berg"
    board.context.close()
