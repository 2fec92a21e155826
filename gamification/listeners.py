"""Ticket, survey, knowledge, suggestion and SLA events → awards. Runs after commit (tickets.events); each
listener does one small read and at most a few small writes, and an exception is logged by the event bus."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from tickets import events
from tickets.events import subscribe
from tickets.models import Channel, Direction, Message, Ticket, TicketEvent

from . import services
from .models import Award, Reason

# Events older than this are left to `recompute_points --replay-since`: a ticket.updated for an old ticket
# (a tag change months later) must not trigger first-response awards at today's date.
FRESH = timedelta(minutes=10)


def connect() -> None:
    subscribe("ticket.updated", on_ticket_updated)
    subscribe("survey.answered", on_survey_answered)
    subscribe("article.published", on_article_published)
    subscribe("suggestion.accepted", on_suggestion_accepted)
    subscribe("sla.breached", on_sla_breached)


def on_ticket_updated(kind: str, data: dict[str, Any]) -> None:
    ticket_id = data.get("ticket_id")
    ticket = events.per_ticket("gamification.tickets", ticket_id, _tickets) if ticket_id else None
    if ticket is None:
        return
    now = timezone.now()
    if ticket.first_response_at and now - ticket.first_response_at < FRESH:
        _first_response(ticket)
    if ticket.status in services.RESOLVED and ticket.resolved_at and now - ticket.resolved_at < FRESH:
        _resolved(ticket)


def _tickets(ids: list[int]) -> dict[int, Ticket | None]:
    found: dict[int, Ticket | None] = dict.fromkeys(ids)
    if ids:
        fields = ("id", "channel", "status", "assignee_id", "created_at", "first_response_at", "resolved_at")
        found.update((t.pk, t) for t in Ticket.objects.filter(pk__in=ids).only(*fields))
    return found


def on_survey_answered(kind: str, data: dict[str, Any]) -> None:
    agent_id = data.get("agent_id")
    if not agent_id:
        return
    granted = None
    if data.get("rating") == 5:
        granted = services.award(agent_id=agent_id, reason=Reason.FIVE_STAR_SURVEY, ref=f"survey:{data['survey_id']}", ticket_id=data.get("ticket_id"))
    if granted is None:
        services.check_badges(agent_id=agent_id)  # CSAT badges can be earned without points


def on_article_published(kind: str, data: dict[str, Any]) -> None:
    if data.get("author_id") and data.get("article_id"):
        services.award(agent_id=data["author_id"], reason=Reason.ARTICLE_PUBLISHED, ref=f"article:{data['article_id']}")


def on_suggestion_accepted(kind: str, data: dict[str, Any]) -> None:
    if data.get("author_id") and data.get("suggestion_id"):
        services.award(agent_id=data["author_id"], reason=Reason.SUGGESTION_ACCEPTED, ref=f"suggestion:{data['suggestion_id']}")


def on_sla_breached(kind: str, data: dict[str, Any]) -> None:
    ticket_id = data.get("ticket_id")
    if not ticket_id:
        return
    agent_id = data.get("agent_id") or Ticket.objects.filter(pk=ticket_id).values_list("assignee_id", flat=True).first()
    if agent_id:
        ref = f"sla:{ticket_id}:{data.get('target') or ''}"
        services.award(agent_id=agent_id, reason=Reason.SLA_BREACHED, ref=ref, ticket_id=ticket_id)


def _first_response(ticket: Ticket) -> None:
    if _already(Reason.FIRST_RESPONSE, ticket):
        return
    rule = services.rule_for(Reason.FIRST_RESPONSE)
    if rule is None or rule.target_seconds is None:
        return
    if (ticket.first_response_at - ticket.created_at).total_seconds() > rule.target_seconds:
        return
    responder = (
        Message.objects.filter(ticket=ticket, direction=Direction.OUTBOUND, is_bot=False, author_agent__isnull=False)
        .order_by("created_at", "id").values_list("author_agent_id", flat=True).first()
    )
    if responder:
        services.award(agent_id=responder, reason=Reason.FIRST_RESPONSE, ref=f"ticket:{ticket.pk}", ticket_id=ticket.pk)


def _resolved(ticket: Ticket) -> None:
    if _already(Reason.CHAT_RESOLVED if ticket.channel == Channel.CHAT else Reason.TICKET_RESOLVED, ticket):
        return
    agent_id = ticket.assignee_id
    if agent_id is None:  # unassigned: whoever set the status
        agent_id = (
            TicketEvent.objects.filter(ticket=ticket, kind="status", actor__isnull=False)
            .order_by("-created_at", "-id").values_list("actor_id", flat=True).first()
        )
    if agent_id:
        reason = Reason.CHAT_RESOLVED if ticket.channel == Channel.CHAT else Reason.TICKET_RESOLVED
        services.award(agent_id=agent_id, reason=reason, ref=f"ticket:{ticket.pk}", ticket_id=ticket.pk)


def _already(reason: str, ticket: Ticket) -> bool:
    """Cheap exit for the many ticket.updated events after the award was made (replies, tags, notes)."""
    return Award.objects.filter(reason=reason, ref=f"ticket:{ticket.pk}").exists()
