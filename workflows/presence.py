"""Collision detection: who is viewing a ticket and who is typing a reply, live.

Presence lives in Redis (shared by every web process), one entry per agent socket with an expiry: a socket
that closes cleanly is removed at once (disconnect hook); one whose process died drops out when its entry
expires (clients refresh every HEARTBEAT seconds). Watchers of the ticket (`ticket.<id>`) get
`{"type": "presence", "ticket", "agents": [{id, name, typing}]}` whenever the set changes.

Client frame: `{"type": "presence", "ticket": <id>, "state": "viewing" | "typing" | "left"}`.
"""

from __future__ import annotations

import json
import time
from typing import Any

import redis
from channels.db import database_sync_to_async
from django.conf import settings

from tickets.agent_socket import Forbidden
from tickets.models import Ticket
from tickets.representations import agent_name
from tickets.selectors import ticket_for_agent

TTL_SECONDS = 45
HEARTBEAT_SECONDS = 20
STATES = {"viewing", "typing", "left"}

_client: redis.Redis | None = None


def _redis() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL)
    return _client


def _keys(ticket_id: int) -> tuple[str, str]:
    base = f"{settings.CACHES['default'].get('KEY_PREFIX', 'hd')}:presence:{ticket_id}"
    return base, base + ":info"


def record(ticket_id: int, socket_id: str, user, state: str) -> list[dict[str, Any]]:
    """Note that `user` (on socket `socket_id`) views or types on a ticket; returns who is there now."""
    expiry, info = _keys(ticket_id)
    entry = json.dumps({"id": user.pk, "name": agent_name(user), "typing": state == "typing"})
    pipe = _redis().pipeline()
    pipe.zadd(expiry, {socket_id: time.time() + TTL_SECONDS})
    pipe.hset(info, socket_id, entry)
    pipe.expire(expiry, TTL_SECONDS * 2)
    pipe.expire(info, TTL_SECONDS * 2)
    pipe.execute()
    return agents(ticket_id)


def remove(ticket_id: int, socket_id: str) -> list[dict[str, Any]]:
    expiry, info = _keys(ticket_id)
    pipe = _redis().pipeline()
    pipe.zrem(expiry, socket_id)
    pipe.hdel(info, socket_id)
    pipe.execute()
    return agents(ticket_id)


def agents(ticket_id: int) -> list[dict[str, Any]]:
    """Agents present on the ticket (one entry per agent even with several tabs), expired ones dropped."""
    expiry, info = _keys(ticket_id)
    client = _redis()
    now = time.time()
    stale = [m for m, _score in client.zrangebyscore(expiry, "-inf", now, withscores=True)]
    if stale:
        pipe = client.pipeline()
        pipe.zrem(expiry, *stale)
        pipe.hdel(info, *stale)
        pipe.execute()
    live = client.zrangebyscore(expiry, now, "+inf")
    values = client.hmget(info, live) if live else []
    people: dict[int, dict[str, Any]] = {}
    for raw in values:
        if raw is None:
            continue
        entry = json.loads(raw)
        known = people.setdefault(entry["id"], entry)
        known["typing"] = known["typing"] or entry["typing"]
    return sorted(people.values(), key=lambda p: p["name"])


def presence_frame(ticket_id: int, people: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "presence", "ticket": ticket_id, "agents": people}


# ---------------------------------------------------------------- websocket glue


async def on_presence_frame(consumer, frame: dict[str, Any]) -> None:
    ticket_id = frame.get("ticket")
    if isinstance(ticket_id, bool) or not isinstance(ticket_id, int):
        raise ValueError("ticket")
    state = frame.get("state", "viewing")
    if state not in STATES:
        raise ValueError("state")
    tracked: set[int] = consumer.__dict__.setdefault("presence_tickets", set())
    if state == "left":
        # Removing one's own entry needs no access check (and no database: pages send it while closing).
        if ticket_id in tracked:
            tracked.discard(ticket_id)
            people = await database_sync_to_async(remove)(ticket_id, consumer.channel_name)
            await _broadcast(consumer, ticket_id, people)
        return
    await database_sync_to_async(_check_access)(consumer.user, ticket_id)
    await consumer.join_group(f"ticket.{ticket_id}")
    # Counted as watching: if the agent loses access, the core drops the ticket group again.
    consumer.__dict__.setdefault("watching", set()).add(ticket_id)
    tracked.add(ticket_id)
    people = await database_sync_to_async(record)(ticket_id, consumer.channel_name, consumer.user, state)
    await _broadcast(consumer, ticket_id, people)


async def on_disconnect(consumer) -> None:
    for ticket_id in list(consumer.__dict__.get("presence_tickets", ())):
        people = await database_sync_to_async(remove)(ticket_id, consumer.channel_name)
        await _broadcast(consumer, ticket_id, people)


async def _broadcast(consumer, ticket_id: int, people: list[dict[str, Any]]) -> None:
    await consumer.channel_layer.group_send(f"ticket.{ticket_id}", {"type": "hd.event", "frame": presence_frame(ticket_id, people), "ticket": ticket_id})


def _check_access(user, ticket_id: int) -> None:
    try:
        ticket_for_agent(agent=user, ticket_id=ticket_id)
    except Ticket.DoesNotExist:
        raise Forbidden from None
