"""Automation rules: triggers from real events (after commit, via Celery), order, conditions, at most once
per event, loop protection, the timeline log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import AgentFactory, ContactFactory, TeamFactory, TicketFactory
from tickets.inbound import InboundMessage, ThreadHints
from tickets.models import Message, TicketEvent
from tickets.services import ingest, set_status
from workflows import automation
from workflows.models import AutomationRule, BusinessHours, RuleRun, SlaPolicy
from workflows.sla import check_due
from workflows.tasks import check_idle_customers

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_celery")]


def inbound(team, n=1, text="Hello", ticket_id=None, sender="jane@example.org") -> InboundMessage:
    return InboundMessage(
        channel="email", external_id=f"<auto{n}@example.org>", sender_kind="email", sender_address=sender,
        sender_name="Jane", subject="Question", text=text, team_id=team.pk, thread=ThreadHints(ticket_id=ticket_id),
    )  # fmt: skip


def fired(ticket) -> list[str]:
    return [e.data["name"] for e in TicketEvent.objects.filter(ticket=ticket, kind="automation").order_by("id")]


def test_rules_run_in_order_and_log_on_the_timeline():
    team = TeamFactory()
    AutomationRule.objects.create(name="second", position=2, trigger="message.received", actions=[{"add_tag": "seen"}])
    AutomationRule.objects.create(name="first", position=1, trigger="message.received", actions=[{"set_priority": "high"}, {"note": "Auto-triaged"}])
    AutomationRule.objects.create(name="inactive", position=0, active=False, trigger="message.received", actions=[{"add_tag": "never"}])
    ticket = ingest(inbound(team)).ticket
    ticket.refresh_from_db()
    assert fired(ticket) == ["first", "second"]
    assert ticket.priority == "high"
    assert set(ticket.tags.values_list("name", flat=True)) == {"seen"}
    assert Message.objects.filter(ticket=ticket, direction="note", text="Auto-triaged").count() == 1


def test_each_rule_runs_at_most_once_per_event():
    team = TeamFactory()
    AutomationRule.objects.create(name="tag", trigger="message.received", actions=[{"note": "once"}])
    message = ingest(inbound(team))
    again = automation.run_rules(trigger="message.received", ticket_id=message.ticket_id, event_key=f"message:{message.pk}")
    assert again == []
    assert Message.objects.filter(ticket=message.ticket, direction="note").count() == 1
    # The next customer message is a new event: the rule fires again.
    ingest(inbound(team, n=2, ticket_id=message.ticket_id))
    assert Message.objects.filter(ticket=message.ticket, direction="note").count() == 2


def test_conditions_text_and_contact_attributes_and_stop_processing():
    team = TeamFactory()
    AutomationRule.objects.create(
        name="gold refunds", position=0, trigger="message.received", stop_processing=True,
        conditions={"text_contains": "REFUND", "contact_attributes": {"plan": "gold"}, "channel": ["email"]},
        actions=[{"set_priority": "urgent"}, {"add_tag": "refund"}],
    )  # fmt: skip
    AutomationRule.objects.create(name="everything", position=1, trigger="message.received", actions=[{"add_tag": "other"}])
    gold = ContactFactory(email="gold@example.org", attributes={"plan": "gold"})
    refund = ingest(inbound(team, n=1, text="I want a refund please", sender=gold.email)).ticket
    plain = ingest(inbound(team, n=2, text="I want a refund please", sender="basic@example.org")).ticket
    refund.refresh_from_db()
    plain.refresh_from_db()
    assert (refund.priority, fired(refund)) == ("urgent", ["gold refunds"])
    assert (plain.priority, fired(plain)) == ("normal", ["everything"])


def test_business_hours_condition():
    team = TeamFactory()
    BusinessHours.objects.create(name="never", team=team, timezone="UTC", schedule={"mon": [["00:00", "00:01"]]})
    AutomationRule.objects.create(name="after hours", trigger="ticket.created", conditions={"business_hours": "closed"}, actions=[{"reply": "We are closed; we answer tomorrow."}])
    AutomationRule.objects.create(name="open hours", trigger="ticket.created", conditions={"business_hours": "open"}, actions=[{"add_tag": "open"}])
    ticket = ingest(inbound(team)).ticket
    assert fired(ticket) == ["after hours"]
    assert Message.objects.get(ticket=ticket, direction="outbound").is_bot


def test_rules_that_trigger_each_other_stop_at_the_depth_limit():
    team = TeamFactory()
    ticket = TicketFactory(team=team, status="new")
    AutomationRule.objects.create(name="open→pending", trigger="status.changed", conditions={"status": ["open"]}, actions=[{"set_status": "pending"}])
    AutomationRule.objects.create(name="pending→open", trigger="status.changed", conditions={"status": ["pending"]}, actions=[{"set_status": "open"}])
    set_status(ticket=ticket, actor=None, status="open")
    names = fired(ticket)
    # Without protection this ping-pong never ends; each level of the chain may fire both rules once.
    assert 2 <= len(names) <= automation.MAX_DEPTH * 2
    assert names[:2] == ["open→pending", "pending→open"]


def test_idle_customer_rule_fires_once_per_silence():
    team = TeamFactory()
    ticket = TicketFactory(team=team, status="open", last_customer_message_at=datetime.now(UTC) - timedelta(hours=2))
    fresh = TicketFactory(team=team, status="open", last_customer_message_at=datetime.now(UTC))
    AutomationRule.objects.create(name="nudge", trigger="customer.idle", idle_minutes=60, actions=[{"set_status": "pending"}])
    check_idle_customers()
    check_idle_customers()
    ticket.refresh_from_db()
    fresh.refresh_from_db()
    assert fired(ticket) == ["nudge"] and ticket.status == "pending"
    assert fired(fresh) == [] and fresh.status == "open"
    assert RuleRun.objects.filter(ticket=ticket, fired=True).count() == 1


def test_sla_warning_trigger_and_notify():
    team = TeamFactory()
    agent = AgentFactory(teams=[team])
    SlaPolicy.objects.create(name="fast", first_response_minutes=10, warn_minutes=15, business_hours=False)
    AutomationRule.objects.create(name="escalate", trigger="sla.warning", actions=[{"set_priority": "urgent"}, {"assign": agent.pk}, {"notify": "assignee"}])
    ticket = ingest(inbound(team)).ticket
    check_due(now=datetime.now(UTC) + timedelta(minutes=1))
    ticket.refresh_from_db()
    assert fired(ticket) == ["escalate"]
    assert (ticket.priority, ticket.assignee_id) == ("urgent", agent.pk)


def test_invalid_rules_are_refused_by_the_api():
    from rest_framework.test import APIClient

    admin = AgentFactory(profile={"role": "admin"})
    agent = AgentFactory()
    client = APIClient()
    client.force_authenticate(agent)
    assert client.get("/api/v1/automations/").status_code == 403
    client.force_authenticate(admin)
    bad = client.post("/api/v1/automations/", {"name": "x", "trigger": "message.received", "actions": [{"explode": 1}]}, format="json")
    assert bad.status_code == 400 and "explode" in str(bad.json()["actions"])
    bad = client.post("/api/v1/automations/", {"name": "x", "trigger": "message.received", "conditions": {"colour": "red"}, "actions": [{"add_tag": "a"}]}, format="json")
    assert bad.status_code == 400
    ok = client.post("/api/v1/automations/", {"name": "x", "trigger": "message.received", "conditions": {"priority": ["high"]}, "actions": [{"add_tag": "a"}]}, format="json")
    assert ok.status_code == 201 and ok.json()["conditions"] == {"priority": ["high"]}


def test_canned_reply_action_sends_the_expanded_canned_response():
    from chat.models import CannedResponse

    team = TeamFactory()
    canned = CannedResponse.objects.create(shortcut="ack", title="Ack", body="Hi {{contact.name}}, we got ticket {{ticket.id}}.")
    AutomationRule.objects.create(name="acknowledge", trigger="ticket.created", actions=[{"canned": canned.pk}])
    ticket = ingest(inbound(team)).ticket
    sent = Message.objects.get(ticket=ticket, direction="outbound")
    assert sent.text == f"Hi Jane, we got ticket {ticket.pk}." and sent.is_bot
