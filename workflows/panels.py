"""Context of the workflows panels on the ticket page (registered with tickets.ui)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.models import Ticket

from . import merge, presence, sla
from .models import Macro, TicketSla

TARGET_LABELS = {
    "first_response": lambda: _("First response"),
    "next_response": lambda: _("Next response"),
    "resolution": lambda: _("Resolution"),
}


def sla_panel(request: HttpRequest, ticket: Ticket) -> dict[str, Any]:
    state = TicketSla.objects.select_related("policy").filter(ticket=ticket).first()
    return {"state": state, "targets": target_rows(ticket, state)}


def target_rows(ticket: Ticket, state: TicketSla | None) -> list[dict[str, Any]]:
    """One row per target: label, due time, and how close (`ok`, `warning`, `breached`, `met`)."""
    if state is None or state.policy_id is None:
        return []
    now = timezone.now()
    running = sla.open_targets(ticket, state)
    breached = set(sla.breached_targets(state))
    warn = state.policy.warn_minutes * 60
    rows = []
    for target in sla.TARGETS:
        due = getattr(state, f"{target}_due")
        if due is None and target not in breached:
            continue
        if target in running:
            left = (due - now).total_seconds()
            level = "breached" if left <= 0 else "warning" if left <= warn else "ok"
        else:
            level = "breached" if target in breached else "met"
        rows.append({"target": target, "label": TARGET_LABELS[target](), "due": due, "level": level, "running": target in running})
    return rows


def queue_badge(ticket: Ticket, state: TicketSla | None) -> dict[str, Any] | None:
    """The most urgent running target of a ticket, for the queue's SLA column."""
    rows = [r for r in target_rows(ticket, state) if r["running"]]
    if not rows:
        return None
    row = min(rows, key=lambda r: r["due"])
    return {"target": row["target"], "label": row["label"], "due": row["due"].isoformat(), "level": row["level"]}


def actions_panel(request: HttpRequest, ticket: Ticket) -> dict[str, Any]:
    move = merge.undoable_move(ticket)
    messages = list(ticket.messages.order_by("created_at", "id").values("id", "text", "direction")[:200])
    return {
        "ticket": ticket,
        "macros": list(Macro.objects.all()[:100]),
        "split_choices": [{"id": m["id"], "snippet": (m["text"] or "")[:60]} for m in messages[1:]],
        "undo": move,
        "undo_until": merge.undo_deadline(move) if move else None,
    }


def collision_panel(request: HttpRequest, ticket: Ticket) -> dict[str, Any]:
    return {"ticket": ticket, "heartbeat": presence.HEARTBEAT_SECONDS}
