"""An agent finds a knowledge-base article from the ticket sidebar and puts it into a reply, in real Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import login_page
from tests.factories import AgentFactory, TeamFactory
from tests.knowledge.factories import ArticleFactory
from tickets.inbound import InboundMessage, ThreadHints
from tickets.models import Message
from tickets.services import ingest

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_agent_searches_the_kb_from_the_sidebar_and_inserts_an_article(asgi_server, browser):
    team = TeamFactory(name="Support")
    AgentFactory(username="alice", first_name="Alice", teams=[team])
    ArticleFactory(title="Download your invoices", body="Every invoice is a PDF under **Billing → Invoices**.", tags=["billing"])
    ArticleFactory(title="Refund exceptions playbook", body="Refunds after 14 days need a supervisor.", visibility="internal")
    ArticleFactory(title="Reset your password", body="Choose *Forgot password?* on the sign-in page.")
    ticket = ingest(
        InboundMessage(
            channel="email", external_id="<kb-browser-1@example.org>", sender_kind="email", sender_address="maija@example.org",
            sender_name="Maija", subject="Login trouble", text="Hi, I forgot my password and cannot log in.", team_id=team.pk,
        )
    ).ticket

    page = login_page(browser, asgi_server, "alice")
    page.goto(f"{asgi_server.url}/agent/tickets/{ticket.pk}/")
    panel = page.locator("#kb-panel")
    # Suggested from the customer's latest message before the agent types anything.
    expect(panel.locator(".kb-panel-item").first).to_contain_text("Reset your password")

    # The customer writes again: the suggestions follow the new message, live.
    expect(page.locator("#live-status")).to_have_class("live-status live")
    ingest(
        InboundMessage(
            channel="email", external_id="<kb-browser-2@example.org>", sender_kind="email", sender_address="maija@example.org",
            sender_name="Maija", subject="Re: Login trouble", text="Also, where can I get a PDF of my invoice?",
            thread=ThreadHints(ticket_id=ticket.pk), team_id=team.pk,
        )
    )
    expect(panel.locator(".kb-panel-item").first).to_contain_text("Download your invoices", timeout=10_000)

    # Search as you type, prefix of the last word.
    page.locator("#kb-panel-q").fill("invoi")
    first = panel.locator(".kb-panel-item").first
    expect(first).to_contain_text("Download your invoices")
    expect(first.locator("mark").first).to_be_visible()

    page.locator("#reply-text").fill("Hello Maija,")
    first.locator(".kb-insert-link").click()
    expect(page.locator("#reply-text")).to_have_value(f"Hello Maija,\nDownload your invoices: {asgi_server.url}/kb/download-your-invoices/")

    # Internal articles can be pasted as a snippet but offer no public link.
    page.locator("#kb-panel-q").fill("refund")
    internal = panel.locator(".kb-panel-item").first
    expect(internal).to_contain_text("Refund exceptions playbook")
    expect(internal.locator(".kb-insert-link")).to_have_count(0)

    # A typo offers a correction that searches again on click.
    page.locator("#kb-panel-q").fill("pasword")
    expect(page.locator("#kb-panel-status")).to_contain_text("password")
    page.locator(".kb-panel-suggest").click()
    expect(panel.locator(".kb-panel-item").first).to_contain_text("Reset your password")

    page.locator("#reply-send").click()
    expect(page.locator("#timeline")).to_contain_text("/kb/download-your-invoices/")
    reply = Message.objects.get(ticket=ticket, direction="outbound")
    assert reply.text == f"Hello Maija,\nDownload your invoices: {asgi_server.url}/kb/download-your-invoices/"
