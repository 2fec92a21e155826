"""Custom attributes, notes, the directory and the insights panel, as agents use them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps
from django.utils import timezone
from rest_framework.test import APIClient

from insights.selectors import browser_name, contact_insights, search_contacts
from insights.services import InvalidAttributes, update_attributes
from tests.factories import AgentFactory, ContactFactory, MessageFactory, TeamFactory, TicketFactory
from tickets.models import Contact, Tag

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk():
    support, billing = TeamFactory(name="Support"), TeamFactory(name="Billing")
    agent = AgentFactory(teams=[support])
    mine = ContactFactory(name="Matti Meikäläinen", email="matti@example.org")
    theirs = ContactFactory(name="Matti Muukalainen", email="other@example.org")
    ticket = TicketFactory(contact=mine, team=support, channel="chat", subject="Where is my order?")
    TicketFactory(contact=theirs, team=billing)
    client = APIClient()
    client.force_authenticate(agent)
    return {"agent": agent, "mine": mine, "theirs": theirs, "ticket": ticket, "api": client, "support": support, "billing": billing}


def test_attributes_are_merged_removed_and_validated(desk):
    url = f"/api/v1/contacts/{desk['mine'].pk}/attributes/"
    api = desk["api"]
    assert api.patch(url, {"plan": "pro", "seats": 5}, format="json").json()["attributes"] == {"plan": "pro", "seats": 5}
    assert api.patch(url, {"seats": None, "vip": True}, format="json").json()["attributes"] == {"plan": "pro", "vip": True}
    assert api.patch(url, {"seats": None, "vip": True}, format="json").json()["attributes"] == {"plan": "pro", "vip": True}
    bad = api.patch(url, {"nested": {"a": 1}}, format="json")
    assert bad.status_code == 400 and "nested" in bad.content.decode()
    assert api.patch(url, ["not", "an", "object"], format="json").status_code == 400
    assert Contact.objects.get(pk=desk["mine"].pk).attributes == {"plan": "pro", "vip": True}
    assert api.patch(f"/api/v1/contacts/{desk['theirs'].pk}/attributes/", {"x": "1"}, format="json").status_code == 404
    # The contact API shows them too.
    assert api.get(f"/api/v1/contacts/{desk['mine'].pk}/").json()["attributes"] == {"plan": "pro", "vip": True}


def test_the_widget_identify_path_uses_the_same_service(desk):
    update_attributes(contact=desk["mine"], changes={"customer_id": "C-1001"})
    with pytest.raises(InvalidAttributes):
        update_attributes(contact=desk["mine"], changes={"x" * 80: "too long a name"})
    assert Contact.objects.get(pk=desk["mine"].pk).attributes == {"customer_id": "C-1001"}


def test_notes_by_agents(desk):
    url = f"/api/v1/contacts/{desk['mine'].pk}/notes/"
    first = desk["api"].post(url, {"text": "Calls back after 16:00", "client_id": "n1"}, format="json")
    again = desk["api"].post(url, {"text": "Calls back after 16:00", "client_id": "n1"}, format="json")
    assert first.status_code == 201 and first.json()["id"] == again.json()["id"]
    notes = desk["api"].get(url).json()
    assert [(n["text"], n["author"]["id"]) for n in notes] == [("Calls back after 16:00", desk["agent"].pk)]
    assert desk["api"].post(url, {"text": "   "}, format="json").status_code == 400
    assert desk["api"].get(f"/api/v1/contacts/{desk['theirs'].pk}/notes/").status_code == 404


def test_directory_search_by_name_prefix_email_and_isolation(desk, client):
    assert list(search_contacts(agent=desk["agent"], q="meik")) == [desk["mine"]]
    assert list(search_contacts(agent=desk["agent"], q="matti mei")) == [desk["mine"]]
    assert list(search_contacts(agent=desk["agent"], q="MATTI@example.org")) == [desk["mine"]]
    assert list(search_contacts(agent=desk["agent"], q="muukalainen")) == []  # another team's customer
    assert list(search_contacts(agent=desk["agent"], q="zz")) == []
    client.force_login(desk["agent"])
    page = client.get("/agent/contacts/", {"q": "matti"}).content.decode()
    assert "Matti Meikäläinen" in page and "Muukalainen" not in page
    assert client.get(f"/agent/contacts/{desk['theirs'].pk}/").status_code == 404
    api = desk["api"].get("/api/v1/contact-search/", {"q": "matt"}).json()
    assert [c["id"] for c in api["results"]] == [desk["mine"].pk]


def test_renamed_contacts_are_found_by_their_new_name(desk):
    contact = desk["mine"]
    contact.name = "Matti Nieminen"
    contact.save()
    assert list(search_contacts(agent=desk["agent"], q="niem")) == [contact]
    assert list(search_contacts(agent=desk["agent"], q="meik")) == []


def test_insights_summarise_the_customers_history(desk):
    now = timezone.now()
    old = TicketFactory(contact=desk["mine"], team=desk["support"], channel="email", status="resolved",
                        created_at=now - dt.timedelta(days=3), last_message_at=now - dt.timedelta(days=3),
                        resolved_at=now - dt.timedelta(days=3) + dt.timedelta(hours=2))  # fmt: skip
    old.tags.add(Tag.objects.create(name="shipping"))
    desk["ticket"].created_at = now - dt.timedelta(minutes=30)
    desk["ticket"].last_message_at = now
    desk["ticket"].save()
    TicketFactory(contact=desk["mine"], team=desk["billing"], channel="sms")  # not visible to this agent
    info = contact_insights(agent=desk["agent"], contact=desk["mine"], current=desk["ticket"])
    assert info.ticket_count == 2
    assert [row["ticket"].pk for row in info.tickets] == [desk["ticket"].pk, old.pk]
    assert info.tickets[0]["current"] and info.tickets[1]["outcome"] == "Resolved"
    assert info.tags == ["shipping"]
    assert dt.timedelta(hours=2, minutes=29) < info.time_with_support < dt.timedelta(hours=2, minutes=31)


def test_csat_and_chat_details_come_from_the_other_apps_when_present(desk):
    try:
        survey = apps.get_model("feedback", "Survey")
    except LookupError:
        survey = None
    if survey is not None:
        values = {"ticket": desk["ticket"], "rating": 4, "answered_at": timezone.now(), "expires_at": timezone.now() + dt.timedelta(days=7), "channel": "chat"}
        fields = {f.name for f in survey._meta.get_fields()}
        survey.objects.create(**{k: v for k, v in values.items() if k in fields})
    try:
        session_model = apps.get_model("chat", "ChatSession")
    except LookupError:
        session_model = None
    if session_model is not None:
        widget = apps.get_model("chat", "Widget").objects.create(name="Shop", team=desk["support"])
        session_model.objects.create(
            widget=widget, ticket=desk["ticket"], page_url="https://shop.example.com/cart", referrer="https://search.example.net/",
            user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", locale="fi-FI",
        )  # fmt: skip
    info = contact_insights(agent=desk["agent"], contact=desk["mine"], current=desk["ticket"])
    if survey is not None:
        assert info.tickets[0]["csat"] == 4 and info.csat_average == 4.0
    if session_model is not None:
        assert info.chat["page_url"] == "https://shop.example.com/cart"
        assert info.chat["browser"] == "Firefox 128 (Linux)" and info.chat["locale"] == "fi-FI"
    if survey is None and session_model is None:
        assert info.tickets[0]["csat"] is None and info.chat is None


def test_the_panel_beside_the_conversation(desk, client):
    MessageFactory(ticket=desk["ticket"], text="Hello")
    desk["mine"].attributes = {"plan": "pro"}
    desk["mine"].save()
    client.force_login(desk["agent"])
    page = client.get(f"/agent/tickets/{desk['ticket'].pk}/").content.decode()
    assert 'id="insights-panel"' in page
    assert "matti@example.org" in page and "plan" in page and "Where is my order?" in page
    response = client.post(f"/agent/contacts/{desk['mine'].pk}/notes/", {"text": "VIP customer", "next": f"/agent/tickets/{desk['ticket'].pk}/"})
    assert response["Location"] == f"/agent/tickets/{desk['ticket'].pk}/"
    assert "VIP customer" in client.get(f"/agent/tickets/{desk['ticket'].pk}/").content.decode()


def test_browser_names():
    chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
    safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
    assert browser_name(chrome) == "Chrome 126 (Windows)"
    assert browser_name(safari) == "Safari 17 (iOS)"
    assert browser_name("") == ""


def test_the_insights_panel_costs_the_same_for_a_long_history(desk, django_assert_max_num_queries):
    for n in range(30):
        TicketFactory(contact=desk["mine"], team=desk["support"], channel=["email", "sms", "chat"][n % 3]).tags.add(
            Tag.objects.get_or_create(name=f"t{n % 4}")[0]
        )
    with django_assert_max_num_queries(12):
        info = contact_insights(agent=desk["agent"], contact=desk["mine"], current=desk["ticket"])
        assert len(info.tickets) == 31 and len(info.tags) == 4


def test_insights_api(desk):
    desk["mine"].attributes = {"plan": "pro"}
    desk["mine"].save()
    data = desk["api"].get(f"/api/v1/contacts/{desk['mine'].pk}/insights/").json()
    assert data["id"] == desk["mine"].pk and data["attributes"] == {"plan": "pro"}
    assert data["identities"] == [{"channel": "email", "address": "matti@example.org"}]
    assert [t["id"] for t in data["tickets"]] == [desk["ticket"].pk] and data["ticket_count"] == 1
    assert desk["api"].get(f"/api/v1/contacts/{desk['theirs'].pk}/insights/").status_code == 404


def test_customers_first_seen_in_a_batch_of_mail_are_in_the_directory(desk):
    from tickets.inbound import InboundMessage
    from tickets.services import ingest_many

    results = ingest_many([
        InboundMessage(channel="email", external_id=f"<b{i}@x>", sender_kind="email", sender_address=address,
                       sender_name=name, subject="Hello", text="Hi", team_id=desk["support"].pk)
        for i, (name, address) in enumerate([("Liisa Virtanen", "liisa@example.org"), ("Pekka Korhonen", "pekka@example.org")])
    ])  # fmt: skip
    liisa, pekka = (r.message.author_contact for r in results)
    assert list(search_contacts(agent=desk["agent"], q="virt")) == [liisa]
    assert list(search_contacts(agent=desk["agent"], q="pekka@exa")) == [pekka]
