"""Real browser (Debian Chromium via Playwright): an admin builds a small flow, a visitor runs it on /widget/demo/,
and an agent inserts a suggested reply in the composer with one click."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from assist import indexing
from assist.models import Flow
from chat.models import ChatSession, Widget
from tests.conftest import login_page
from tests.factories import AgentFactory, MessageFactory, TeamFactory, TicketFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.server, pytest.mark.browser]


def test_an_admin_builds_a_flow_and_a_visitor_runs_it(asgi_server, browser):
    support, billing = TeamFactory(name="Support"), TeamFactory(name="Billing")
    Widget.objects.create(name="Demo shop", public_key="demo", team=support, allowed_domains=[])
    # The widget offers live chat only while someone of its team is online (chat app), so the boss is.
    AgentFactory(username="boss", teams=[support], profile={"role": "admin", "availability": "online"})

    admin = login_page(browser, asgi_server, "boss")
    admin.goto(asgi_server.url + "/assist/flows/")
    admin.fill("#nf-name", "Front door")
    admin.select_option("#nf-widget", label="Demo shop (demo)")
    admin.click("#new-flow button[type=submit]")
    expect(admin.locator("#flow-steps .assist-step")).to_have_count(4)  # the starter flow

    # Start with buttons; "Email" asks for a validated email address, then hands off to Billing.
    admin.select_option("#new-step-type", "buttons")
    admin.click("#add-step")
    step = admin.locator('[data-step="buttons1"]')
    step.locator('[data-name="text"]').fill("Hi! What do you need?")
    step.locator('[data-name="option-label"]').fill("Email us")
    step.get_by_role("button", name="Start here").click()
    admin.select_option("#new-step-type", "ask")
    admin.click("#add-step")
    ask = admin.locator('[data-step="ask1"]')
    ask.locator('[data-name="text"]').fill("Your email address?")
    ask.locator('[data-name="error"]').fill("Please type a valid email address.")
    ask.locator('[data-name="next"]').select_option("human")
    admin.locator('[data-step="buttons1"] [data-name="option-next"]').select_option("ask1")
    admin.locator('[data-step="human"] [data-name="team"]').select_option(label="Billing")
    # A branch on the flow's own opening hours (not reached from the start here; saved and validated).
    admin.select_option("#new-step-type", "branch")
    admin.click("#add-step")
    admin.locator('[data-step="branch1"] [data-name="on"]').select_option("hours")
    admin.locator('[data-step="branch1"] [data-name="day-0"]').check()
    admin.locator('[data-step="branch1"] [data-name="open"]').select_option("human")
    admin.locator('[data-step="branch1"] [data-name="closed"]').select_option("thanks")
    admin.check("#flow-active")
    admin.click("#save-flow")
    expect(admin.locator("#flow-status")).to_contain_text("Saved as version 2")
    flow = Flow.objects.get(name="Front door")
    assert flow.active and flow.live_version().definition["start"] == "buttons1"
    branch = next(st for st in flow.live_version().definition["steps"] if st["id"] == "branch1")
    assert branch["hours"] == {"timezone": "Europe/Helsinki", "days": {"0": ["09:00", "17:00"]}}

    visitor = browser.new_context().new_page()
    visitor.goto(asgi_server.url + "/widget/demo/")
    visitor.locator(".hd-launcher").click()
    visitor.locator(".hd-input").fill("hello")
    visitor.locator(".hd-input").press("Enter")
    expect(visitor.locator(".hd-bot").last).to_contain_text("1. Email us")
    visitor.locator(".hd-input").fill("1")
    visitor.locator(".hd-input").press("Enter")
    expect(visitor.locator(".hd-bot").last).to_contain_text("Your email address?")
    visitor.locator(".hd-input").fill("nope")
    visitor.locator(".hd-input").press("Enter")
    expect(visitor.locator(".hd-bot").last).to_contain_text("Please type a valid email address.")
    visitor.locator(".hd-input").fill("me@example.org")
    visitor.locator(".hd-input").press("Enter")
    expect(visitor.locator(".hd-bot").last).to_contain_text("I am connecting you with a person")
    assert ChatSession.objects.get(widget__public_key="demo").ticket.team == billing

    report = admin
    report.goto(asgi_server.url + f"/assist/flows/{flow.pk}/report/")
    expect(report.locator('[data-figure="handoff"]')).to_have_text("1")
    expect(report.locator('[data-step="ask1"] [data-col="entries"]')).to_have_text("1")


def test_an_agent_inserts_a_suggested_reply_with_one_click(asgi_server, browser):
    team = TeamFactory(name="Support")
    AgentFactory(username="alice", teams=[team])
    ticket = TicketFactory(team=team, subject="Login trouble")
    MessageFactory(ticket=ticket, text="I forgot my password and cannot log in")
    indexing.upsert_doc("canned", 1, title="Password reset", match="password reset forgot login",
                        answer="Open the login page and choose 'Forgot password'.")  # fmt: skip

    page = login_page(browser, asgi_server, "alice")
    page.goto(asgi_server.url + f"/agent/tickets/{ticket.pk}/")
    panel = page.locator("#assist-suggestions")
    expect(panel.locator(".assist-item").first).to_contain_text("Canned response")
    page.locator("#reply-text").fill("Hi!")
    panel.locator(".assist-insert").first.click()
    expect(page.locator("#reply-text")).to_have_value("Hi!\nOpen the login page and choose 'Forgot password'.")
