"""Subscriptions to ticket events (run in-process after commit): SLA due times are kept current right
away; automation rules and webhook deliveries go to Celery."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db.models import Max
from django.utils import timezone

from tickets import events
from tickets.models import TicketEvent

from . import sla, webhooks
from .automation import current_depth
from .models import AutomationRule, TicketSla, Trigger

log = logging.getLogger(__name__)


def connect() -> None:
    events.subscribe("ticket.created", on_ticket)
    events.subscribe("ticket.updated", on_ticket)
    events.subscribe("message.created", on_message)
    events.subscribe("sla.warning", on_sla_warning)
    for kind in ("ticket.created", "ticket.updated", "message.created", "sla.breached"):
        events.subscribe(kind, on_webhook_event)


TICKET_KINDS = ("ticket.created", "ticket.updated")


def on_ticket(kind: str, data: dict[str, Any]) -> None:
    ticket_id = data["ticket_id"]
    # In a worker batch the due times of every ticket in it are brought up to date at once (one transaction,
    # one query per kind); each event then takes its ticket's result.
    states = events.memo("workflows.sla_recompute", _recompute_batch)
    state, _previous = states[ticket_id] if ticket_id in states else sla.recompute(ticket_id)
    if kind == "ticket.created":
        _enqueue(Trigger.TICKET_CREATED, ticket_id, "created")
    elif state is not None:
        change = events.per_ticket("workflows.status_changes", ticket_id, _last_status_changes, kinds=TICKET_KINDS)
        # A conditional update claims the change: concurrent listeners cannot both fire for it.
        if change and TicketSla.objects.filter(pk=ticket_id, last_status_event__lt=change).update(last_status_event=change):
            _enqueue(Trigger.STATUS_CHANGED, ticket_id, f"status:{change}")


def _last_status_changes(ticket_ids: list[int]) -> dict[int, int | None]:
    """The id of each ticket's latest status change or reopening of the past ten minutes (None: none)."""
    found: dict[int, int | None] = dict.fromkeys(ticket_ids)
    if ticket_ids:
        recent = TicketEvent.objects.filter(ticket_id__in=ticket_ids, kind__in=("status", "reopened"), created_at__gte=timezone.now() - timedelta(minutes=10))
        found.update(recent.values("ticket_id").annotate(last=Max("id")).values_list("ticket_id", "last").order_by())
    return found


def _recompute_batch() -> dict:
    ids = [note[1].get("ticket_id") for note in events.batch_notes() if note[0] in TICKET_KINDS]
    try:
        return sla.recompute_many(filter(None, ids))
    except Exception:
        # One ticket must not hold up the others (nor a deadlock with another worker): each event then
        # recomputes its own ticket.
        log.exception("SLA recompute of a batch of %s tickets failed; recomputing one by one", len(ids))
        return {}


def on_message(kind: str, data: dict[str, Any]) -> None:
    if data.get("direction") == "inbound":
        _enqueue(Trigger.MESSAGE_RECEIVED, data["ticket_id"], f"message:{data['message_id']}", message_id=data["message_id"])


def on_sla_warning(kind: str, data: dict[str, Any]) -> None:
    _enqueue(Trigger.SLA_WARNING, data["ticket_id"], f"sla-warning:{data['target']}:{data['due']}")


def on_webhook_event(kind: str, data: dict[str, Any]) -> None:
    webhooks.enqueue(kind, data)


def _enqueue(trigger: str, ticket_id: int, event_key: str, message_id: int | None = None) -> None:
    if not events.memo(f"workflows.rules.{trigger}", lambda: AutomationRule.objects.filter(active=True, trigger=trigger).exists()):
        return
    from .tasks import run_automations

    run_automations.delay(trigger, ticket_id, event_key, current_depth(), message_id)
