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
