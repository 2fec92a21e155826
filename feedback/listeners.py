"""Offer surveys when a chat ends (widget first, link later) and when an email ticket is resolved (once)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from tickets.events import send_to_groups, subscribe
from tickets.models import Channel, Status, Ticket

from .services import offer_survey

RESOLVED = (Status.RESOLVED, Status.CLOSED)


def connect() -> None:
    subscribe("chat.ended", on_chat_ended)
    subscribe("ticket.updated", on_ticket_updated)


def on_chat_ended(kind: str, data: dict[str, Any]) -> None:
    ticket = Ticket.objects.filter(pk=data.get("ticket_id")).first()
    if ticket is None:
        return
    survey, created = offer_survey(ticket=ticket, trigger=f"chat:{data.get('session_id') or ''}", agent_id=data.get("agent_id"))
    if survey.answered_at is None:
        send_to_groups([f"customer.{ticket.pk}"], {"type": "survey", "url": survey.url})
    if created:
        from .tasks import send_survey_link

        send_survey_link.apply_async((survey.pk,), countdown=settings.SURVEY_DELAY_SECONDS)


def on_ticket_updated(kind: str, data: dict[str, Any]) -> None:
    if data.get("status") not in RESOLVED:
        return  # the cheap check first: most updates are not resolutions
    ticket = Ticket.objects.filter(pk=data.get("ticket_id"), channel=Channel.EMAIL).first()
    if ticket is None:
        return
    survey, created = offer_survey(ticket=ticket, trigger="resolved")
    if created:
        from .tasks import send_survey_link

        send_survey_link.delay(survey.pk)
