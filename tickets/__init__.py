"""The ticket stream. `tickets.ingest(InboundMessage)` is the one way in, `tickets.reply(...)` the one way out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .inbound import InboundAttachment, InboundMessage, ThreadHints

if TYPE_CHECKING:
    from .models import Message


def ingest(message: InboundMessage) -> Message | None:
    from .services import ingest as _ingest

    return _ingest(message)


def reply(**kwargs: Any) -> Message:
    from .services import reply as _reply

    return _reply(**kwargs)


__all__ = ["InboundAttachment", "InboundMessage", "ThreadHints", "ingest", "reply"]
