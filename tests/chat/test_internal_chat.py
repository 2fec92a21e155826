"""Internal chat between agents over /ws/agent/: team rooms, direct messages, history, unread, #links."""

from __future__ import annotations

import pytest

from chat.models import InternalMessage
from tests.chat.conftest import agent_socket, run
from tests.factories import AgentFactory, TeamFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.server]


async def rooms(ws) -> list[dict]:
    await ws.send({"type": "rooms"})
    return (await ws.recv_until(lambda f: f["type"] == "rooms"))["rooms"]


def test_team_room_messages_reach_the_team_only_with_unread_counts_and_history(chat_server):
    support, billing = TeamFactory(name="Support"), TeamFactory(name="Billing")
    alice = AgentFactory(first_name="Alice", teams=[support])
    bob = AgentFactory(first_name="Bob", teams=[support])
    carol = AgentFactory(first_name="Carol", teams=[billing])

    async def scenario():
        a, b, c = (await agent_socket(chat_server, alice)), (await agent_socket(chat_server, bob)), (await agent_socket(chat_server, carol))
        room = next(r for r in await rooms(a) if r["kind"] == "team")
        assert room["name"] == "Support"
        await a.send({"type": "internal", "room": room["id"], "client_id": "i-1", "text": "Who takes #1234?"})
        ack = await a.recv_until(lambda f: f["type"] == "ack")
        await a.send({"type": "internal", "room": room["id"], "client_id": "i-1", "text": "Who takes #1234?"})
        assert (await a.recv_until(lambda f: f["type"] == "ack"))["id"] == ack["id"]
        live = await b.recv_until(lambda f: f["type"] == "internal")
        assert live["text"] == "Who takes #1234?" and live["author"]["name"].startswith("Alice") and live["tickets"] == [1234]
        with pytest.raises(TimeoutError):
            await c.recv_until(lambda f: f["type"] == "internal", timeout=1.0)
        assert next(r for r in await rooms(b) if r["id"] == room["id"])["unread"] == 1
        await b.send({"type": "internal_history", "room": room["id"]})
        history = await b.recv_until(lambda f: f["type"] == "internal_history")
        assert [m["text"] for m in history["messages"]] == ["Who takes #1234?"]
        assert next(r for r in await rooms(b) if r["id"] == room["id"])["unread"] == 0
        # an agent of another team can neither post to nor read the room
        await c.send({"type": "internal", "room": room["id"], "client_id": "x", "text": "let me in"})
        assert (await c.recv_until(lambda f: f["type"] == "error"))["code"] == "refused"
        await c.send({"type": "internal_history", "room": room["id"]})
        assert (await c.recv_until(lambda f: f["type"] == "error"))["code"] == "refused"
        for ws in (a, b, c):
            await ws.close()

    run(scenario())
    assert InternalMessage.objects.count() == 1


def test_direct_messages_reach_only_the_two_agents(chat_server):
    team = TeamFactory()
    alice, bob, dave = (AgentFactory(teams=[team]) for _ in range(3))

    async def scenario():
        a, b, d = (await agent_socket(chat_server, alice)), (await agent_socket(chat_server, bob)), (await agent_socket(chat_server, dave))
        await a.send({"type": "internal_open", "agent": bob.pk})
        room = (await a.recv_until(lambda f: f["type"] == "room"))["room"]
        assert room["kind"] == "direct" and room["agent"] == bob.pk
        await a.send({"type": "internal", "room": room["id"], "client_id": "dm-1", "text": "psst"})
        assert (await b.recv_until(lambda f: f["type"] == "internal"))["text"] == "psst"
        with pytest.raises(TimeoutError):
            await d.recv_until(lambda f: f["type"] == "internal", timeout=1.0)
        assert any(r["id"] == room["id"] and r["unread"] == 1 for r in await rooms(b))
        assert all(r["id"] != room["id"] for r in await rooms(d))
        for ws in (a, b, d):
            await ws.close()

    run(scenario())
