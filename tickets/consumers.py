"""`/ws/agent/`: one socket per agent browser carries the queue, chats, previews and internal chat.

The consumer translates frames to service calls and events to frames. Authorization is checked on every
frame (the selectors raise for tickets the agent may not see). Feature apps add frame types with
`register_agent_frame` (the chat app adds `accept` and `internal`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from . import agent_socket as ops
from .adapters import ReplyRefused
from .events import frame_text
from .services import InvalidMessage

log = logging.getLogger(__name__)

MAX_FRAME_BYTES = 64 * 1024
MAX_TEXT_CHARS = 10_000
SESSION_CHECK_SECONDS = 5.0
RECENT_EVENTS = 256  # event ids remembered per socket to drop a second delivery of one event

FrameHandler = Callable[["AgentConsumer", dict[str, Any]], Awaitable[None]]
_extra_handlers: dict[str, FrameHandler] = {}


def register_agent_frame(frame_type: str, handler: FrameHandler) -> None:
    """Let a feature app handle a client frame type on `/ws/agent/`."""
    _extra_handlers[frame_type] = handler


_disconnect_hooks: list[Callable[[AgentConsumer], Awaitable[None]]] = []


def register_agent_disconnect(handler: Callable[[AgentConsumer], Awaitable[None]]) -> None:
    """Let a feature app clean up when an agent socket closes (e.g. presence on tickets)."""
    if handler not in _disconnect_hooks:
        _disconnect_hooks.append(handler)


class RateLimiter:
    """Token bucket per socket: bursts are fine, floods get `rate_limited`."""

    def __init__(self, rate: float = 20.0, burst: float = 60.0) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = burst, time.monotonic()

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class FrameConsumer(AsyncJsonWebsocketConsumer):
    """A JSON websocket consumer that handles frames and group events on the event loop only.

    Channels (4.2+) hops to its one shared sync thread to run `close_old_connections` before *every*
    message a consumer handles: each client frame, each typing draft and each group event an agent socket
    receives. That hop queues behind whatever database work the thread is doing and costs a thread switch
    per frame. These consumers never touch the database on the loop; every query runs through
    `database_sync_to_async`, which closes stale connections in the thread that uses them, so the hop is
    skipped."""

    async def dispatch(self, message: dict[str, Any]) -> None:
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)


class AgentConsumer(FrameConsumer):
    async def connect(self) -> None:
        self.user = self.scope.get("user")
        session = self.scope.get("session")
        self.session_key = getattr(session, "session_key", None)
        self.access = await database_sync_to_async(ops.load_access)(self.user)
        if self.access is None or not self.session_key:
            await self.close(code=4401)
            return
        self.groups_joined: set[str] = set()
        self.watching: set[int] = set()
        self.limiter = RateLimiter()
        # One published event reaches an agent through several groups (the ticket they watch and as its
        # assignee; their team's queue and as assignee): the browser gets it once.
        self.recent_events: deque[str] = deque(maxlen=RECENT_EVENTS)
        for group in self.access.groups:
            await self._join(group)
        await self.accept()
        self.checker = asyncio.ensure_future(self._check_session())

    async def disconnect(self, code: int) -> None:
        checker = getattr(self, "checker", None)
        if checker is not None:
            checker.cancel()
        for hook in _disconnect_hooks:
            try:
                await hook(self)
            except Exception:
                log.exception("agent disconnect hook %r failed", hook)
        for group in list(getattr(self, "groups_joined", ())):
            await self.channel_layer.group_discard(group, self.channel_name)

    # ------------------------------------------------------------ frames in

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs) -> None:
        if text_data is None or len(text_data.encode()) > MAX_FRAME_BYTES:
            await self.error("too_large" if text_data or bytes_data else "invalid", "Frame too large or not text.")
            return
        if not self.limiter.allow():
            await self.error("rate_limited", "Too many frames; slow down.")
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            await self.error("invalid", "Frames are JSON objects.")
            return
        if not isinstance(frame, dict):
            await self.error("invalid", "Frames are JSON objects.")
            return
        kind = frame.get("type")
        handler = self.handlers.get(kind) if isinstance(kind, str) else None
        extra = _extra_handlers.get(kind) if isinstance(kind, str) else None
        if handler is None and extra is None:
            await self.error("invalid", "Unknown frame type.")
            return
        text = frame.get("text")
        if isinstance(text, str) and len(text) > MAX_TEXT_CHARS:
            await self.error("too_large", "Text over 10,000 characters.")
            return
        try:
            if handler is not None:
                await handler(self, frame)
            else:
                await extra(self, frame)
        except ops.Forbidden:
            await self.error("forbidden", "You cannot see this ticket.", ticket=frame.get("ticket"))
        except (InvalidMessage, ReplyRefused) as exc:
            await self.error("refused", str(exc), client_id=frame.get("client_id"), ticket=frame.get("ticket"))
        except (TypeError, ValueError, KeyError):
            await self.error("invalid", "Malformed frame.")

    async def on_message(self, frame: dict[str, Any]) -> None:
        ticket_id, text = _int(frame.get("ticket")), frame.get("text")
        client_id = str(frame.get("client_id") or "")[:64]
        if not isinstance(text, str):
            raise ValueError("text")
        message_id = await database_sync_to_async(ops.send_message)(
            self.user, ticket_id, text, bool(frame.get("internal")), client_id
        )
        await self.send_json({"type": "ack", "client_id": client_id, "id": message_id, "ticket": ticket_id})

    async def on_typing(self, frame: dict[str, Any]) -> None:
        ticket_id = _int(frame.get("ticket"))
        await database_sync_to_async(ops.agent_typing)(self.user, ticket_id, bool(frame.get("active")))

    async def on_watch(self, frame: dict[str, Any]) -> None:
        ticket_id = _int(frame.get("ticket"))
        history = await database_sync_to_async(ops.watch)(self.user, ticket_id)
        await self._join(f"ticket.{ticket_id}")
        self.watching.add(ticket_id)
        await self.send_json({"type": "watching", "ticket": ticket_id, "history": history})

    async def on_unwatch(self, frame: dict[str, Any]) -> None:
        ticket_id = _int(frame.get("ticket"))
        self.watching.discard(ticket_id)
        await self._leave(f"ticket.{ticket_id}")

    async def on_resume(self, frame: dict[str, Any]) -> None:
        after = _int(frame.get("after") or 0)
        missed = await database_sync_to_async(ops.resume)(self.user, after, sorted(self.watching))
        for item in missed:
            await self.send_json({"type": "message", "event": "created", "replayed": True, **item})
        await self.send_json({"type": "resumed", "after": after, "count": len(missed)})

    async def on_availability(self, frame: dict[str, Any]) -> None:
        status = await database_sync_to_async(ops.set_availability)(self.user, str(frame.get("status")))
        await self.send_json({"type": "availability", "status": status})

    async def on_ping(self, frame: dict[str, Any]) -> None:
        await self.send_json({"type": "pong"})

    handlers: dict[str, Callable[[AgentConsumer, dict[str, Any]], Awaitable[None]]] = {
        "message": on_message,
        "typing": on_typing,
        "watch": on_watch,
        "unwatch": on_unwatch,
        "resume": on_resume,
        "availability": on_availability,
        "ping": on_ping,
    }

    # ------------------------------------------------------------ events out

    async def hd_event(self, event: dict[str, Any]) -> None:
        eid = event.get("eid")
        if eid is not None:
            if eid in self.recent_events:
                return
            self.recent_events.append(eid)
        await self.send(text_data=frame_text(event))

    async def hd_disconnect(self, event: dict[str, Any]) -> None:
        """Logout (of this session), password change or deactivation."""
        session_key = event.get("session_key")
        if session_key is None or session_key == self.session_key:
            await self.close(code=4403)

    async def hd_access_changed(self, event: dict[str, Any]) -> None:
        """Team membership or role changed: rejoin the right groups, drop watches no longer allowed."""
        access = await database_sync_to_async(ops.load_access)(self.user)
        if access is None:
            await self.close(code=4403)
            return
        for group in set(self.access.groups) - set(access.groups):
            await self._leave(group)
        for group in set(access.groups) - set(self.access.groups):
            await self._join(group)
        self.access = access
        allowed = await database_sync_to_async(ops.still_visible)(self.user, sorted(self.watching))
        for ticket_id in self.watching - set(allowed):
            self.watching.discard(ticket_id)
            await self._leave(f"ticket.{ticket_id}")

    # ------------------------------------------------------------ helpers

    async def error(self, code: str, message: str, **extra: Any) -> None:
        await self.send_json({"type": "error", "code": code, "message": message, **{k: v for k, v in extra.items() if v is not None}})

    async def join_group(self, group: str) -> None:
        """For feature apps' frame handlers (e.g. internal chat rooms), after their own permission check."""
        await self._join(group)

    async def _join(self, group: str) -> None:
        if group not in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.add(group)

    async def _leave(self, group: str) -> None:
        if group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)
            self.groups_joined.discard(group)

    async def _check_session(self) -> None:
        """Safety net for the signals: a socket outlives neither its session nor its agent's access."""
        try:
            while True:
                await asyncio.sleep(SESSION_CHECK_SECONDS)
                if not await database_sync_to_async(ops.session_valid)(self.user.pk, self.session_key):
                    await self.close(code=4403)
                    return
        except asyncio.CancelledError:
            pass


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("not an id")
    return int(value)
