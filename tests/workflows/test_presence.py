"""Collision detection over real websockets (daphne + Redis): who views, who types, disconnects, expiry."""

from __future__ import annotations

import time

import pytest
from asgiref.sync import sync_to_async

from tests.conftest import session_cookie, ws_connect
from tests.factories import AgentFactory, TeamFactory, TicketFactory
from tests.workflows.helpers import run_async
from workflows import presence

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.server]


def names(frame) -> list[tuple[str, bool]]:
    return [(p["name"], p["typing"]) for p in frame["agents"]]


def test_agents_see_each_other_viewing_and_typing_and_leaving(asgi_server):
    support, billing = TeamFactory(), TeamFactory()
    alice = AgentFactory(first_name="Alice", last_name="A", teams=[support])
    bob = AgentFactory(first_name="Bob", last_name="B", teams=[support])
    carol = AgentFactory(first_name="Carol", last_name="C", teams=[billing])
    ticket = TicketFactory(team=support)
    cookies = [session_cookie(u) for u in (alice, bob, carol)]

    async def scenario():
        a = await ws_connect(asgi_server, "/ws/agent/", cookie=cookies[0])
        await a.send({"type": "presence", "ticket": ticket.pk, "state": "viewing"})
        first = await a.recv_until(lambda f: f["type"] == "presence")
        assert names(first) == [("Alice A", False)]

        b = await ws_connect(asgi_server, "/ws/agent/", cookie=cookies[1])
        await b.send({"type": "presence", "ticket": ticket.pk, "state": "viewing"})
        both = await a.recv_until(lambda f: f["type"] == "presence" and len(f["agents"]) == 2)
        assert names(both) == [("Alice A", False), ("Bob B", False)]

        # Bob types: Alice sees the core's agent_typing frame and the presence state.
        await b.send({"type": "typing", "ticket": ticket.pk, "active": True})
        typing = await a.recv_until(lambda f: f["type"] == "agent_typing")
        assert typing["agent"]["name"] == "Bob B" and typing["active"] is True
        await b.send({"type": "presence", "ticket": ticket.pk, "state": "typing"})
        typed = await a.recv_until(lambda f: f["type"] == "presence" and any(p["typing"] for p in f["agents"]))
        assert names(typed) == [("Alice A", False), ("Bob B", True)]

        # Carol's team does not own the ticket: refused, and nobody sees her.
        c = await ws_connect(asgi_server, "/ws/agent/", cookie=cookies[2])
        await c.send({"type": "presence", "ticket": ticket.pk, "state": "viewing"})
        refused = await c.recv_until(lambda f: f["type"] == "error")
        assert refused["code"] == "forbidden"

        # Bob's socket closes: Alice sees him go without any further frame from him.
        await b.close()
        alone = await a.recv_until(lambda f: f["type"] == "presence" and len(f["agents"]) == 1)
        assert names(alone) == [("Alice A", False)]
        await a.close()
        await c.close()

    run_async(scenario)


def test_presence_of_a_dead_process_expires(asgi_server):
    team = TeamFactory()
    alice = AgentFactory(first_name="Alice", last_name="A", teams=[team])
    ghost = AgentFactory(first_name="Ghost", last_name="G", teams=[team])
    ticket = TicketFactory(team=team)
    cookie = session_cookie(alice)
    # Written by this (test) process, read by the server process: presence is shared through Redis.
    presence.record(ticket.pk, "specific.dead-socket", ghost, "viewing")

    async def scenario():
        a = await ws_connect(asgi_server, "/ws/agent/", cookie=cookie)
        await a.send({"type": "presence", "ticket": ticket.pk, "state": "viewing"})
        seen = await a.recv_until(lambda f: f["type"] == "presence")
        assert names(seen) == [("Alice A", False), ("Ghost G", False)]
        # That process died without a disconnect: its entry runs out (expiry moved to the past here).
        expiry_key, _info = presence._keys(ticket.pk)
        await sync_to_async(presence._redis().zadd)(expiry_key, {"specific.dead-socket": time.time() - 1})
        await a.send({"type": "presence", "ticket": ticket.pk, "state": "viewing"})  # the heartbeat
        later = await a.recv_until(lambda f: f["type"] == "presence")
        assert names(later) == [("Alice A", False)]
        await a.close()

    run_async(scenario)


def test_bad_presence_frames_are_invalid_not_fatal(asgi_server):
    team = TeamFactory()
    alice = AgentFactory(teams=[team])
    ticket = TicketFactory(team=team)
    cookie = session_cookie(alice)

    async def scenario():
        a = await ws_connect(asgi_server, "/ws/agent/", cookie=cookie)
        await a.send({"type": "presence", "ticket": "x"})
        assert (await a.recv_until(lambda f: f["type"] == "error"))["code"] == "invalid"
        await a.send({"type": "presence", "ticket": ticket.pk, "state": "dancing"})
        assert (await a.recv_until(lambda f: f["type"] == "error"))["code"] == "invalid"
        await a.send({"type": "presence", "ticket": ticket.pk})
        assert (await a.recv_until(lambda f: f["type"] == "presence"))["ticket"] == ticket.pk
        await a.close()

    run_async(scenario)


@pytest.mark.usefixtures("eager_celery")
def test_notify_action_reaches_the_teams_agents_live(asgi_server):
    from tickets.inbound import InboundMessage
    from tickets.services import ingest
    from workflows.models import AutomationRule

    support, billing = TeamFactory(), TeamFactory()
    alice, carol = AgentFactory(teams=[support]), AgentFactory(teams=[billing])
    AutomationRule.objects.create(name="Urgent words", trigger="message.received", conditions={"text_contains": "urgent"}, actions=[{"notify": "team"}])
    cookies = [session_cookie(alice), session_cookie(carol)]
    message = InboundMessage(channel="email", external_id="<notify@example.org>", sender_kind="email", sender_address="jane@example.org", subject="Down", text="URGENT: the shop is down", team_id=support.pk)

    async def scenario():
        a = await ws_connect(asgi_server, "/ws/agent/", cookie=cookies[0])
        c = await ws_connect(asgi_server, "/ws/agent/", cookie=cookies[1])
        for ws in (a, c):
            await ws.send({"type": "ping"})
            await ws.recv_until(lambda f: f["type"] == "pong")
        stored = await sync_to_async(ingest)(message)
        note = await a.recv_until(lambda f: f["type"] == "notification", timeout=10)
        assert note["ticket"] == stored.ticket_id and note["text"] == "Urgent words"
        with pytest.raises(TimeoutError):
            await c.recv_until(lambda f: f["type"] == "notification", timeout=1.0)
        await a.close()
        await c.close()

    run_async(scenario)
