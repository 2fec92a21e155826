"""Automation rules: when a trigger happens and every condition holds, run the rule's actions.

Conditions (all must hold; a missing key is no condition):
    {"channel": [..], "team": [ids], "priority": [..], "status": [..], "tags_any": [..], "tags_all": [..],
     "tags_none": [..], "text_contains": "refund", "contact_attributes": {"plan": "gold"},
     "business_hours": "open" | "closed"}

Guarantees:
- rules run in `position` order inside one Celery task per event, after the event's commit;
- each rule at most once per (ticket, event): a unique `RuleRun` row is claimed before it runs;
- loop protection: changes made by rules carry a depth; events caused at depth >= MAX_DEPTH start no rules,
  and one ticket fires at most MAX_FIRINGS_PER_HOUR rules an hour;
- what fired is on the ticket's timeline: `TicketEvent(kind="automation", data={rule, name, actions, errors})`.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.models import Direction, Message, Ticket, TicketEvent

from . import hours
from .actions import RULE_ACTIONS, apply_actions, validate_actions
from .models import AutomationRule, RuleRun, Trigger

log = logging.getLogger(__name__)

MAX_DEPTH = 3
MAX_FIRINGS_PER_HOUR = 30
CONDITION_KEYS = {
    "channel", "team", "priority", "status", "tags_any", "tags_all", "tags_none", "text_contains",
    "contact_attributes", "business_hours",
}  # fmt: skip

# Depth of the rule currently running in this thread; events published while it is set come from a rule.
_depth: contextvars.ContextVar[int] = contextvars.ContextVar("workflows_rule_depth", default=0)


def current_depth() -> int:
    return _depth.get()


def validate_conditions(conditions: Any) -> dict:
    if not isinstance(conditions, dict):
        raise ValueError(_("Conditions must be an object."))
    unknown = set(conditions) - CONDITION_KEYS
    if unknown:
        raise ValueError(_("Unknown conditions: %(keys)s") % {"keys": ", ".join(sorted(unknown))})
    for key in ("channel", "team", "priority", "status", "tags_any", "tags_all", "tags_none"):
        if key in conditions and not isinstance(conditions[key], list):
            raise ValueError(_("%(key)s must be a list.") % {"key": key})
    if "text_contains" in conditions and not isinstance(conditions["text_contains"], str):
        raise ValueError(_("text_contains must be a text."))
    if "contact_attributes" in conditions and not isinstance(conditions["contact_attributes"], dict):
        raise ValueError(_("contact_attributes must be an object."))
    if conditions.get("business_hours", "open") not in ("open", "closed"):
        raise ValueError(_("business_hours must be \"open\" or \"closed\"."))
    return conditions


def validate_rule_actions(actions: Any) -> list[dict]:
    return validate_actions(actions, allowed=RULE_ACTIONS)


def run_rules(*, trigger: str, ticket_id: int, event_key: str, depth: int = 0, message_id: int | None = None, rule_ids: list[int] | None = None) -> list[int]:
    """Run the active rules of `trigger` for one event on one ticket. Returns the ids of rules that fired."""
    if depth >= MAX_DEPTH:
        log.warning("automation depth limit reached on ticket %s (%s)", ticket_id, trigger)
        return []
    rules = AutomationRule.objects.filter(active=True, trigger=trigger).order_by("position", "id")
    if rule_ids is not None:
        rules = rules.filter(pk__in=rule_ids)
    fired = []
    for rule in rules:
        ticket = Ticket.objects.select_related("contact").filter(pk=ticket_id, merged_into__isnull=True).first()
        if ticket is None or _over_rate(ticket_id):
            break
        if not _claim(rule, ticket, event_key):
            continue  # this rule already ran for this event
        if not matches(rule.conditions, ticket, message_id=message_id):
            continue
        # The depth is set until after commit: events of these changes reach the listeners with it.
        with _running(depth + 1), transaction.atomic():
            RuleRun.objects.filter(rule=rule, ticket=ticket, event_key=event_key[:120]).update(fired=True)
            ticket, errors = apply_actions(ticket=ticket, actions=rule.actions, actor=None, label=rule.name)
            TicketEvent.objects.create(
                ticket=ticket, kind="automation",
                data={"rule": rule.pk, "name": rule.name, "trigger": trigger, "actions": rule.actions, "errors": errors},
            )  # fmt: skip
        fired.append(rule.pk)
        if rule.stop_processing:
            break
    return fired


def matches(conditions: dict, ticket: Ticket, *, message_id: int | None = None) -> bool:
    c = conditions or {}
    if c.get("channel") and ticket.channel not in c["channel"]:
        return False
    if c.get("team") and ticket.team_id not in c["team"]:
        return False
    if c.get("priority") and ticket.priority not in c["priority"]:
        return False
    if c.get("status") and ticket.status not in c["status"]:
        return False
    if any(k in c for k in ("tags_any", "tags_all", "tags_none")):
        tags = set(ticket.tags.values_list("name", flat=True))
        if c.get("tags_any") and not tags & set(c["tags_any"]):
            return False
        if c.get("tags_all") and not set(c["tags_all"]) <= tags:
            return False
        if c.get("tags_none") and tags & set(c["tags_none"]):
            return False
    if c.get("text_contains") and c["text_contains"].casefold() not in _message_text(ticket, message_id).casefold():
        return False
    attributes = ticket.contact.attributes or {}
    for key, value in (c.get("contact_attributes") or {}).items():
        if attributes.get(key) != value:
            return False
    return "business_hours" not in c or hours.is_open(ticket.team_id) == (c["business_hours"] == "open")


def idle_candidates(rule: AutomationRule, now=None) -> Iterator[tuple[int, str]]:
    """(ticket id, event key) of active tickets whose customer has been silent for `idle_minutes`."""
    now = now or timezone.now()
    threshold = now - timedelta(minutes=rule.idle_minutes or 0)
    rows = (
        Ticket.objects.filter(
            status__in=("new", "open", "pending"), merged_into__isnull=True,
            last_customer_message_at__lte=threshold, last_customer_message_at__gt=threshold - timedelta(days=1),
        )
        .values_list("pk", "last_customer_message_at")[:1000]
    )  # fmt: skip
    for ticket_id, last in rows:
        yield ticket_id, f"idle:{last.isoformat()}"


def _claim(rule: AutomationRule, ticket: Ticket, event_key: str) -> bool:
    try:
        with transaction.atomic():
            RuleRun.objects.create(rule=rule, ticket=ticket, event_key=event_key[:120])
        return True
    except IntegrityError:
        return False


def _over_rate(ticket_id: int) -> bool:
    since = timezone.now() - timedelta(hours=1)
    return RuleRun.objects.filter(ticket_id=ticket_id, fired=True, created_at__gte=since).count() >= MAX_FIRINGS_PER_HOUR


def _message_text(ticket: Ticket, message_id: int | None) -> str:
    qs = Message.objects.filter(ticket=ticket)
    if message_id:
        qs = qs.filter(pk=message_id)
    else:
        qs = qs.filter(direction=Direction.INBOUND).order_by("-created_at")
    text = qs.values_list("text", flat=True).first() or ""
    return f"{ticket.subject}\n{text}"


@contextmanager
def _running(depth: int):
    token = _depth.set(depth)
    try:
        yield
    finally:
        _depth.reset(token)


TRIGGERS = set(Trigger.values)
