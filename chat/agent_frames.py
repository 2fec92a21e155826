"""Chat frames on `/ws/agent/` (registered with `tickets.consumers.register_agent_frame`).

Each handler checks access through the ticket selectors (a ticket the agent may not see raises
`Forbidden`, answered with `error {code: forbidden}` by the core consumer) and calls one service.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from channels.db import database_sync_to_async

from tickets import selectors
from tickets.agent_socket import Forbidden
from tickets.models import Ticket

from . import assignment, internal
from .services import ChatRefused, end_session
from .sweeper import ensure_sweeper
from .workspace import chat_dict

Handler = Callable[[Any, dict[str, Any]], Awaitable[None]]


def _refusals(handler: Handler) -> Handler:
    @wraps(handler)
    async def wrapped(consumer, frame: dict[str, Any]) -> None:
        try:
            await handler(consumer, frame)
        except ChatRefused as exc:
            await consumer.error("refused", str(exc), ticket=frame.get("ticket"), client_id=frame.get("client_id"), room=frame.get("room"))

    return wrapped


def _id(value: Any) -> int:
    if isinstance(value, bool) or value is None:
        raise ValueError("not an id")
    return int(value)


def _ticket(user, ticket_id: int) -> Ticket:
    try:
        return selectors.ticket_for_agent(agent=user, ticket_id=ticket_id)
    except Ticket.DoesNotExist:
        raise Forbidden from None


# ---------------------------------------------------------------- chats


def _accept(user, ticket_id: int) -> dict[str, Any]:
    session = assignment.accept(agent=user, ticket=_ticket(user, ticket_id))
    return chat_dict(session)


@_refusals
async def on_accept(consumer, frame: dict[str, Any]) -> None:
    ensure_sweeper()
    ticket_id = _id(frame.get("ticket"))
    chat = await database_sync_to_async(_accept)(consumer.user, ticket_id)
    await consumer.send_json({"type": "accepted", "ticket": ticket_id, "chat": chat})


def _decline(user, ticket_id: int) -> None:
    _ticket(user, ticket_id)
    assignment.decline(agent=user, ticket_id=ticket_id)


@_refusals
async def on_decline(consumer, frame: dict[str, Any]) -> None:
    ticket_id = _id(frame.get("ticket"))
    await database_sync_to_async(_decline)(consumer.user, ticket_id)
    await consumer.send_json({"type": "declined", "ticket": ticket_id})


def _transfer(user, ticket_id: int, to_agent: int | None, to_team: int | None, note: str) -> None:
    assignment.transfer(agent=user, ticket=_ticket(user, ticket_id), to_agent_id=to_agent, to_team_id=to_team, note=note)


@_refusals
async def on_transfer(consumer, frame: dict[str, Any]) -> None:
    ticket_id = _id(frame.get("ticket"))
    to_agent = _id(frame["agent"]) if frame.get("agent") else None
    to_team = _id(frame["team"]) if frame.get("team") else None
    note = frame.get("note") or ""
    if not isinstance(note, str):
        raise ValueError("note")
    await database_sync_to_async(_transfer)(consumer.user, ticket_id, to_agent, to_team, note)
    await consumer.send_json({"type": "transferred", "ticket": ticket_id, "agent": to_agent, "team": to_team})


def _end(user, ticket_id: int, resolve: bool) -> int:
    ticket = _ticket(user, ticket_id)
    session = assignment.session_for_ticket(ticket.pk)
    return end_session(session_id=session.pk, by="agent", agent=user, resolve=resolve).pk


@_refusals
async def on_end_chat(consumer, frame: dict[str, Any]) -> None:
    ticket_id = _id(frame.get("ticket"))
    resolve = bool(frame.get("resolve"))
    session_id = await database_sync_to_async(_end)(consumer.user, ticket_id, resolve)
    await consumer.send_json({"type": "chat_closed", "ticket": ticket_id, "session": session_id, "resolved": resolve})


def _chats(user) -> list[dict[str, Any]]:
    return [chat_dict(s) for s in assignment.active_chats(agent=user)]


async def on_chats(consumer, frame: dict[str, Any]) -> None:
    ensure_sweeper()
    await consumer.send_json({"type": "chats", "chats": await database_sync_to_async(_chats)(consumer.user)})


# ---------------------------------------------------------------- internal chat


def _post_internal(user, room_id: int, client_id: str, text: str) -> dict[str, Any]:
    return internal.post(user=user, room_id=room_id, client_id=client_id, text=text)


@_refusals
async def on_internal(consumer, frame: dict[str, Any]) -> None:
    room_id = _id(frame.get("room"))
    client_id = str(frame.get("client_id") or "")[:64]
    text = frame.get("text")
    if not isinstance(text, str):
        raise ValueError("text")
    message = await database_sync_to_async(_post_internal)(consumer.user, room_id, client_id, text)
    await consumer.send_json({"type": "ack", "client_id": client_id, "id": message["id"], "room": room_id})


async def on_rooms(consumer, frame: dict[str, Any]) -> None:
    rooms = await database_sync_to_async(lambda: internal.rooms_for(user=consumer.user))()
    await consumer.send_json({"type": "rooms", "rooms": rooms})


@_refusals
async def on_internal_open(consumer, frame: dict[str, Any]) -> None:
    other = _id(frame.get("agent"))
    room = await database_sync_to_async(lambda: internal.open_direct(user=consumer.user, other_id=other))()
    await consumer.send_json({"type": "room", "room": room})


@_refusals
async def on_internal_history(consumer, frame: dict[str, Any]) -> None:
    room_id = _id(frame.get("room"))
    before = _id(frame["before"]) if frame.get("before") else None
    messages = await database_sync_to_async(lambda: internal.history(user=consumer.user, room_id=room_id, before=before))()
    await consumer.send_json({"type": "internal_history", "room": room_id, "messages": messages})


@_refusals
async def on_internal_read(consumer, frame: dict[str, Any]) -> None:
    room_id, last_id = _id(frame.get("room")), _id(frame.get("id"))
    await database_sync_to_async(lambda: internal.mark_read(user=consumer.user, room_id=room_id, last_id=last_id))()


HANDLERS: dict[str, Handler] = {
    "accept": on_accept,
    "decline": on_decline,
    "transfer": on_transfer,
    "end_chat": on_end_chat,
    "chats": on_chats,
    "internal": on_internal,
    "rooms": on_rooms,
    "internal_open": on_internal_open,
    "internal_history": on_internal_history,
    "internal_read": on_internal_read,
}
