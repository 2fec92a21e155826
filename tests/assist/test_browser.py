"""Real browser (Debian Chromium via Playwright): an admin builds a small flow, a visitor runs it on /widget/demo/,
and an agent inserts a suggested reply in the composer with one click."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from assist import indexing
from assist.flows.services import save_flow
from assist.models import Flow
from chat.models import ChatSession, Widget
from knowledge.services import save_article
from tests.conftest import login_page
from tests.factories import AgentFactory, MessageFactory, TeamFactory, TicketFactory
from tickets.models import Ticket

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
    chips = visitor.locator(".hd-bot").first.locator(".hd-chip")
    expect(chips).to_have_text(["Email us", "Talk to a person"])
    # The numbered options of the message text ("1. Email us") are shown once, as chips.
    expect(visitor.locator(".hd-bot").first.locator(".hd-text")).to_have_text("Hi! What do you need?")
    chips.first.click()  # sent as the visitor's message "Email us"
    expect(visitor.locator(".hd-visitor").last).to_have_text("Email us")
    expect(visitor.locator(".hd-bot").last).to_contain_text("Your email address?")
    expect(chips.first).to_be_disabled()  # answered
    visitor.locator(".hd-input").fill("nope")
    visitor.locator(".hd-input").press("Enter")
    expect(visitor.locator(".hd-bot").last).to_contain_text("Please type a valid email address.")
    visitor.locator(".hd-input").fill("me@example.org")
    visitor.locator(".hd-input").press("Enter")
    expect(visitor.locator(".hd-bot").last).to_contain_text("I am connecting you with a person")
    assert ChatSession.objects.get(widget__public_key="demo").ticket.team == billing
    # Nobody of Billing is online: rather than waiting in line forever the visitor may leave a message.
    expect(visitor.locator(".hd-form")).to_contain_text("No one is available right now")

    report = admin
    report.goto(asgi_server.url + f"/assist/flows/{flow.pk}/report/")
    expect(report.locator('[data-figure="handoff"]')).to_have_text("1")
    expect(report.locator('[data-step="ask1"] [data-col="entries"]')).to_have_text("1")


def test_with_nobody_online_the_flow_answers_with_buttons_and_articles_then_offers_email(asgi_server, browser):
    support = TeamFactory(name="Support")
    widget = Widget.objects.create(name="Demo shop", public_key="demo", team=support, allowed_domains=[])
    AgentFactory(username="away", teams=[support])  # offline
    save_article(author=None, title="Change your delivery address", slug="delivery-address", status="published",
                 body="Open the order under Orders and choose Edit address before it ships.")  # fmt: skip
    flow = Flow.objects.create(name="Front door", widget_id=widget.pk, active=True)
    save_flow(flow=flow, definition={
        "start": "topic",
        "steps": [
            {"id": "topic", "type": "buttons", "text": "What is it about?",
             "options": [{"label": "Delivery", "next": "kb"}, {"label": "Returns", "next": "bye"}]},
            {"id": "kb", "type": "kb", "text": "These may help:", "limit": 2, "resolved": "bye", "unresolved": "human"},
            {"id": "human", "type": "handoff", "text": "Let me find a person for you."},
            {"id": "bye", "type": "end", "text": "Glad I could help!"},
        ],
    })  # fmt: skip

    visitor = browser.new_context().new_page()
    visitor.goto(asgi_server.url + "/widget/demo/")
    visitor.locator(".hd-launcher").click()
    # No one is online, but the bot answers: the chat opens instead of the offline form.
    expect(visitor.locator(".hd-input")).to_be_visible()
    expect(visitor.locator(".hd-form")).to_have_count(0)
    visitor.locator(".hd-input").fill("How do I change my delivery address?")
    visitor.locator(".hd-input").press("Enter")
    topic = visitor.locator(".hd-bot").nth(0)
    expect(topic.locator(".hd-chip")).to_have_text(["Delivery", "Returns", "Talk to a person"])
    topic.get_by_role("button", name="Delivery").click()
    offer = visitor.locator(".hd-bot").nth(1)
    expect(offer.locator(".hd-text")).to_have_text("These may help:\nDid this answer your question?")
    expect(offer.locator("a.hd-article")).to_have_text("Change your delivery address")
    assert offer.locator("a.hd-article").get_attribute("href") == asgi_server.url + "/kb/delivery-address/"
    expect(topic.locator(".hd-chip").first).to_be_disabled()
    offer.get_by_role("button", name="No, I still need help").click()
    expect(visitor.locator(".hd-bot").last).to_contain_text("Let me find a person for you.")
    expect(offer.get_by_role("button", name="No, I still need help")).to_be_disabled()

    offline = visitor.locator(".hd-form")
    expect(offline).to_contain_text("No one is available right now")
    offline.locator("input[name=name]").fill("Vera")
    offline.locator("input[name=email]").fill("vera@example.org")
    offline.locator("textarea[name=text]").fill("Please change the address of order 1234.")
    offline.get_by_role("button", name="Send").click()
    expect(visitor.locator(".hd-note")).to_have_text("Thanks! We will answer by email.")
    email_ticket = Ticket.objects.get(messages__text="Please change the address of order 1234.")
    assert email_ticket.contact.email == "vera@example.org"
    assert ChatSession.objects.get(widget=widget).status == "ended"

    # After a reload (the panel stays open) a new conversation starts, and the bot answers it again.
    visitor.reload()
    expect(visitor.locator(".hd-input")).to_be_visible()
    expect(visitor.locator(".hd-bot")).to_have_count(0)
    expect(visitor.locator(".hd-form")).to_have_count(0)


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
