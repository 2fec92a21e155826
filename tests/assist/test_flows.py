"""The chat flow engine, driven directly with real chat sessions (test_flows_ws.py drives it through the
visitor websocket and the chat app's pre-routing hook)."""

from __future__ import annotations

import pytest

from assist import indexing
from assist.flows import engine
from assist.flows.definition import validate
from assist.flows.report import flow_report
from assist.flows.services import InvalidFlow, on_chat_ended, save_flow
from assist.models import Flow, FlowRun, RunStatus
from chat.models import ChatSession, Widget
from tests.factories import ContactFactory, MessageFactory, TeamFactory, TicketFactory
from tickets.models import Message

pytestmark = pytest.mark.django_db


FLOW = {
    "start": "hello",
    "steps": [
        {"id": "hello", "type": "message", "text": "Hi, I am the bot.", "next": "topic"},
        {"id": "topic", "type": "buttons", "text": "What is it about?", "variable": "topic",
         "options": [{"label": "Billing", "next": "email"}, {"label": "Orders", "next": "order"}, {"label": "Something else", "next": "kb"}]},
        {"id": "email", "type": "ask", "text": "Your email address?", "field": "email", "validate": "email", "next": "vip"},
        {"id": "vip", "type": "branch", "on": "attribute", "attribute": "plan", "cases": [{"value": "gold", "next": "billing"}], "default": "bye"},
        {"id": "order", "type": "ask", "text": "Your order number?", "field": "order", "validate": "regex", "pattern": "ORD-\\d{5}",
         "error": "Order numbers look like ORD-12345.", "next": "hours"},
        {"id": "hours", "type": "branch", "on": "hours", "hours": {"timezone": "UTC", "days": {str(d): ["00:00", "23:59"] for d in range(7)}}, "open": "billing", "closed": "bye"},
        {"id": "kb", "type": "kb", "text": "These may help:", "limit": 2, "resolved": "bye", "unresolved": "billing"},
        {"id": "billing", "type": "handoff", "text": "Connecting you to Billing.", "team": None},
        {"id": "bye", "type": "end", "text": "Thanks, all done!"},
    ],
}  # fmt: skip


@pytest.fixture
def setup():
    support, billing = TeamFactory(name="Support"), TeamFactory(name="Billing")
    definition = {**FLOW, "steps": [dict(s) for s in FLOW["steps"]]}
    next(s for s in definition["steps"] if s["id"] == "billing")["team"] = billing.pk
    widget = Widget.objects.create(name="Shop", public_key="flowtest", team=support)
    flow = Flow.objects.create(name="Main", widget_id=widget.pk, active=True)
    save_flow(flow=flow, definition=definition)
    return {"support": support, "billing": billing, "flow": flow, "definition": definition, "widget": widget}


class Chat:
    """One visitor conversation: say() posts the visitor's message and runs the hook like the chat app does."""

    def __init__(self, team, contact=None, widget=None):
        self.ticket = TicketFactory(channel="chat", team=team, contact=contact or ContactFactory())
        widget = widget or Widget.objects.get(public_key="flowtest")
        self.session = ChatSession.objects.create(widget=widget, team=team, ticket=self.ticket, token_hash="x")

    def say(self, text):
        message = MessageFactory(ticket=self.ticket, channel="chat", text=text)
        return engine.handle(self.session, message)

    def bot(self):
        return list(Message.objects.filter(ticket=self.ticket, is_bot=True).order_by("id").values_list("text", flat=True))

    def run(self):
        return FlowRun.objects.get(session_key=str(self.session.pk))


def test_message_and_buttons_then_a_typed_choice(setup):
    chat = Chat(setup["support"])
    assert chat.say("hello") is True
    said = chat.bot()
    assert said[0] == "Hi, I am the bot."
    assert "1. Billing" in said[1] and "2. Orders" in said[1]
    buttons = Message.objects.filter(ticket=chat.ticket, is_bot=True).last().meta["buttons"]
    assert [b["label"] for b in buttons] == ["Billing", "Orders", "Something else", "Talk to a person"]
    assert "4. Talk to a person" in said[1]
    assert chat.say("billing") is True  # label, any case
    assert chat.bot()[-1] == "Your email address?"
    assert chat.run().variables["topic"] == "Billing"


def test_an_unknown_choice_repeats_the_options(setup):
    chat = Chat(setup["support"])
    chat.say("hello")
    assert chat.say("purple") is True
    assert "Please choose one of the options" in chat.bot()[-1]
    assert chat.say("2") is True
    assert chat.bot()[-1] == "Your order number?"


def test_email_validation_error_then_success_branches_on_contact_attribute(setup):
    contact = ContactFactory(attributes={"plan": "gold"})
    chat = Chat(setup["support"], contact)
    chat.say("hi")
    chat.say("1")
    assert chat.say("not-an-email") is True
    assert "does not look like an email" in chat.bot()[-1]
    # gold plan -> handoff to billing: routing starts (False)
    assert chat.say("me@example.org") is False
    chat.ticket.refresh_from_db()
    contact.refresh_from_db()
    assert contact.attributes["email"] == "me@example.org"
    assert chat.ticket.team == setup["billing"]
    assert chat.run().status == RunStatus.HANDOFF
    assert chat.bot()[-1] == "Connecting you to Billing."


def test_branch_default_ends_the_chat_as_resolved(setup):
    chat = Chat(setup["support"], ContactFactory(attributes={"plan": "free"}))
    chat.say("hi")
    chat.say("Billing")
    assert chat.say("me@example.org") is True
    assert chat.bot()[-1] == "Thanks, all done!"
    assert chat.run().status == RunStatus.RESOLVED


def test_order_number_with_the_flows_own_error_and_business_hours_branch(setup):
    chat = Chat(setup["support"])
    chat.say("hi")
    chat.say("Orders")
    assert chat.say("12") is True
    assert chat.bot()[-1] == "Order numbers look like ORD-12345."
    assert chat.say("ORD-12345") is False  # open all week -> handoff
    assert chat.run().variables["order"] == "ORD-12345"


def test_kb_step_offers_articles_and_resolves(setup):
    indexing.upsert_doc("article", 11, title="Change your delivery address", match="change delivery address shipping order", answer="…", url="/kb/change-address/")
    indexing.upsert_doc("article", 12, title="Internal: refunds desk", match="change delivery address internal", answer="…", url="")
    chat = Chat(setup["support"])
    chat.say("hi")
    # nothing matches what the visitor wrote ("hi", "Something else"): the unresolved path hands off
    assert chat.say("Something else") is False
    assert chat.run().status == RunStatus.HANDOFF

    chat2 = Chat(setup["support"])
    definition = {"start": "kb", "steps": [{"id": "kb", "type": "kb", "text": "These may help:", "limit": 2, "resolved": "bye", "unresolved": None},
                                           {"id": "bye", "type": "end", "text": "Great!"}]}  # fmt: skip
    save_flow(flow=setup["flow"], definition=definition)
    assert chat2.say("How do I change my delivery address?") is True
    offer = chat2.bot()[-1]
    assert "Change your delivery address — /kb/change-address/" in offer
    assert "Internal" not in offer  # internal articles are never shown to visitors
    assert chat2.say("1") is True
    assert chat2.bot()[-1] == "Great!"
    assert chat2.run().status == RunStatus.RESOLVED


def test_the_visitor_can_always_ask_for_a_human(setup):
    chat = Chat(setup["support"])
    chat.say("hi")
    assert chat.say("I want to talk to a human please") is False
    assert chat.run().status == RunStatus.HANDOFF
    assert chat.say("hello?") is False  # stays with agents
    by_button = Chat(setup["support"])
    by_button.say("hi")
    assert by_button.say("4") is False  # the "Talk to a person" button
    assert by_button.run().status == RunStatus.HANDOFF
    fi = Chat(setup["support"])
    fi.say("moi")
    assert fi.say("Haluan puhua ihmisen kanssa, asiakaspalvelija kiitos") is False


def test_a_conversation_in_progress_keeps_its_version(setup):
    chat = Chat(setup["support"])
    chat.say("hi")  # waiting at the buttons of version 1
    edited = {"start": "hello", "steps": [{"id": "hello", "type": "end", "text": "We are closed today."}]}
    version2 = save_flow(flow=setup["flow"], definition=edited)
    assert version2.number == 2
    assert chat.say("Billing") is True
    assert chat.bot()[-1] == "Your email address?"  # still version 1's step
    assert chat.run().version.number == 1
    newcomer = Chat(setup["support"])
    assert newcomer.say("hi") is True
    assert newcomer.bot() == ["We are closed today."]
    assert newcomer.run().version.number == 2


def test_no_flow_for_the_widget_means_routing(setup):
    other = Widget.objects.create(name="Other", public_key="noflow", team=setup["support"])
    chat = Chat(setup["support"], widget=other)
    assert chat.say("hi") is False
    assert not FlowRun.objects.exists()


def test_invalid_flows_are_refused_with_reasons(setup):
    broken = {"start": "a", "steps": [
        {"id": "a", "type": "buttons", "text": "Pick", "options": [{"label": "X", "next": "nowhere"}]},
        {"id": "b", "type": "ask", "text": "Order?", "field": "order", "validate": "regex", "pattern": "(["},
        {"id": "c", "type": "teleport"},
    ]}  # fmt: skip
    errors = validate(broken)
    assert any("button X needs a next step" in e for e in errors)
    assert any("not a valid regular expression" in e for e in errors)
    assert any("unknown type" in e for e in errors)
    with pytest.raises(InvalidFlow):
        save_flow(flow=setup["flow"], definition=broken)
    assert setup["flow"].live_version().number == 1


def test_report_counts_entries_dropoffs_and_deflection(setup):
    resolved = Chat(setup["support"], ContactFactory(attributes={"plan": "free"}))
    for text in ("hi", "Billing", "me@example.org"):
        resolved.say(text)
    handed = Chat(setup["support"])
    handed.say("hi")
    handed.say("agent please")
    left = Chat(setup["support"])
    left.say("hi")
    left.say("Orders")
    on_chat_ended("chat.ended", {"session_id": left.session.pk, "ticket_id": left.ticket.pk})

    report = flow_report(setup["flow"])
    assert report["runs"] == 3
    assert (report["resolved"], report["handoff"], report["abandoned"]) == (1, 1, 1)
    assert report["deflection"] == pytest.approx(1 / 3)
    steps = {s["id"]: s for s in report["steps"]}
    assert steps["hello"]["entries"] == 3
    assert steps["topic"]["entries"] == 3
    assert steps["order"]["entries"] == 1 and steps["order"]["dropoffs"] == 1
    assert steps["bye"]["entries"] == 1


def test_a_branch_on_the_flows_own_hours_follows_the_clock(setup, monkeypatch):
    from datetime import UTC, datetime

    bad_zone = {"timezone": "Mars/Base", "days": {"0": ["09:00", "17:00"]}}
    backwards = {"timezone": "UTC", "days": {"0": ["17:00", "09:00"]}}
    for hours in (bad_zone, backwards):
        assert validate({"start": "h", "steps": [{"id": "h", "type": "branch", "on": "hours", "hours": hours, "open": "h", "closed": "h"}]})
    definition = {"start": "h", "steps": [
        {"id": "h", "type": "branch", "on": "hours", "hours": {"timezone": "Europe/Helsinki", "days": {"0": ["09:00", "17:00"]}}, "open": "open", "closed": "closed"},
        {"id": "open", "type": "end", "text": "We are open."}, {"id": "closed", "type": "end", "text": "We are closed."}]}  # fmt: skip
    save_flow(flow=setup["flow"], definition=definition)
    # Monday 23 November 2026: 08:00 UTC is 10:00 in Helsinki (open), 16:00 UTC is 18:00 (closed).
    monkeypatch.setattr("django.utils.timezone.now", lambda: datetime(2026, 11, 23, 8, 0, tzinfo=UTC))
    morning = Chat(setup["support"])
    morning.say("hi")
    assert morning.bot() == ["We are open."]
    monkeypatch.setattr("django.utils.timezone.now", lambda: datetime(2026, 11, 23, 16, 0, tzinfo=UTC))
    evening = Chat(setup["support"])
    evening.say("hi")
    assert evening.bot() == ["We are closed."]
