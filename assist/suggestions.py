"""Suggested replies for the customer's latest message on a ticket (CONTRACT: `tickets/<id>/suggestions/`)."""

from __future__ import annotations

from typing import Any

from tickets.models import Message, Ticket
from tickets.selectors import sees_everything, team_ids

from . import retrieval

MAX_RESULTS = 3
QUERY_CHARS = 2000


def latest_question(ticket: Ticket) -> str:
    """The customer's latest message (with the subject when the message alone says little)."""
    text = (
        Message.objects.filter(ticket=ticket, direction="inbound")
        .order_by("-created_at", "-id")
        .values_list("text", flat=True)
        .first()
    ) or ""
    text = text.strip()[:QUERY_CHARS]
    if len(text.split()) < 4 and ticket.subject:
        text = f"{ticket.subject}\n{text}"
    return text


def suggestions_for(*, ticket: Ticket, agent, k: int = MAX_RESULTS) -> list[dict[str, Any]]:
    """Up to `k` answers the agent may use: `{source, title, text, ref, url, score}` best first."""
    query = latest_question(ticket)
    if not query:
        return []
    visible_teams = None if sees_everything(agent) else {*team_ids(agent), *([ticket.team_id] if ticket.team_id else [])}
    hits = retrieval.search(query, team_ids=visible_teams, owner_id=agent.pk, k=k, exclude={("reply", ticket.pk)})
    return [
        {"source": h.source, "title": h.title, "text": h.answer, "ref": h.ref, "url": h.url, "score": round(h.score, 4)}
        for h in hits
    ]
