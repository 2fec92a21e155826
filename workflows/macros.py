"""Macros: a named bundle of actions (and optional reply) an agent applies to one or many tickets."""

from __future__ import annotations

from django.db import transaction

from tickets.models import Ticket, TicketEvent

from .actions import apply_actions
from .models import Macro


def apply_macro(*, ticket: Ticket, macro: Macro, actor) -> tuple[Ticket, list[str]]:
    """Run the macro's actions in order as `actor`; recorded on the timeline. Returns (ticket, errors)."""
    with transaction.atomic():
        ticket, errors = apply_actions(ticket=ticket, actions=macro.actions, actor=actor, label=macro.name)
        TicketEvent.objects.create(ticket=ticket, kind="macro", actor=actor, data={"macro": macro.pk, "name": macro.name, "errors": errors})
    return ticket, errors


def apply_to_many(*, tickets: list[Ticket], macro: Macro, actor) -> list[dict]:
    """Each ticket on its own: one that fails does not undo the others."""
    results = []
    for ticket in tickets:
        _ticket, errors = apply_macro(ticket=ticket, macro=macro, actor=actor)
        results.append({"ticket": ticket.pk, "ok": not errors, "errors": errors})
    return results
