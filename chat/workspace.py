"""What the agent's chat workspace shows about one chat (shared by the page and the `chats` frame)."""

from __future__ import annotations

from typing import Any

from .models import ChatSession


def chat_dict(session: ChatSession) -> dict[str, Any]:
    ticket = session.ticket
    return {
        "session": session.pk,
        "ticket": session.ticket_id,
        "status": session.status,
        "contact_name": str(ticket.contact) if ticket else "",
        "subject": ticket.subject if ticket else "",
        "unread": bool(ticket.unread) if ticket else False,
        "widget": session.widget.name if session.widget_id else "",
        "language": session.locale or (session.widget.language if session.widget_id else ""),
        "page_url": session.page_url,
        "started_at": session.started_at.isoformat(),
        "ended": session.status == "ended",
    }
