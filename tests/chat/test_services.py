"""Chat services and HTTP resources: hooks and bot replies, chat.ended, canned responses, spelling, widgets."""

from __future__ import annotations

import datetime as dt

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from chat import hooks, services
from chat.models import CannedResponse, ChatSession, SessionStatus, Widget
from chat.origins import widget_origin_allowed
from tests.chat.conftest import CannedFactory, WidgetFactory, run, say, visitor
from tests.factories import AgentFactory, TeamFactory, TicketFactory
from tickets import events
from tickets.services import reply


def api(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db(transaction=True)
@pytest.mark.server
def test_a_pre_routing_flow_takes_the_message_and_its_bot_reply_reaches_the_visitor(chat_server):
    widget = WidgetFactory()
    seen = []

    def flow(session, message):
        seen.append(message.text)
        reply(ticket=message.ticket, agent=None, bot=True, text="I am the bot. What is your order number?")
        return True

    async def scenario():
        ws, welcome = await visitor(chat_server, widget.public_key)
        ack = await say(ws, "c-1", "hello")
        # the server process routes; here the flow runs in-process like a chat flow app would
        session = await sync_to_async(ChatSession.objects.get)(pk=welcome["session"])
        await sync_to_async(ChatSession.objects.filter(pk=session.pk).update)(status=SessionStatus.NEW)
        hooks.register_pre_routing(flow)
        try:
            await sync_to_async(services.post_message)(session_id=session.pk, client_id="c-2", text="my order")
        finally:
            hooks.unregister_pre_routing(flow)
        bot = await ws.recv_until(lambda f: f["type"] == "message" and f["author"] == "bot")
        assert bot["text"].startswith("I am the bot") and bot["id"] > ack["id"]
        await ws.close()
        return session.pk

    session_id = run(scenario())
    assert seen == ["my order"]
    assert ChatSession.objects.get(pk=session_id).status == SessionStatus.BOT


@pytest.mark.django_db(transaction=True)
def test_ending_a_chat_publishes_chat_ended_once_after_commit():
    widget = WidgetFactory()
    agent = AgentFactory(teams=[widget.team])
    ticket = TicketFactory(channel="chat", team=widget.team)
    session = ChatSession.objects.create(token_hash="h" * 64, widget=widget, team=widget.team, ticket=ticket, assigned_agent=agent, status="active")
    received = []

    def listener(kind, data):
        received.append((kind, data))

    events.subscribe("chat.ended", listener)
    try:
        services.end_session(session_id=session.pk, by="agent", agent=agent, resolve=True)
        services.end_session(session_id=session.pk, by="visitor")
    finally:
        events.unsubscribe("chat.ended", listener)
    assert received == [("chat.ended", {"ticket_id": ticket.pk, "session_id": session.pk, "agent_id": agent.pk})]
    ticket.refresh_from_db()
    assert ticket.status == "resolved"


@pytest.mark.django_db
def test_canned_responses_are_personal_team_or_global_and_expand_variables():
    support, billing = TeamFactory(), TeamFactory()
    alice = AgentFactory(first_name="Alice", teams=[support])
    mine = CannedFactory(shortcut="thanks", owner=alice)
    team = CannedFactory(shortcut="refund", team=support)
    CannedFactory(shortcut="other", team=billing)
    CannedFactory(shortcut="someone", owner=AgentFactory(teams=[support]))
    everyone = CannedFactory(shortcut="hello")
    client = api(alice)
    listed = client.get("/api/v1/canned-responses/").json()["results"]
    assert {c["shortcut"] for c in listed} == {"thanks", "refund", "hello"}
    assert set(listed[0]) >= {"id", "shortcut", "title", "body", "team", "owner"}
    ticket = TicketFactory(team=support, contact__name="Maija")
    used = client.post(f"/api/v1/canned-responses/{team.pk}/use/", {"ticket": ticket.pk}, content_type="application/json").json()
    assert used["text"] == f"Hello Maija, Alice here about #{ticket.pk}."
    team.refresh_from_db()
    assert team.usage_count == 1
    hidden = TicketFactory(team=billing)
    assert client.post(f"/api/v1/canned-responses/{mine.pk}/use/", {"ticket": hidden.pk}, content_type="application/json").status_code == 404
    assert everyone.pk in [c["id"] for c in listed]


@pytest.mark.django_db
def test_agents_create_personal_canned_responses_and_only_managers_team_ones():
    support = TeamFactory()
    alice = AgentFactory(teams=[support])
    lead = AgentFactory(teams=[support], profile={"role": "supervisor"})
    created = api(alice).post("/api/v1/canned-responses/", {"shortcut": "/Bye", "title": "Bye", "body": "Bye {{contact.name}}"}, content_type="application/json")
    assert created.status_code == 201 and created.json()["owner"] == alice.pk and created.json()["shortcut"] == "bye"
    duplicate = api(alice).post("/api/v1/canned-responses/", {"shortcut": "bye", "title": "Again", "body": "x"}, content_type="application/json")
    assert duplicate.status_code == 400
    refused = api(alice).post("/api/v1/canned-responses/", {"shortcut": "t", "title": "T", "body": "x", "team": support.pk}, content_type="application/json")
    assert refused.status_code == 403
    allowed = api(lead).post("/api/v1/canned-responses/", {"shortcut": "t", "title": "T", "body": "x", "team": support.pk}, content_type="application/json")
    assert allowed.status_code == 201 and allowed.json()["owner"] is None
    assert CannedResponse.objects.count() == 2


@pytest.mark.django_db
def test_spelling_suggestions_come_from_a_real_dictionary_and_finnish_says_unavailable():
    agent = AgentFactory(teams=[TeamFactory()])
    english = api(agent).post("/api/v1/chat/spellcheck/", {"text": "Thank you for your pateince", "language": "en"}, content_type="application/json").json()
    assert english["available"] is True
    assert english["misspelled"][0]["word"] == "pateince" and "patience" in english["misspelled"][0]["suggestions"]
    finnish = api(agent).post("/api/v1/chat/spellcheck/", {"text": "Kiitos kärsivällisyydestä", "language": "fi"}, content_type="application/json").json()
    assert finnish == {"language": "fi", "available": False, "misspelled": []}


@pytest.mark.django_db
def test_widget_api_is_for_admins_and_never_returns_the_secret():
    team = TeamFactory()
    admin = AgentFactory(teams=[team], profile={"role": "admin"})
    agent = AgentFactory(teams=[team])
    body = {"name": "Shop", "team": team.pk, "allowed_domains": ["shop.example.com"], "greeting": "Hei!", "secret": "s" * 32}
    assert api(agent).post("/api/v1/widgets/", body, content_type="application/json").status_code == 403
    created = api(admin).post("/api/v1/widgets/", body, content_type="application/json")
    assert created.status_code == 201
    data = created.json()
    assert "secret" not in data and data["public_key"] and data["allowed_domains"] == ["shop.example.com"]
    assert Widget.objects.get(pk=data["id"]).secret == "s" * 32
    bad = api(admin).post("/api/v1/widgets/", {**body, "allowed_domains": ["not a host"]}, content_type="application/json")
    assert bad.status_code == 400


@pytest.mark.django_db
def test_origins_allow_the_widget_domains_and_the_demo_widget_the_desks_own_hosts(settings):
    settings.CHAT_WIDGET_CACHE_SECONDS = 0
    WidgetFactory(public_key="shop", allowed_domains=["shop.example.com", "*.example.org"])
    WidgetFactory(public_key="demo", allowed_domains=[])
    assert widget_origin_allowed("shop", "shop.example.com")
    assert widget_origin_allowed("shop", "eu.example.org")
    assert not widget_origin_allowed("shop", "example.org.evil.net")
    assert not widget_origin_allowed("shop", "127.0.0.1")
    assert widget_origin_allowed("demo", "127.0.0.1")
    assert not widget_origin_allowed("missing", "shop.example.com")


@pytest.mark.django_db
def test_business_hours_close_the_widget_outside_them():
    widget = WidgetFactory(business_hours={"timezone": "Europe/Helsinki", "days": {"0": ["09:00", "17:00"]}})
    monday_noon = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)  # 12:00 in Helsinki
    assert services.within_business_hours(widget, monday_noon)
    assert not services.within_business_hours(widget, monday_noon + dt.timedelta(hours=8))
    assert not services.within_business_hours(widget, monday_noon + dt.timedelta(days=1))


@pytest.mark.django_db
def test_widget_script_and_demo_page_are_served_from_our_host():
    WidgetFactory(public_key="demo")
    script = Client().get("/widget.js")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert b"/ws/visitor/" in script.content and b"http://" not in script.content.split(b"*/", 1)[1]
    page = Client().get("/widget/demo/")
    assert page.status_code == 200 and b'src="/widget.js" data-widget="demo"' in page.content
    assert b"<script>" not in page.content  # the CSP forbids inline scripts


@pytest.mark.django_db
def test_the_transcript_email_holds_the_conversation_without_internal_notes(settings, mailoutbox):
    settings.EMAIL_URL = "locmem:"
    widget = WidgetFactory(name="Northwind")
    agent = AgentFactory(first_name="Alice", teams=[widget.team])
    session = services.open_session(widget=widget, token=None).session
    posted = services.post_message(session_id=session.pk, client_id="c-1", text="Where is my parcel?")
    ticket = ChatSession.objects.get(pk=session.pk).ticket
    assert ticket.pk == posted.ticket_id
    reply(ticket=ticket, agent=agent, text="It left the warehouse today.")
    reply(ticket=ticket, agent=agent, text="customer asked twice", internal=True)
    services.send_transcript(session_id=session.pk, email="pia@example.org")
    sent = mailoutbox[-1]
    assert sent.to == ["pia@example.org"] and "Northwind" in sent.subject
    assert "Where is my parcel?" in sent.body and "It left the warehouse today." in sent.body
    assert "customer asked twice" not in sent.body


@pytest.mark.django_db
def test_demo_seed_creates_the_demo_widget_and_canned_responses_once():
    import io

    support = TeamFactory(name="Support")
    TeamFactory(name="Billing")
    AgentFactory(username="alice", teams=[support])
    from chat.demo import seed

    seed(io.StringIO())
    seed(io.StringIO())
    assert Widget.objects.get(public_key="demo").team == support
    assert CannedResponse.objects.count() == 6
    assert CannedResponse.objects.get(shortcut="bye").owner.username == "alice"


@pytest.mark.django_db
def test_the_ticket_page_offers_spelling_help_in_the_chat_visitors_language():
    widget = WidgetFactory(language="fi")
    agent = AgentFactory(teams=[widget.team])
    session = services.open_session(widget=widget, token=None, locale="fi").session
    posted = services.post_message(session_id=session.pk, client_id="c-1", text="Hei")
    page = api(agent).get(f"/agent/tickets/{posted.ticket_id}/")
    assert page.status_code == 200
    assert b'class="hd-spelling small" data-for="reply-text" data-lang="fi"' in page.content
    assert b"chat/canned.js" in page.content


@pytest.mark.django_db
def test_agents_manage_canned_responses_on_their_page():
    support = TeamFactory()
    alice = AgentFactory(teams=[support])
    lead = AgentFactory(teams=[support], profile={"role": "supervisor"})
    client = api(alice)
    client.post("/agent/canned/save/", {"shortcut": "/Later", "title": "Later", "body": "I will get back to you, {{contact.name}}."})
    mine = CannedResponse.objects.get(shortcut="later")
    assert mine.owner == alice and mine.team is None
    client.post("/agent/canned/save/", {"shortcut": "teamwide", "title": "T", "body": "x", "team": support.pk})
    assert not CannedResponse.objects.filter(shortcut="teamwide").exists()  # agents cannot write team responses
    api(lead).post("/agent/canned/save/", {"shortcut": "teamwide", "title": "T", "body": "x", "team": support.pk})
    team_item = CannedResponse.objects.get(shortcut="teamwide")
    page = client.get("/agent/canned/")
    assert b"/later" in page.content and b"/teamwide" in page.content
    assert client.post(f"/agent/canned/{team_item.pk}/delete/").status_code == 404
    client.post(f"/agent/canned/{mine.pk}/delete/")
    assert not CannedResponse.objects.filter(pk=mine.pk).exists()
