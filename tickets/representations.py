"""JSON shapes of tickets and messages, shared by the REST API and websocket frames (CONTRACT field names)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from .models import Message, Ticket


def agent_name(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def author_dict(message: Message) -> dict[str, Any]:
    if message.is_bot:
        return {"type": "bot", "id": None, "name": "Bot"}
    if message.author_agent_id:
        return {"type": "agent", "id": message.author_agent_id, "name": agent_name(message.author_agent)}
    contact = message.author_contact
    return {"type": "contact", "id": message.author_contact_id, "name": contact.name if contact else ""}


def attachment_dict(attachment) -> dict[str, Any]:
    return {
        "id": attachment.id,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "inline": attachment.inline,
        "url": reverse("tickets:attachment", args=[attachment.id]),
    }


def message_dict(message: Message, *, attachments: list | None = None) -> dict[str, Any]:
    if attachments is None:
        attachments = list(message.attachments.all())
    return {
        "id": message.id,
        "ticket": message.ticket_id,
        "direction": message.direction,
        "channel": message.channel,
        "author": author_dict(message),
        "text": message.text,
        "html": message.html,
        "has_full_text": bool(message.full_text),
        "attachments": [attachment_dict(a) for a in attachments],
        "delivery_status": message.delivery_status,
        "error": message.error,
        "meta": {k: v for k, v in message.meta.items() if k in PUBLIC_META},
        "created_at": message.created_at.isoformat(),
    }


# Channel details an agent may see next to a message (call outcome, flags); raw headers stay server-side.
PUBLIC_META = {"truncated", "rejected_attachments", "call", "auto", "bounce", "postback", "subject", "from_agent_address"}


def ticket_dict(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "team": ticket.team_id,
        "team_name": ticket.team.name if ticket.team_id else "",
        "assignee": ticket.assignee_id,
        "assignee_name": agent_name(ticket.assignee) if ticket.assignee_id else "",
        "contact": ticket.contact_id,
        "contact_name": str(ticket.contact),
        "tags": [t.name for t in ticket.tags.all()],
        "unread": ticket.unread,
        "created_at": ticket.created_at.isoformat(),
        "updated_at": ticket.updated_at.isoformat(),
        "last_message_at": ticket.last_message_at.isoformat(),
        "merged_into": ticket.merged_into_id,
    }
