"""The customer-insights panel beside every conversation."""

from __future__ import annotations

from django.http import HttpRequest

from tickets.models import Ticket

from .selectors import contact_insights


def ticket_panel_context(request: HttpRequest, ticket: Ticket) -> dict:
    return {"info": contact_insights(agent=request.user, contact=ticket.contact, current=ticket), "ticket": ticket}
