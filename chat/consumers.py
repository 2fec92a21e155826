"""`/ws/visitor/?widget=<public key>`: the customer's widget (CONTRACT).

The consumer translates frames into `chat.services` calls and group events into frames. It never reads
another conversation: everything is keyed by the session the visitor's own token resolved to.
Typing drafts go straight to the agents' groups, coalesced here (latest draft wins) and never stored.
"""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async

from tickets import events
from tickets.consumers import FrameConsumer, RateLimiter
from tickets.services import InvalidMessage

from . import conf, frames
from . import visitor_ops as ops
from .pressure import ensure_monitor, stretched
from .services import ChatRefused, UnknownVisitor
from .sweeper import ensure_sweeper

# Visitor messages run on a small thread pool rather than the one shared thread Channels uses by default:
# ingest is safe to run concurrently (unique constraints, row locks), and one visitor's frames still run in
# order because a consumer handles its frames one at a time. This is what lets one process keep up with
# hundreds of chats whose every message is a database transaction.
_pool: ThreadPoolExecutor | None = None


def _parallel(func):
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=conf.db_threads(), thread_name_prefix="chat-db")
    return database_sync_to_async(func, thread_sensitive=False, executor=_pool)


BEFORE_HELLO = {"hello", "ping"}


class VisitorConsumer(FrameConsumer):
    async def connect(self) -> None:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin1"))
        key = (query.get("widget") or [""])[0][:64]
        self.widget = await _parallel(ops.load_widget)(key) if key else None
        if self.widget is None:
            await self.close(code=4404)
            return
        self.session_id: int | None = None
        self.lang = "en"
        self.token_digest = ""
        self.ticket_id: int | None = None
        self.assignee_id: int | None = None
        self.groups_joined: set[str] = set()
        self.limiter = RateLimiter(rate=10.0, burst=40.0)
        self.draft = ""
        self.draft_task: asyncio.Task | None = None
        self.draft_sent_at = 0.0
        self.told_interval = conf.typing_interval()
        await self.accept()
        ensure_sweeper()
        ensure_monitor()

    async def disconnect(self, code: int) -> None:
        task = getattr(self, "draft_task", None)
        if task is not None:
            task.cancel()
        if getattr(self, "draft", "") and self.ticket_id:
            self.draft = ""  # the visitor left: the agent's preview of their unsent draft goes away
            await self._flush_draft(0.0)
        for group in list(getattr(self, "groups_joined", ())):
            await self.channel_layer.group_discard(group, self.channel_name)

    # ------------------------------------------------------------ frames in

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs) -> None:
        if text_data is None or len(text_data) > conf.MAX_FRAME_BYTES or len(text_data.encode()) > conf.MAX_FRAME_BYTES:
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
        kind = frame.get("type") if isinstance(frame, dict) else None
        handler = self.handlers.get(kind) if isinstance(kind, str) else None
        if handler is None:
            await self.error("invalid", "Unknown frame type.")
            return
        if self.session_id is None and kind not in BEFORE_HELLO:
            await self.error("invalid", "Send hello first.")
            return
        for field in ("text", "name", "email"):
            value = frame.get(field)
            if isinstance(value, str) and len(value) > conf.MAX_TEXT_CHARS:
                await self.error("too_large", "Text over 10,000 characters.", client_id=frame.get("client_id"))
                return
        try:
            await handler(self, frame)
        except ChatRefused as exc:
            await self.error("refused", str(exc), client_id=frame.get("client_id"))
        except InvalidMessage as exc:
            await self.error("invalid", str(exc), client_id=frame.get("client_id"))
        except (TypeError, ValueError, KeyError):
            await self.error("invalid", "Malformed frame.")

    async def on_hello(self, frame: dict[str, Any]) -> None:
        if self.session_id is not None:
            await self.error("invalid", "Already said hello.")
            return
        token = frame.get("visitor")
        headers = dict(self.scope.get("headers") or [])
        try:
            welcome = await _parallel(ops.hello)(self.widget, token, frame, headers)
        except UnknownVisitor:
            await self.error("forbidden", "Unknown visitor token.")
            await self.close(code=4403)
            return
        self.lang = welcome["lang"]
        self.session_id = welcome["session"]
        self.token_digest = welcome.pop("_digest")
        self.ticket_id = welcome.pop("_ticket")
        self.assignee_id = welcome.pop("_assignee")
        await self._join(frames.visitor_group(self.session_id))
        if self.ticket_id:
            await self._join(frames.customer_group(self.ticket_id))
        await self.send_json(welcome)

    async def on_message(self, frame: dict[str, Any]) -> None:
        client_id, text = frame.get("client_id"), frame.get("text")
        if not isinstance(client_id, str) or not client_id.strip() or len(client_id) > 64:
            raise ValueError("client_id")
        if not isinstance(text, str) or not text.strip():
            raise ValueError("text")
        posted = await _parallel(ops.localized)(self.lang, ops.post, self.session_id, self.token_digest, client_id.strip(), text)
        if posted is None:
            await self.error("rate_limited", "Too many messages; wait a moment.", client_id=client_id)
            return
        new_ticket = self.ticket_id != posted.ticket_id
        if new_ticket:
            self.ticket_id = posted.ticket_id
            await self._join(frames.customer_group(posted.ticket_id))
        await self.send_json({"type": "ack", "client_id": client_id, "id": posted.message_id})
        if posted.frame:
            # The visitor's other tabs show it too (this tab already has it).
            await self.channel_layer.group_send(
                frames.customer_group(posted.ticket_id), {"type": "hd.event", "frame": posted.frame, "origin": self.channel_name}
            )
        if new_ticket:
            # Whatever a bot flow answered before this socket joined the ticket's group.
            for item in await _parallel(ops.history_after)(self.session_id, posted.message_id):
                await self.send_json(item)

    async def on_typing(self, frame: dict[str, Any]) -> None:
        text = frame.get("text", "")
        if not isinstance(text, str):
            raise ValueError("text")
        self.draft = text
        if self.ticket_id is None:
            return  # no agent can see a conversation that has no ticket yet
        interval = stretched(conf.typing_interval())
        if self.draft_task is None or self.draft_task.done():
            wait = max(0.0, self.draft_sent_at + interval - time.monotonic())
            self.draft_task = asyncio.ensure_future(self._flush_draft(wait))
        if abs(interval - self.told_interval) > 0.25 * self.told_interval:
            # Back-pressure at the source: while this process is busy the widget sends drafts less often,
            # so typing never crowds out messages.
            self.told_interval = interval
            await self.send_json({"type": "typing_interval", "seconds": round(interval, 2)})

    async def _flush_draft(self, wait: float) -> None:
        """Send the latest draft, then again if it changed meanwhile: the agent always ends on the newest."""
        while True:
            if wait:
                await asyncio.sleep(wait)
            text = self.draft
            self.draft_sent_at = time.monotonic()
            # `eid`: the assignee watching the chat is in both groups and gets the preview once. Both groups
            # in one publish round trip; a lost preview is harmless (the next one replaces it).
            event = {"type": "hd.event", "frame": {"type": "typing_preview", "ticket": self.ticket_id, "text": text}, "eid": events.new_event_id()}
            groups = [f"ticket.{self.ticket_id}"] + ([f"agent.{self.assignee_id}"] if self.assignee_id else [])
            await events.send_events(self.channel_layer, [(groups, event)])
            if self.draft == text:
                return
            wait = max(0.0, self.draft_sent_at + stretched(conf.typing_interval()) - time.monotonic())

    async def on_resume(self, frame: dict[str, Any]) -> None:
        after = frame.get("after") or 0
        if isinstance(after, bool) or not isinstance(after, int):
            raise ValueError("after")
        missed = await database_sync_to_async(ops.history_after)(self.session_id, after)
        for item in missed:
            await self.send_json({**item, "replayed": True})
        await self.send_json({"type": "resumed", "after": after, "count": len(missed)})

    async def on_end(self, frame: dict[str, Any]) -> None:
        await database_sync_to_async(ops.end)(self.session_id)

    async def on_identify(self, frame: dict[str, Any]) -> None:
        ok = await database_sync_to_async(ops.identify)(self.session_id, frame.get("payload"), frame.get("signature"))
        if ok:
            await self.send_json({"type": "identified"})
        else:
            await self.error("forbidden", "The identity signature is not valid; you stay anonymous.")

    async def on_prechat(self, frame: dict[str, Any]) -> None:
        await database_sync_to_async(ops.localized)(self.lang, ops.prechat, self.session_id, frame.get("name"), frame.get("email"))
        await self.send_json({"type": "prechat_saved"})

    async def on_transcript(self, frame: dict[str, Any]) -> None:
        await database_sync_to_async(ops.localized)(self.lang, ops.transcript, self.session_id, frame.get("email"))
        await self.send_json({"type": "transcript_sent"})

    async def on_offline(self, frame: dict[str, Any]) -> None:
        client_id = str(frame.get("client_id") or "")[:64]
        if not client_id:
            raise ValueError("client_id")
        await database_sync_to_async(ops.localized)(self.lang, ops.offline, self.widget, self.token_digest, frame.get("name"), frame.get("email"), frame.get("text"), client_id, self.session_id)
        await self.send_json({"type": "offline_received", "client_id": client_id})

    async def on_ping(self, frame: dict[str, Any]) -> None:
        await self.send_json({"type": "pong"})

    handlers = {
        "hello": on_hello,
        "message": on_message,
        "typing": on_typing,
        "resume": on_resume,
        "end": on_end,
        "identify": on_identify,
        "prechat": on_prechat,
        "transcript": on_transcript,
        "offline": on_offline,
        "ping": on_ping,
    }

    # ------------------------------------------------------------ events out

    async def hd_event(self, event: dict[str, Any]) -> None:
        if event.get("origin") == self.channel_name:
            return
        if "assignee_id" in event:
            self.assignee_id = event["assignee_id"]
        await self.send(text_data=events.frame_text(event))

    # ------------------------------------------------------------ helpers

    async def error(self, code: str, message: str, **extra: Any) -> None:
        await self.send_json({"type": "error", "code": code, "message": message, **{k: v for k, v in extra.items() if v is not None}})

    async def _join(self, group: str) -> None:
        if group not in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.add(group)
