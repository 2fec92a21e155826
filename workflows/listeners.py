"""Subscriptions to ticket events (run in-process after commit): SLA due times are kept current right
away; automation rules and webhook deliveries go to Celery."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from tickets import events
from tickets.models import TicketEvent

from . import sla, webhooks
from .automation import current_depth
from .models import AutomationRule, TicketSla, Trigger


def connect() -> None:
    events.subscribe("ticket.created", on_ticket)
    events.subscribe("ticket.updated", on_ticket)
    events.subscribe("message.created", on_message)
    events.subscribe("sla.warning", on_sla_warning)
    for kind in ("ticket.created", "ticket.updated", "message.created", "sla.breached"):
        events.subscribe(kind, on_webhook_event)


def on_ticket(kind: str, data: dict[str, Any]) -> None:
    ticket_id = data["ticket_id"]
    state, _previous = sla.recompute(ticket_id)
    if kind == "ticket.created":
        _enqueue(Trigger.TICKET_CREATED, ticket_id, "created")
    elif state is not None:
        recent = timezone.now() - timedelta(minutes=10)
        change = (
            TicketEvent.objects.filter(ticket_id=ticket_id, kind__in=("status", "reopened"), created_at__gte=recent)
            .order_by("-id").values_list("pk", flat=True).first()
        )  # fmt: skip
        # A conditional update claims the change: concurrent listeners cannot both fire for it.
        if change and TicketSla.objects.filter(pk=ticket_id, last_status_event__lt=change).update(last_status_event=change):
            _enqueue(Trigger.STATUS_CHANGED, ticket_id, f"status:{change}")


def on_message(kind: str, data: dict[str, Any]) -> None:
    if data.get("direction") == "inbound":
        _enqueue(Trigger.MESSAGE_RECEIVED, data["ticket_id"], f"message:{data['message_id']}", message_id=data["message_id"])


def on_sla_warning(kind: str, data: dict[str, Any]) -> None:
    _enqueue(Trigger.SLA_WARNING, data["ticket_id"], f"sla-warning:{data['target']}:{data['due']}")


def on_webhook_event(kind: str, data: dict[str, Any]) -> None:
    webhooks.enqueue(kind, data)


def _enqueue(trigger: str, ticket_id: int, event_key: str, message_id: int | None = None) -> None:
    if not AutomationRule.objects.filter(active=True, trigger=trigger).exists():
        return
    from .tasks import run_automations

    run_automations.delay(trigger, ticket_id, event_key, current_depth(), message_id)
