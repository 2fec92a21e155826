"""Outbound adapter registry: `tickets.reply` routes by channel without importing channel apps.

A channel app registers an adapter in its AppConfig.ready():

    register_adapter("sms", SmsAdapter())

`check(ticket)` runs before the reply is stored and may refuse it with `ReplyRefused` (a clear message for
the agent, e.g. Messenger's 24-hour window). `send(message)` runs after commit: in a Celery task with retries
when `queued` is true, inline otherwise (chat delivers over the visitor's socket). It returns the provider's
id for the message (or "") and raises `TransientSendError` to retry, `PermanentSendError` to fail.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .models import Message, Ticket


class ReplyRefused(Exception):
    """The channel cannot take this reply now; the message says why, for the agent."""


class TransientSendError(Exception):
    """The provider may accept it later (timeouts, 5xx, rate limits)."""


class PermanentSendError(Exception):
    """The provider refused it for good; the message says why."""


class OutboundAdapter(Protocol):
    queued: bool

    def check(self, ticket: Ticket) -> None: ...

    def send(self, message: Message) -> str: ...


_registry: dict[str, OutboundAdapter] = {}


def register_adapter(channel: str, adapter: OutboundAdapter) -> None:
    _registry[channel] = adapter


def get_adapter(channel: str) -> OutboundAdapter | None:
    return _registry.get(channel)


def unregister_adapter(channel: str) -> None:
    _registry.pop(channel, None)
