"""A hand-computed desk: one week (Mon 2 – Sun 8 March 2026, UTC), two teams, known timestamps.

Every expected number in the report tests is worked out by hand from this table:

    id   team     channel assignee created        first resp.  resolved after  notes
    T1   Support  chat    alice    Mon 09:00      60 s         600 s
    T2   Support  chat    alice    Mon 09:05      120 s        300 s
    T3   Support  chat    alice    Mon 09:30      180 s        1200 s
    T4   Support  email   alice    Tue 14:00      240 s        7200 s
    T5   Support  email   -        Tue 14:20      -            -
    T6   Billing  chat    carol    Wed 10:00      600 s        900 s
    T7   Billing  sms     carol    Wed 10:10      30 s         -
    T11  Support  chat    alice    Thu 16:00      -            60 s
    T12  Billing  chat    carol    Wed 10:05      -            -          last message 10:20
    outside: Sun 1 March 23:59:59, Mon 9 March 00:00, and a ticket merged into T4.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from feedback.models import Survey
from tests.factories import AgentFactory, TeamFactory, TicketFactory
from tickets.models import TicketEvent


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return timezone.make_aware(datetime(2026, 3, day, hour, minute, second))


@dataclass
class Desk:
    support: object
    billing: object
    alice: object
    carol: object
    tickets: dict


def _ticket(team, channel, assignee, created, fr=None, res=None, **extra):
    return TicketFactory(
        team=team, channel=channel, assignee=assignee, created_at=created,
        first_response_at=created + timedelta(seconds=fr) if fr is not None else None,
        resolved_at=created + timedelta(seconds=res) if res is not None else None,
        status="resolved" if res is not None else "open", **extra,
    )


@pytest.fixture
def desk(db) -> Desk:
    support, billing = TeamFactory(name="Support"), TeamFactory(name="Billing")
    alice = AgentFactory(username="alice", first_name="Alice", last_name="A", teams=[support])
    carol = AgentFactory(username="carol", first_name="Carol", last_name="C", teams=[billing])
    t = {
        "T1": _ticket(support, "chat", alice, at(2, 9), 60, 600),
        "T2": _ticket(support, "chat", alice, at(2, 9, 5), 120, 300),
        "T3": _ticket(support, "chat", alice, at(2, 9, 30), 180, 1200),
        "T4": _ticket(support, "email", alice, at(3, 14), 240, 7200),
        "T5": _ticket(support, "email", None, at(3, 14, 20)),
        "T6": _ticket(billing, "chat", carol, at(4, 10), 600, 900),
        "T7": _ticket(billing, "sms", carol, at(4, 10, 10), 30),
        "T11": _ticket(support, "chat", alice, at(5, 16), None, 60),
        "T12": _ticket(billing, "chat", carol, at(4, 10, 5), last_message_at=at(4, 10, 20)),
    }
    _ticket(support, "email", alice, at(1, 23, 59, 59), 1, 1)
    _ticket(support, "chat", alice, at(9, 0), 1, 1)
    _ticket(support, "email", alice, at(2, 12), 5, 5, merged_into=t["T4"])

    def survey(ticket, agent, rating, answered):
        Survey.objects.create(ticket=ticket, agent=agent, channel=ticket.channel, trigger=f"s{ticket.pk}", rating=rating, answered_at=answered, expires_at=at(20, 0))

    survey(t["T1"], alice, 5, at(2, 10))
    survey(t["T2"], alice, 3, at(2, 11))
    survey(t["T4"], alice, 4, at(3, 15))
    survey(t["T6"], carol, 2, at(4, 11))
    survey(t["T7"], carol, None, None)
    survey(t["T3"], alice, 1, at(9, 0))  # answered after the range

    for ticket, target, when in ((t["T1"], "first_response", at(2, 9, 30)), (t["T4"], "resolution", at(3, 18)), (t["T6"], "first_response", at(4, 11)), (t["T6"], "resolution", at(10, 0))):
        TicketEvent.objects.create(ticket=ticket, kind="sla_breached", data={"target": target, "team_id": ticket.team_id}, created_at=when)
    TicketEvent.objects.create(ticket=t["T2"], kind="status", data={}, created_at=at(2, 9, 10))
    return Desk(support, billing, alice, carol, t)


@pytest.fixture
def week():
    return {"from": "2026-03-02", "to": "2026-03-08"}
