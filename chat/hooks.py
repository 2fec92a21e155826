"""Pre-routing hooks: a chat flow (bot) may take a visitor's messages before any agent is offered the chat.

    register_pre_routing(handler)   # handler(session, message) -> bool

`handler` runs after the visitor's message is committed, for every message of a session that no agent has
been offered yet. Returning True means a bot flow consumed the message and routing waits; the flow answers
with `tickets.services.reply(ticket=session.ticket, agent=None, bot=True, text=...)`, which reaches the
visitor with author `bot`. When every handler returns False (or none is registered) the chat is routed.
A flow hands over to agents with `chat.assignment.request_agent(session_id=...)`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tickets.models import Message

    from .models import ChatSession

log = logging.getLogger(__name__)

PreRoutingHandler = Callable[["ChatSession", "Message"], bool]
_handlers: list[PreRoutingHandler] = []


def register_pre_routing(handler: PreRoutingHandler) -> None:
    if handler not in _handlers:
        _handlers.append(handler)


def unregister_pre_routing(handler: PreRoutingHandler) -> None:
    if handler in _handlers:
        _handlers.remove(handler)


def consumed_by_flow(session: ChatSession, message: Message) -> bool:
    """True when a registered flow took the message. A handler that raises is logged and skipped."""
    for handler in list(_handlers):
        try:
            if handler(session, message):
                return True
        except Exception:
            log.exception("pre-routing handler %r failed", handler)
    return False
