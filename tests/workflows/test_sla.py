"""SLA due times from events, breaches recorded once, warnings before, the `sla` block of the ticket JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from tests.factories import AgentFactory, TeamFactory, TicketFactory
from tickets.inbound import InboundMessage, ThreadHints
from tickets.models import TicketEvent
from tickets.services import ingest, reply, set_status
from workflows import sla
from workflows.models import BusinessHours, SlaPolicy, TicketSla

pytestmark = pytest.mark.django_db

MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def inbound(team, n=1, at=MONDAY_10, ticket_id=None, **extra) -> InboundMessage:
    values = {
        "channel": "email", "external_id": f"<sla{n}@example.org>", "sender_kind": "email", "sender_address": "jane@example.org",
        "sender_name": "Jane", "subject": "Help", "text": f"message {n}", "received_at": at, "team_id": team.pk,
        "thread": ThreadHints(ticket_id=ticket_id),
    }  # fmt: skip
    return InboundMessage(**{**values, **extra})


@pytest.fixture
def team():
    return TeamFactory(name="Support")


@pytest.fixture
def policy(team):
    return SlaPolicy.objects.create(
        name="Standard", position=10, first_response_minutes=60, next_response_minutes=120, resolution_minutes=24 * 60,
        business_hours=False, warn_minutes=15,
    )  # fmt: skip


def test_a_new_ticket_gets_due_times_from_the_matching_policy(team, policy, django_capture_on_commit_callbacks):
    SlaPolicy.objects.create(name="Urgent only", position=0, priority="urgent", first_response_minutes=5)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = ingest(inbound(team)).ticket
    state = TicketSla.objects.get(ticket=ticket)
    assert state.policy == policy
    assert state.first_response_due == MONDAY_10 + timedelta(hours=1)
    assert state.resolution_due == MONDAY_10 + timedelta(days=1)
    assert state.next_response_due is None


def test_policy_order_and_filters(team, policy):
    urgent = SlaPolicy.objects.create(name="Urgent", position=0, priority="urgent", first_response_minutes=5)
    other_team = SlaPolicy.objects.create(name="Other team", position=0, team=TeamFactory(), first_response_minutes=5)
    chat = SlaPolicy.objects.create(name="Chat", position=1, channel="chat", first_response_minutes=2)
    assert sla.policy_for(TicketFactory(team=team, priority="urgent")) == urgent
    assert sla.policy_for(TicketFactory(team=team, channel="chat")) == chat
    assert sla.policy_for(TicketFactory(team=team)) == policy
    assert sla.policy_for(TicketFactory(team=other_team.team)) == other_team


def test_due_times_count_business_hours(team, policy, django_capture_on_commit_callbacks):
    policy.business_hours = True
    policy.save()
    BusinessHours.objects.create(name="HEL", team=team, timezone="Europe/Helsinki", schedule={"mon": [["09:00", "17:00"]], "tue": [["09:00", "17:00"]]})
    friday_evening = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = ingest(inbound(team, at=friday_evening)).ticket
    # Closed all weekend: the first hour starts Monday 09:00 Helsinki (07:00 UTC).
    assert TicketSla.objects.get(ticket=ticket).first_response_due == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_breach_is_recorded_once_as_event_and_published(team, policy, django_capture_on_commit_callbacks, captured_events):
    agent = AgentFactory(teams=[team])
    with django_capture_on_commit_callbacks(execute=True):
        ticket = ingest(inbound(team)).ticket
        ticket.assignee = agent
        ticket.save()
    with django_capture_on_commit_callbacks(execute=True):
        sla.check_due(now=MONDAY_10 + timedelta(minutes=61))
    with django_capture_on_commit_callbacks(execute=True):
        sla.check_due(now=MONDAY_10 + timedelta(minutes=62))
    breaches = TicketEvent.objects.filter(ticket=ticket, kind="sla_breached")
    assert [e.data["target"] for e in breaches] == ["first_response"]
    published = [d for k, d in captured_events if k == "sla.breached"]
    assert published == [{"ticket_id": ticket.pk, "team_id": team.pk, "target": "first_response", "agent_id": agent.pk}]


def test_warning_comes_before_the_breach(team, policy, django_capture_on_commit_callbacks, captured_events):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = ingest(inbound(team)).ticket
    with django_capture_on_commit_callbacks(execute=True):
        sla.check_due(now=MONDAY_10 + timedelta(minutes=50))
        sla.check_due(now=MONDAY_10 + timedelta(minutes=51))
    warnings = [d for k, d in captured_events if k == "sla.warning"]
    assert [(w["ticket_id"], w["target"]) for w in warnings] == [(ticket.pk, "first_response")]
    assert not TicketEvent.objects.filter(ticket=ticket, kind="sla_breached").exists()


def test_a_late_first_reply_is_a_breach_and_a_timely_one_is_not(team, policy, django_capture_on_commit_callbacks):
    agent = AgentFactory(teams=[team])
    with django_capture_on_commit_callbacks(execute=True):
        late = ingest(inbound(team, n=1, at=datetime.now(UTC) - timedelta(hours=2))).ticket
        timely = ingest(inbound(team, n=2, at=datetime.now(UTC), sender_address="other@example.org")).ticket
    with django_capture_on_commit_callbacks(execute=True):
        reply(ticket=late, agent=agent, text="Sorry for the wait")
        reply(ticket=timely, agent=agent, text="Hello")
    assert TicketEvent.objects.filter(ticket=late, kind="sla_breached", data__target="first_response").count() == 1
    assert not TicketEvent.objects.filter(ticket=timely, kind="sla_breached").exists()


def test_next_response_runs_from_the_customers_answer_until_the_agents(team, policy, django_capture_on_commit_callbacks):
    agent = AgentFactory(teams=[team])
    now = datetime.now(UTC)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = ingest(inbound(team, n=1, at=now - timedelta(minutes=30))).ticket
    with django_capture_on_commit_callbacks(execute=True):
        reply(ticket=ticket, agent=agent, text="What model is it?")
    with django_capture_on_commit_callbacks(execute=True):
        answer = ingest(inbound(team, n=2, at=None, ticket_id=ticket.pk))
    state = TicketSla.objects.get(ticket=ticket)
    assert state.next_response_due == answer.created_at + timedelta(minutes=120)
    with django_capture_on_commit_callbacks(execute=True):
        reply(ticket=ticket, agent=agent, text="Thanks")
    state.refresh_from_db()
    assert state.next_response_due is None


def test_resolved_tickets_do_not_breach(team, policy, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = ingest(inbound(team, at=datetime.now(UTC) - timedelta(minutes=10))).ticket
    with django_capture_on_commit_callbacks(execute=True):
        set_status(ticket=ticket, actor=None, status="resolved")
    with django_capture_on_commit_callbacks(execute=True):
        sla.check_due(now=datetime.now(UTC) + timedelta(days=3))
    assert not TicketEvent.objects.filter(ticket=ticket, kind="sla_breached").exists()


def test_ticket_json_has_the_sla_block_without_n_plus_one(team, policy, django_capture_on_commit_callbacks, django_assert_num_queries):
    agent = AgentFactory(teams=[team])
    client = APIClient()
    client.force_authenticate(agent)
    with django_capture_on_commit_callbacks(execute=True):
        first = ingest(inbound(team, n=0)).ticket
    for _ in range(3):
        TicketFactory(team=team)
    client.get("/api/v1/tickets/")  # warm caches (content types, sessions)
    # count, page, tags, SLA states: the same four queries for 4 tickets and for 24.
    with django_assert_num_queries(4):
        client.get("/api/v1/tickets/")
    for _ in range(20):
        TicketFactory(team=team)
    with django_assert_num_queries(4):
        response = client.get("/api/v1/tickets/?page_size=50")
    by_id = {t["id"]: t for t in response.json()["results"]}
    assert by_id[first.pk]["sla"] == {
        "policy": {"id": policy.pk, "name": "Standard"},
        "first_response_due": (MONDAY_10 + timedelta(hours=1)).isoformat(),
        "next_response_due": None,
        "resolution_due": (MONDAY_10 + timedelta(days=1)).isoformat(),
        "breached": [],
    }
    detail = client.get(f"/api/v1/tickets/{first.pk}/").json()
    assert detail["sla"]["policy"]["name"] == "Standard"


def test_queue_sla_column_shows_how_close_each_visible_ticket_is(team, policy, django_capture_on_commit_callbacks):
    agent = AgentFactory(teams=[team])
    client = APIClient()
    client.force_authenticate(agent)
    now = datetime.now(UTC)
    with django_capture_on_commit_callbacks(execute=True):
        overdue = ingest(inbound(team, n=1, at=now - timedelta(hours=3))).ticket
        soon = ingest(inbound(team, n=2, at=now - timedelta(minutes=50), sender_address="b@example.org")).ticket
        later = ingest(inbound(team, n=3, at=now, sender_address="c@example.org")).ticket
        foreign = ingest(inbound(TeamFactory(), n=4, at=now, sender_address="d@example.org")).ticket
    with django_capture_on_commit_callbacks(execute=True):
        sla.check_due()
    ids = ",".join(str(t.pk) for t in (overdue, soon, later, foreign))
    data = client.get(f"/api/v1/sla/?tickets={ids}").json()
    assert str(foreign.pk) not in data
    assert data[str(overdue.pk)]["breached"] == ["first_response"]
    assert data[str(overdue.pk)]["badge"]["level"] == "breached" and "overdue" in data[str(overdue.pk)]["badge"]["text"]
    assert data[str(soon.pk)]["badge"]["level"] == "warning"
    assert data[str(later.pk)]["badge"]["level"] == "ok" and data[str(later.pk)]["badge"]["text"].startswith("First response in")


def test_demo_seed_creates_policies_and_due_times(team, django_capture_on_commit_callbacks):
    import io

    from workflows import demo

    TeamFactory(name="Billing")
    with django_capture_on_commit_callbacks(execute=True):
        ticket = ingest(inbound(team, at=datetime.now(UTC))).ticket
    demo.seed(io.StringIO())
    demo.seed(io.StringIO())  # twice is harmless
    assert SlaPolicy.objects.count() == 3
    assert TicketSla.objects.get(ticket=ticket).policy.name == "Standard"


def test_resolution_clock_pauses_while_waiting_on_the_customer(team, policy):
    ticket = TicketFactory(team=team, created_at=MONDAY_10, status="pending")
    TicketEvent.objects.create(ticket=ticket, kind="status", data={"from": {"status": "open"}, "to": {"status": "pending"}}, created_at=MONDAY_10 + timedelta(hours=1))
    state, _ = sla.recompute(ticket.pk)
    assert state.resolution_due is None  # paused: nothing can breach while we wait on the customer
    TicketEvent.objects.create(ticket=ticket, kind="reopened", data={"from": "pending"}, created_at=MONDAY_10 + timedelta(hours=4))
    ticket.status = "open"
    ticket.save()
    state, _ = sla.recompute(ticket.pk)
    assert state.resolution_due == MONDAY_10 + timedelta(days=1, hours=3)
    policy.pause_when_pending = False
    policy.save()
    state, _ = sla.recompute(ticket.pk)
    assert state.resolution_due == MONDAY_10 + timedelta(days=1)


def test_the_openapi_document_describes_the_sla_block_of_a_ticket(team):
    client = APIClient()
    client.force_authenticate(AgentFactory(teams=[team]))
    schema = client.get("/api/schema/?format=json").json()
    sla = schema["components"]["schemas"]["Ticket"]["properties"]["sla"]
    ref = sla["allOf"][0]["$ref"] if "allOf" in sla else sla["$ref"]  # read-only fields are wrapped in allOf
    block = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert {"policy", "first_response_due", "next_response_due", "resolution_due", "breached"} <= set(block["properties"])
    assert block["properties"]["breached"]["type"] == "array"


def test_a_worker_batch_brings_every_ticket_up_to_date_at_once(team, policy, django_assert_max_num_queries):
    from tickets.tasks import run_event_batch

    agent = AgentFactory(teams=[team])
    tickets = [TicketFactory(team=team, created_at=MONDAY_10 + timedelta(minutes=n)) for n in range(6)]
    answered = tickets[0]
    answered.messages.create(direction="outbound", channel="email", author_agent=agent, text="on it", created_at=MONDAY_10 + timedelta(minutes=30))
    answered.first_response_at = MONDAY_10 + timedelta(minutes=30)
    answered.last_customer_message_at = MONDAY_10 + timedelta(minutes=40)
    answered.save()
    notes = [["ticket.created", {"ticket_id": t.pk, "team_id": team.pk, "status": t.status}] for t in tickets]
    # Per ticket only what its policy needs (its pending history) and the write of its new due times; the
    # rest (tickets, SLA rows, policies, last replies, other listeners' lookups) once for the batch.
    with django_assert_max_num_queries(12 + 2 * len(tickets)):
        run_event_batch(notes)
    states = {s.ticket_id: s for s in TicketSla.objects.filter(ticket__in=tickets)}
    for n, ticket in enumerate(tickets):
        assert states[ticket.pk].policy == policy
        assert states[ticket.pk].first_response_due == MONDAY_10 + timedelta(minutes=n, hours=1)
    # The answered ticket waits for the next response from the customer's last message (the reply was read).
    assert states[answered.pk].next_response_due == MONDAY_10 + timedelta(minutes=40 + 120)
    # And the one-ticket path computes the same.
    TicketSla.objects.all().delete()
    assert sla.recompute(answered.pk)[0].next_response_due == MONDAY_10 + timedelta(minutes=40 + 120)


def test_a_batch_that_fails_falls_back_to_one_ticket_at_a_time(team, policy, monkeypatch):
    from tickets.tasks import run_event_batch

    real = sla.recompute_many

    def fragile(ticket_ids):
        ids = list(ticket_ids)
        if len(ids) > 1:
            raise RuntimeError("deadlock detected")  # what a crossing worker could cause
        return real(ids)

    monkeypatch.setattr(sla, "recompute_many", fragile)
    tickets = [TicketFactory(team=team, created_at=MONDAY_10) for _ in range(3)]
    run_event_batch([["ticket.created", {"ticket_id": t.pk, "team_id": team.pk, "status": t.status}] for t in tickets])
    assert TicketSla.objects.filter(ticket__in=tickets, policy=policy).count() == 3
