"""The ticket page's call panel: every call of the ticket with caller, outcome, duration, recording and
transcription (from `Message.meta["call"]`)."""

from __future__ import annotations

from django.http import HttpRequest

from tickets.models import Channel, Message, Ticket


def calls_panel(request: HttpRequest, ticket: Ticket) -> dict:
    calls = [
        m["call"]
        for m in Message.objects.filter(ticket=ticket, channel=Channel.VOICE).order_by("-created_at").values_list("meta", flat=True)[:20]
        if isinstance(m, dict) and m.get("call")
    ]
    return {"calls": calls}
