"""Real browsers (Debian Chromium via Playwright): a visitor on /widget/demo/ and an agent on /agent/chats/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from chat.models import ChatSession
from tests.chat.conftest import CannedFactory, WidgetFactory
from tests.conftest import login_page
from tests.factories import AgentFactory, TeamFactory
from tickets.models import AgentProfile, Message

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.server, pytest.mark.browser]


def visitor_page(browser, server):
    page = browser.new_context().new_page()
    page.goto(server.url + "/widget/demo/")
    page.locator(".hd-launcher").click()
    expect(page.locator(".hd-greeting")).to_be_visible()
    return page


def visitor_says(page, text: str) -> None:
    page.locator(".hd-input").fill(text)
    page.locator(".hd-input").press("Enter")
    expect(page.locator(".hd-visitor:not(.hd-pending)", has_text=text)).to_be_visible()


def accept_next_offer(agent) -> None:
    offer = agent.locator(".offer").first
    expect(offer).to_be_visible(timeout=10_000)
    offer.locator("button.accept").click()


def test_visitor_draft_shows_live_then_the_agent_answers_with_a_canned_shortcut(chat_server, browser):
    team = TeamFactory(name="Support")
    WidgetFactory(public_key="demo", team=team, allowed_domains=[], greeting="Hi! Ask us anything.")
    alice = AgentFactory(username="alice", first_name="Alice", teams=[team])
    AgentProfile.objects.filter(user=alice).update(availability="online")
    CannedFactory(shortcut="thanks", title="Thanks for waiting", team=team, body="Thanks for waiting, {{agent.name}} here. Your ticket is #{{ticket.id}}.")

    agent = login_page(browser, chat_server, "alice")
    agent.goto(chat_server.url + "/agent/chats/")
    expect(agent.locator("body[data-socket=open]")).to_have_count(1)

    customer = visitor_page(browser, chat_server)
    visitor_says(customer, "Hello, I need help with an order")
    accept_next_offer(agent)
    pane = agent.locator(".chat-pane:not([hidden])")
    expect(pane.locator(".chat-timeline")).to_contain_text("Hello, I need help with an order")
    expect(customer.locator(".hd-note")).to_contain_text("Alice")

    # the visitor types; the agent sees the draft, marked as not sent, before it is sent
    customer.locator(".hd-input").press_sequentially("My order number is 4711", delay=20)
    draft = pane.locator(".chat-draft")
    expect(draft).to_be_visible()
    expect(draft.locator(".chat-draft-text")).to_have_text("My order number is 4711")
    expect(draft.locator(".typing-label")).to_contain_text("not sent")
    assert not Message.objects.filter(text__contains="4711").exists()
    customer.locator(".hd-input").press("Enter")
    expect(pane.locator(".chat-timeline")).to_contain_text("My order number is 4711")
    expect(draft).to_be_hidden()

    # the agent answers with /thanks: the list filters as they type, Enter inserts the expanded text
    composer = pane.locator(".chat-text")
    composer.click()
    composer.press_sequentially("/than", delay=30)
    expect(agent.locator(".canned-menu")).to_contain_text("/thanks")
    composer.press("Enter")
    ticket_id = ChatSession.objects.get(widget__public_key="demo").ticket_id
    expected = f"Thanks for waiting, Alice here. Your ticket is #{ticket_id}."
    expect(composer).to_have_value(expected)
    composer.press("Enter")
    expect(customer.locator(".hd-agent", has_text=expected)).to_be_visible()
    expect(pane.locator(".chat-timeline")).to_contain_text(expected)
    assert Message.objects.get(text=expected).author_agent_id == alice.pk


def test_an_agent_handles_three_chats_at_once(chat_server, browser):
    team = TeamFactory(name="Support")
    WidgetFactory(public_key="demo", team=team, allowed_domains=[])
    bob = AgentFactory(username="bob", first_name="Bob", teams=[team], profile={"max_chats": 3})
    AgentProfile.objects.filter(user=bob).update(availability="online")

    agent = login_page(browser, chat_server, "bob")
    agent.goto(chat_server.url + "/agent/chats/")
    expect(agent.locator("body[data-socket=open]")).to_have_count(1)

    customers = []
    for n in range(3):
        page = visitor_page(browser, chat_server)
        visitor_says(page, f"Question from customer {n}")
        accept_next_offer(agent)
        expect(agent.locator(".chat-item")).to_have_count(n + 1)
        customers.append(page)

    items = agent.locator(".chat-item")
    # a draft in the first chat survives switching to the others
    items.nth(0).click()
    first_pane = agent.locator(".chat-pane:not([hidden])")
    expect(first_pane.locator(".chat-timeline")).to_contain_text("customer 0")
    first_pane.locator(".chat-text").fill("half-written answer")
    items.nth(1).click()
    expect(agent.locator(".chat-pane:not([hidden]) .chat-timeline")).to_contain_text("customer 1")

    # a message in a chat that is not open shows as unread
    visitor_says(customers[2], "Are you still there?")
    expect(items.nth(2).locator(".chat-unread")).to_have_text("1")

    for n in range(3):
        items.nth(n).click()
        pane = agent.locator(".chat-pane:not([hidden])")
        if n == 0:
            expect(pane.locator(".chat-text")).to_have_value("half-written answer")
        pane.locator(".chat-text").fill(f"Answer for customer {n}")
        pane.locator(".chat-text").press("Enter")
    expect(items.nth(2).locator(".chat-unread")).to_have_text("")
    for n, page in enumerate(customers):
        expect(page.locator(".hd-agent", has_text=f"Answer for customer {n}")).to_be_visible()
        expect(page.locator(".hd-agent", has_text=re.compile(rf"Answer for customer [^{n}]"))).to_have_count(0)


def test_ending_the_chat_shows_the_survey_inline_and_the_answer_is_stored(chat_server, browser):
    from feedback.models import Survey

    team = TeamFactory(name="Support")
    WidgetFactory(public_key="demo", team=team, allowed_domains=[])
    carol = AgentFactory(username="carol", first_name="Carol", teams=[team])
    AgentProfile.objects.filter(user=carol).update(availability="online")

    agent = login_page(browser, chat_server, "carol")
    agent.goto(chat_server.url + "/agent/chats/")
    expect(agent.locator("body[data-socket=open]")).to_have_count(1)
    customer = visitor_page(browser, chat_server)
    visitor_says(customer, "Thanks, that was all")
    accept_next_offer(agent)
    expect(customer.locator(".hd-note")).to_contain_text("Carol")

    customer.locator(".hd-end").click()
    expect(customer.locator(".hd-note")).to_contain_text("ended")
    survey = customer.locator(".hd-survey")
    expect(survey).to_be_visible()
    survey.locator(".hd-star", has_text="4").click()
    survey.locator(".hd-comment").fill("Quick and friendly")
    survey.locator("button[type=submit]").click()
    expect(customer.locator(".hd-thanks")).to_be_visible()
    answered = Survey.objects.get(ticket__chat_sessions__widget__public_key="demo")
    assert answered.rating == 4 and answered.comment == "Quick and friendly"
    expect(agent.locator(".chat-item.ended")).to_have_count(1)


def test_suggested_articles_before_the_first_message_and_a_deflection_when_closed(chat_server, browser):
    from knowledge.models import Deflection
    from tests.knowledge.factories import ArticleFactory

    team = TeamFactory(name="Support")
    WidgetFactory(public_key="demo", team=team, allowed_domains=[])
    AgentProfile.objects.filter(user=AgentFactory(teams=[team])).update(availability="online")
    article = ArticleFactory(title="Reset a forgotten password", body="Open the login page and choose Forgot password.")

    customer = visitor_page(browser, chat_server)
    customer.locator(".hd-input").press_sequentially("I forgot my password", delay=20)
    link = customer.locator(".hd-article", has_text="Reset a forgotten password")
    expect(link).to_be_visible(timeout=10_000)
    with customer.context.expect_page() as opened:
        link.click()
    opened.value.close()
    customer.locator(".hd-close").click()
    expect(customer.locator(".hd-panel")).to_be_hidden()
    deadline = 50
    while not Deflection.objects.filter(article=article, widget_key="demo").exists() and deadline:
        customer.wait_for_timeout(100)
        deadline -= 1
    assert Deflection.objects.filter(article=article, widget_key="demo").count() == 1
    assert not Message.objects.filter(text__contains="forgot").exists()


def test_the_widget_works_when_embedded_on_another_site_and_only_there(chat_server, browser, tmp_path):
    """A customer's site on another origin (http://127.0.0.2:<port>, not one of the desk's hosts) embeds
    /widget.js from the desk; a widget that does not list that site refuses to open there."""
    import functools
    import http.server
    import threading

    from tests.conftest import free_port

    team = TeamFactory(name="Support")
    WidgetFactory(public_key="shopkey", team=team, allowed_domains=["127.0.0.2"], greeting="Welcome to the shop!")
    WidgetFactory(public_key="otherkey", team=team, allowed_domains=["shop.example.com"], greeting="Not here")
    AgentProfile.objects.filter(user=AgentFactory(teams=[team])).update(availability="online")
    for key in ("shopkey", "otherkey"):
        (tmp_path / f"{key}.html").write_text(
            f'<!doctype html><title>Shop</title><h1>Shop</h1><script src="{chat_server.url}/widget.js" data-widget="{key}" async></script>'
        )
    port = free_port()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    site = http.server.ThreadingHTTPServer(("127.0.0.2", port), handler)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    try:
        page = browser.new_context().new_page()
        page.goto(f"http://127.0.0.2:{port}/shopkey.html")
        page.locator(".hd-launcher").click()
        expect(page.locator(".hd-greeting")).to_have_text("Welcome to the shop!")
        visitor_says(page, "Hello from the shop site")
        assert Message.objects.filter(text="Hello from the shop site", channel="chat").exists()

        other = browser.new_context().new_page()
        ended: list[str] = []  # the desk refuses the handshake from a site the widget does not list

        def watch(socket) -> None:
            socket.on("close", lambda _socket: ended.append("closed"))
            socket.on("socketerror", lambda _error: ended.append("refused"))

        other.on("websocket", watch)
        other.goto(f"http://127.0.0.2:{port}/otherkey.html")
        for _ in range(100):
            if ended:
                break
            other.wait_for_timeout(100)
        assert ended, "the widget's socket from an unlisted site was neither refused nor closed"
        assert other.evaluate("window.helpdeskChat.isWelcomed()") is False
        expect(other.locator(".hd-greeting")).to_have_count(0)
    finally:
        site.shutdown()
