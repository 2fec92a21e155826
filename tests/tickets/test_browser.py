"""The agent workspace in real headless Chromium against a running daphne."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import login_page
from tests.factories import AgentFactory, TeamFactory
from tickets.inbound import InboundMessage, ThreadHints
from tickets.models import Message
from tickets.services import ingest

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def email(n: int, team_id: int, subject: str) -> InboundMessage:
    return InboundMessage(
        channel="email", external_id=f"<browser-{n}@example.org>", sender_kind="email",
        sender_address=f"customer{n}@example.org", sender_name=f"Customer {n}", subject=subject,
        text=f"Body of {subject}", team_id=team_id,
    )  # fmt: skip


def test_agent_works_the_queue_and_sees_new_tickets_live(asgi_server, browser):
    team = TeamFactory(name="Support")
    AgentFactory(username="alice", first_name="Alice", teams=[team])
    first = ingest(email(1, team.pk, "Cannot log in")).ticket

    page = login_page(browser, asgi_server, "alice")
    expect(page.locator("#queue-body")).to_contain_text("Cannot log in")
    expect(page.locator("#live-status")).to_have_class("live-status live")

    # A ticket ingested while the queue is open appears without a reload.
    ingest(email(2, team.pk, "Invoice is wrong"))
    expect(page.locator("#queue-body tr").first).to_contain_text("Invoice is wrong", timeout=10_000)

    # Open the first ticket with the keyboard, reply.
    page.locator(f'tr[data-ticket="{first.pk}"] .subject-text').click()
    page.wait_for_url(f"**/agent/tickets/{first.pk}/")
    expect(page.locator("#timeline")).to_contain_text("Body of Cannot log in")
    page.keyboard.press("r")
    page.locator("#reply-text").fill("Hi! I have reset your password.")
    page.locator("#reply-send").click()
    expect(page.locator("#timeline")).to_contain_text("Hi! I have reset your password.")
    expect(page.locator("#reply-text")).to_have_value("")
    reply = Message.objects.get(ticket=first, direction="outbound")
    assert reply.text == "Hi! I have reset your password." and reply.channel == "email"

    # A customer message on the open ticket shows up live in the timeline.
    ingest(InboundMessage(channel="email", external_id="<browser-3@example.org>", sender_kind="email", sender_address="customer1@example.org", text="Thanks, works now!", thread=ThreadHints(ticket_id=first.pk)))
    expect(page.locator("#timeline")).to_contain_text("Thanks, works now!", timeout=10_000)
    page.context.close()
