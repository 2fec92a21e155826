"""Two agents on the same ticket in real Chromium: each sees the other, typing shows, a reply by one makes
the other's send ask for confirmation."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import login_page
from tests.factories import AgentFactory, TeamFactory
from tickets.inbound import InboundMessage
from tickets.models import Message
from tickets.services import ingest

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_two_agents_see_each_other_and_collisions_ask_first(asgi_server, browser):
    team = TeamFactory(name="Support")
    AgentFactory(username="alice", first_name="Alice", last_name="Able", teams=[team])
    AgentFactory(username="bob", first_name="Bob", last_name="Baker", teams=[team])
    ticket = ingest(InboundMessage(channel="email", external_id="<collide@example.org>", sender_kind="email", sender_address="jane@example.org", subject="Refund?", text="Where is my refund?", team_id=team.pk)).ticket

    alice = login_page(browser, asgi_server, "alice")
    bob = login_page(browser, asgi_server, "bob")
    alice.goto(f"{asgi_server.url}/agent/tickets/{ticket.pk}/")
    bob.goto(f"{asgi_server.url}/agent/tickets/{ticket.pk}/")
    expect(alice.locator("#presence")).to_contain_text("Bob Baker", timeout=10_000)
    expect(bob.locator("#presence")).to_contain_text("Alice Able", timeout=10_000)
    expect(alice.locator("#presence")).not_to_contain_text("Alice Able")

    # Bob starts typing: Alice sees it.
    bob.locator("#reply-text").fill("Your refund")
    expect(alice.locator("#presence .presence-agent.typing")).to_contain_text("Bob Baker", timeout=10_000)

    # Bob sends; Alice, who opened the ticket before, is asked before her own reply goes out.
    bob.locator("#reply-text").fill("Your refund was sent today.")
    bob.locator("#reply-send").click()
    expect(alice.locator("#collision-warning")).to_be_visible(timeout=10_000)
    dialogs: list[str] = []

    def dismiss(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    alice.once("dialog", dismiss)
    alice.locator("#reply-text").fill("Refund is on its way!")
    alice.locator("#reply-send").click()
    expect(alice.locator("#reply-text")).to_have_value("Refund is on its way!")
    assert dialogs and "replied" in dialogs[0]
    assert not Message.objects.filter(ticket=ticket, text="Refund is on its way!").exists()

    # Bob leaves: Alice's presence list empties.
    bob.context.close()
    expect(alice.locator("#presence")).not_to_contain_text("Bob Baker", timeout=10_000)
    alice.context.close()


def test_queue_shows_sla_and_applies_macros_in_bulk_and_by_shortcut(asgi_server, browser):
    from datetime import UTC, datetime, timedelta

    from workflows.models import Macro, SlaPolicy
    from workflows.sla import check_due

    team = TeamFactory(name="Support")
    AgentFactory(username="alice", first_name="Alice", teams=[team])
    SlaPolicy.objects.create(name="Standard", first_response_minutes=60, business_hours=False)
    old = ingest(InboundMessage(channel="email", external_id="<q1@example.org>", sender_kind="email", sender_address="a@example.org", subject="Old one", text="hi", team_id=team.pk, received_at=datetime.now(UTC) - timedelta(hours=2))).ticket
    new = ingest(InboundMessage(channel="email", external_id="<q2@example.org>", sender_kind="email", sender_address="b@example.org", subject="New one", text="hi", team_id=team.pk)).ticket
    check_due()
    Macro.objects.create(name="Tag as billing", actions=[{"add_tag": "billing"}])
    Macro.objects.create(name="Escalate", shortcut="e", actions=[{"set_priority": "urgent"}])

    page = login_page(browser, asgi_server, "alice")
    expect(page.locator(f'tr[data-ticket="{old.pk}"] .sla-badge.sla-breached')).to_be_visible(timeout=10_000)
    expect(page.locator(f'tr[data-ticket="{new.pk}"] .sla-badge.sla-ok')).to_contain_text("First response")

    page.locator(f'tr[data-ticket="{old.pk}"] input[name=ticket]').check()
    page.locator(f'tr[data-ticket="{new.pk}"] input[name=ticket]').check()
    page.locator("#bulk-macro").select_option(label="Tag as billing")
    page.locator("#bulk-macro-apply").click()
    expect(page.locator(f'tr[data-ticket="{old.pk}"]')).to_contain_text("billing", timeout=10_000)
    assert {t.pk for t in type(old).objects.filter(tags__name="billing")} == {old.pk, new.pk}

    page.goto(f"{asgi_server.url}/agent/tickets/{new.pk}/")
    expect(page.locator("#sla-panel")).to_contain_text("First response")
    page.locator("body").press("e")
    expect(page.locator("#p-priority")).to_have_value("urgent", timeout=10_000)
    new.refresh_from_db()
    assert new.priority == "urgent"
    page.context.close()
