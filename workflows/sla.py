"""SLA due times per ticket, recomputed from ticket events; breaches and warnings recorded exactly once.

Targets: `first_response` (until the first agent reply), `next_response` (from a customer message that came
after the last agent reply until the next agent reply), `resolution` (until resolved). Counted in the
team's business hours when the policy says so.

A breach is a `TicketEvent(kind="sla_breached", data={"target": ...})` plus the event `sla.breached`
`{ticket_id, team_id, target, agent_id}` (reports and gamification listen). A breach is recorded when the
beat task sees an open target past due, or when a reply or resolution arrives late.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from tickets import events
from tickets.models import ACTIVE_STATUSES, Direction, Message, Ticket, TicketEvent

from . import hours
from .models import SlaPolicy, TicketSla

TARGETS = ("first_response", "next_response", "resolution")


def policy_for(ticket: Ticket, policies: list[SlaPolicy] | None = None) -> SlaPolicy | None:
    """The first active policy (by position) whose priority, channel and team match the ticket."""
    if policies is None:
        policies = events.memo("workflows.sla_policies", lambda: list(SlaPolicy.objects.filter(active=True).order_by("position", "id")))
    for policy in policies:
        if policy.priority and policy.priority != ticket.priority:
            continue
        if policy.channel and policy.channel != ticket.channel:
            continue
        if policy.team_id and policy.team_id != ticket.team_id:
            continue
        return policy
    return None


def recompute(ticket_id: int) -> tuple[TicketSla | None, str]:
    """Bring a ticket's due times up to date. Returns (state, previous status seen) — the previous status
    lets automation notice status changes. Records late replies/resolutions as breaches."""
    return recompute_many([ticket_id]).get(ticket_id, (None, ""))


def recompute_many(ticket_ids: Iterable[int]) -> dict[int, tuple[TicketSla, str]]:
    """`recompute` for several tickets in one transaction: the tickets, their SLA rows (locked in id order)
    and their last agent replies are read with one query each; rows are written only where something changed.
    Tickets that do not exist are left out of the result."""
    ids = sorted(set(ticket_ids))
    if not ids:
        return {}
    with transaction.atomic():
        tickets = {t.pk: t for t in Ticket.objects.filter(pk__in=ids)}
        if not tickets:
            return {}
        states = _locked_states(tickets)
        policies = {pk: policy_for(ticket) for pk, ticket in tickets.items()}
        # The last agent reply matters for next-response targets only (a policy, or one still recorded).
        need_reply = [pk for pk in tickets if policies[pk] is not None or states[pk].next_response_due]
        replies = _last_agent_replies(need_reply)
        results = {}
        for pk, ticket in tickets.items():
            state = states[pk]
            results[pk] = (state, state.last_status)
            _apply(ticket, state, policies[pk], replies.get(pk))
    return results


def _locked_states(tickets: dict[int, Ticket]) -> dict[int, TicketSla]:
    ids = sorted(tickets)
    states = {s.ticket_id: s for s in TicketSla.objects.select_for_update().filter(ticket_id__in=ids).order_by("ticket_id")}
    missing = [pk for pk in ids if pk not in states]
    if missing:
        # A concurrent recompute may create some of them first: insert what is missing, then lock them all.
        TicketSla.objects.bulk_create([TicketSla(ticket_id=pk) for pk in missing], ignore_conflicts=True)
        for state in TicketSla.objects.select_for_update().filter(ticket_id__in=missing).order_by("ticket_id"):
            states[state.ticket_id] = state
    for pk, state in states.items():
        state.ticket = tickets[pk]  # the loaded ticket: no query when the state refers to it
    return states


def _last_agent_replies(ticket_ids: list[int]) -> dict[int, datetime]:
    if not ticket_ids:
        return {}
    rows = (
        Message.objects.filter(ticket_id__in=ticket_ids, direction=Direction.OUTBOUND, is_bot=False)
        .values("ticket_id")
        .annotate(last=Max("created_at"))
        .order_by()
    )
    return {row["ticket_id"]: row["last"] for row in rows}


def _apply(ticket: Ticket, state: TicketSla, policy: SlaPolicy | None, last_reply: datetime | None) -> None:
    """Compute one ticket's due times into its locked state, record late targets, write what changed."""
    before = {name: getattr(state, name) for name in _COMPUTED}
    late = _late_targets(ticket, state, last_reply)
    state.policy = policy
    state.first_response_due = state.next_response_due = state.resolution_due = None
    if policy is not None:
        calendar = hours.calendar_for(ticket.team_id) if policy.business_hours else hours.ALWAYS_OPEN
        if policy.first_response_minutes is not None:
            state.first_response_due = _add(calendar, ticket.created_at, policy.first_response_minutes)
        if policy.resolution_minutes is not None:
            paused, pending_now = _pending_minutes(ticket, calendar) if policy.pause_when_pending else (0.0, False)
            if not pending_now:
                state.resolution_due = hours.calendar_add(calendar, ticket.created_at, timedelta(minutes=policy.resolution_minutes + paused))
        waiting_since = _waiting_since(ticket, last_reply)
        if policy.next_response_minutes is not None and waiting_since is not None:
            state.next_response_due = _add(calendar, waiting_since, policy.next_response_minutes)
    for target, due in late:
        _record_breach(ticket, state, target, due)
    state.last_status = ticket.status
    _schedule(state, ticket, timezone.now())
    changed = [name for name in _COMPUTED if getattr(state, name) != before[name]]
    if changed:
        # Many events change nothing here (a message on a ticket without a policy): no write then.
        state.updated_at = timezone.now()
        state.save(update_fields=[*changed, "updated_at"])


# What recompute derives; `updated_at` tells when it last changed.
_COMPUTED = (
    "policy_id", "first_response_due", "next_response_due", "resolution_due", "next_due", "next_check",
    "breaches", "warnings", "last_status",
)  # fmt: skip


def check_due(now: datetime | None = None, limit: int = 500) -> int:
    """Beat task body: record breaches of open targets past due and warn before. Returns the number handled."""
    now = now or timezone.now()
    ids = list(TicketSla.objects.filter(next_check__lte=now).order_by("next_check").values_list("ticket_id", flat=True)[:limit])
    for ticket_id in ids:
        _check_one(ticket_id, now)
    return len(ids)


def open_targets(ticket: Ticket, state: TicketSla) -> dict[str, datetime]:
    """Targets still running (not yet met) with their due times."""
    if ticket.status not in ACTIVE_STATUSES or ticket.merged_into_id:
        return {}
    targets = {}
    if state.first_response_due and ticket.first_response_at is None:
        targets["first_response"] = state.first_response_due
    if state.next_response_due:
        targets["next_response"] = state.next_response_due
    if state.resolution_due:
        targets["resolution"] = state.resolution_due
    return targets


def breached_targets(state: TicketSla | None) -> list[str]:
    return list(dict.fromkeys(b["target"] for b in (state.breaches if state else [])))


def sla_json(ticket: Ticket, serializer=None) -> dict[str, Any]:
    """`sla` of the ticket JSON. In a list serializer, the states of the whole page load in one query."""
    state = _state_for(ticket, serializer)
    if state is None:
        return {"policy": None, "first_response_due": None, "next_response_due": None, "resolution_due": None, "breached": []}
    return {
        "policy": {"id": state.policy_id, "name": state.policy.name} if state.policy_id else None,
        "first_response_due": _iso(state.first_response_due if ticket.first_response_at is None else None),
        "next_response_due": _iso(state.next_response_due),
        "resolution_due": _iso(state.resolution_due if ticket.status in ACTIVE_STATUSES else None),
        "breached": breached_targets(state),
    }


def states_for(ticket_ids: list[int]) -> dict[int, TicketSla]:
    return {s.ticket_id: s for s in TicketSla.objects.filter(ticket_id__in=ticket_ids).select_related("policy")}


# ---------------------------------------------------------------- internals


def _state_for(ticket: Ticket, serializer) -> TicketSla | None:
    cached = ticket._state.fields_cache
    if "sla_state" in cached:  # select_related("sla_state")
        return cached["sla_state"]
    parent = getattr(serializer, "parent", None)
    instances = getattr(parent, "instance", None)
    if parent is not None and instances is not None and not isinstance(instances, Ticket):
        cache = getattr(parent, "_sla_states", None)
        if cache is None:
            cache = states_for([t.pk for t in instances])
            parent._sla_states = cache
        return cache.get(ticket.pk)
    return TicketSla.objects.select_related("policy").filter(ticket_id=ticket.pk).first()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _add(calendar: hours.Calendar, start: datetime, minutes: int) -> datetime:
    return hours.calendar_add(calendar, start, timedelta(minutes=minutes))


def _waiting_since(ticket: Ticket, last_reply: datetime | None) -> datetime | None:
    """The customer's message that awaits an answer, once the first response is done."""
    if ticket.first_response_at is None or last_reply is None or ticket.status not in ACTIVE_STATUSES:
        return None
    customer = ticket.last_customer_message_at
    if customer is not None and customer > last_reply:
        return customer
    return None


def _pending_minutes(ticket: Ticket, calendar: hours.Calendar) -> tuple[float, bool]:
    """Business minutes the ticket spent pending (from its status history), and whether it is pending now."""
    total, since = 0.0, None
    changes = TicketEvent.objects.filter(ticket=ticket, kind__in=("status", "reopened")).order_by("created_at", "id")
    for event in changes.only("kind", "data", "created_at"):
        new = (event.data.get("to") or {}).get("status") if event.kind == "status" else "open"
        if new == "pending" and since is None:
            since = event.created_at
        elif new != "pending" and since is not None:
            total += hours.calendar_minutes_between(calendar, since, event.created_at)
            since = None
    return total, ticket.status == "pending"


def _late_targets(ticket: Ticket, state: TicketSla, last_reply: datetime | None) -> list[tuple[str, datetime]]:
    """Targets met after their due time since the last computation (the beat task may not have run)."""
    late = []
    if state.first_response_due and ticket.first_response_at and ticket.first_response_at > state.first_response_due:
        late.append(("first_response", state.first_response_due))
    if state.next_response_due and last_reply and last_reply > state.next_response_due:
        late.append(("next_response", state.next_response_due))
    if state.resolution_due and ticket.resolved_at and ticket.resolved_at > state.resolution_due:
        late.append(("resolution", state.resolution_due))
    return late


def _record_breach(ticket: Ticket, state: TicketSla, target: str, due: datetime) -> bool:
    key = {"target": target, "due": due.isoformat()}
    if key in state.breaches:
        return False
    state.breaches = [*state.breaches, key]
    TicketEvent.objects.create(ticket=ticket, kind="sla_breached", data={"target": target, "due": due.isoformat()})
    data = {"ticket_id": ticket.pk, "team_id": ticket.team_id, "target": target, "agent_id": ticket.assignee_id}
    frame = {"type": "sla", "event": "breached", "ticket": ticket.pk, "target": target, "due": due.isoformat()}
    events.publish("sla.breached", groups=events.ticket_groups(ticket), frame=frame, data=data)
    return True


def _record_warning(ticket: Ticket, state: TicketSla, target: str, due: datetime) -> None:
    key = {"target": target, "due": due.isoformat()}
    if key in state.warnings:
        return
    state.warnings = [*state.warnings, key]
    data = {"ticket_id": ticket.pk, "team_id": ticket.team_id, "target": target, "agent_id": ticket.assignee_id, "due": due.isoformat()}
    frame = {"type": "sla", "event": "warning", "ticket": ticket.pk, "target": target, "due": due.isoformat()}
    events.publish("sla.warning", groups=events.ticket_groups(ticket), frame=frame, data=data)


def _check_one(ticket_id: int, now: datetime) -> None:
    with transaction.atomic():
        state = TicketSla.objects.select_for_update(of=("self",)).select_related("policy", "ticket").filter(ticket_id=ticket_id).first()
        if state is None:
            return
        ticket = state.ticket
        warn = timedelta(minutes=state.policy.warn_minutes if state.policy else 0)
        for target, due in open_targets(ticket, state).items():
            if due <= now:
                _record_breach(ticket, state, target, due)
            elif due - warn <= now:
                _record_warning(ticket, state, target, due)
        _schedule(state, ticket, now)
        state.save(update_fields=["breaches", "warnings", "next_due", "next_check"])


def _schedule(state: TicketSla, ticket: Ticket, now: datetime) -> None:
    """Set `next_due` (earliest unbreached due) and `next_check` (next warning or breach moment)."""
    warn = timedelta(minutes=state.policy.warn_minutes if state.policy else 0)
    pending_dues, checks = [], []
    for target, due in open_targets(ticket, state).items():
        key = {"target": target, "due": due.isoformat()}
        if key in state.breaches:
            continue
        pending_dues.append(due)
        checks.append(due if key in state.warnings or not warn else due - warn)
    state.next_due = min(pending_dues) if pending_dues else None
    state.next_check = min(checks) if checks else None
