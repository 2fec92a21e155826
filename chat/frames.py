"""Frames the chat app sends, and the groups they go to. Visitors never see internal notes or agent ids."""

from __future__ import annotations

from typing import Any

from tickets.models import Direction, Message
from tickets.representations import agent_name


def customer_group(ticket_id: int) -> str:
    return f"customer.{ticket_id}"


def visitor_group(session_id: int) -> str:
    """The widget before its ticket exists (queue position, offline notice)."""
    return f"visitor.{session_id}"


def visitor_message(message: Message) -> dict[str, Any] | None:
    """A message as the visitor sees it; None for what the visitor must never see (internal notes)."""
    if message.direction == Direction.NOTE:
        return None
    if message.is_bot:
        author, name = "bot", "Bot"
    elif message.direction == Direction.OUTBOUND:
        author, name = "agent", _first_name(message.author_agent)
    else:
        author, name = "visitor", ""
    frame = {
        "type": "message",
        "id": message.pk,
        "author": author,
        "name": name,
        "text": message.text,
        "created_at": message.created_at.isoformat(),
    }
    if author == "bot":
        # A chat flow's options and offered articles (assist app), so history and resume show them too.
        meta = message.meta or {}
        for key in ("buttons", "articles"):
            items = meta.get(key)
            if isinstance(items, list) and items:
                frame[key] = items
    return frame


def _first_name(user) -> str:
    if user is None:
        return ""
    return user.first_name or agent_name(user)
