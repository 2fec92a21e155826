"""/ws/agent/ over real websockets against a running daphne on the Redis channel layer."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async

from tests.conftest import session_cookie, ws_connect
from tests.factories import AgentFactory, TeamFactory, TicketFactory
from tickets.inbound import InboundMessage
from tickets.models import Message
from tickets.services import ingest

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.server]


def sms(external_id: str, team_id: int, text: str = "hello", address: str = "+12025550100") -> InboundMessage:
    return InboundMessage(channel="sms", external_id=external_id, sender_kind="phone", sender_address=address, text=text, team_id=team_id)


def test_unauthenticated_socket_is_refused(asgi_server):
    async def scenario():
        import websockets.exceptions

        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            await ws_connect(asgi_server, "/ws/agent/")
        assert refused.value.response.status_code == 403

    asyncio.run(scenario())


def test_foreign_origin_is_refused(asgi_server):
    agent = AgentFactory(teams=[TeamFactory()])
    cookie = session_cookie(agent)

    async def scenario():
        import websockets.exceptions

        with pytest.raises(websockets.exceptions.InvalidStatus):
            await ws_connect(asgi_server, "/ws/agent/", cookie=cookie, origin="http://evil.example.net")

    asyncio.run(scenario())


def test_ingested_ticket_reaches_agents_of_its_team_only(asgi_server):
    support, billing = TeamFactory(), TeamFactory()
    alice, carol = AgentFactory(teams=[support]), AgentFactory(teams=[billing])

    async def scenario():
        a = await ws_connect(asgi_server, "/ws/agent/", cookie=await sync_to_async(session_cookie)(alice))
        c = await ws_connect(asgi_server, "/ws/agent/", cookie=await sync_to_async(session_cookie)(carol))
        await a.send({"type": "ping"})
        await a.recv_until(lambda f: f["type"] == "pong")
        await c.send({"type": "ping"})
        await c.recv_until(lambda f: f["type"] == "pong")
        message = await sync_to_async(ingest)(sms("SM-live", support.pk, "my parcel"))
        frame = await a.recv_until(lambda f: f["type"] == "ticket")
        assert frame["event"] == "created" and frame["ticket"]["id"] == message.ticket_id
        with pytest.raises(TimeoutError):
            await c.recv_until(lambda f: f["type"] == "ticket", timeout=1.0)
        await a.close()
        await c.close()

    asyncio.run(scenario())


def test_watch_reply_ack_is_idempotent_and_resume_replays(asgi_server):
    team = TeamFactory()
    agent = AgentFactory(teams=[team])
    ticket = ingest(sms("SM-1", team.pk)).ticket

    async def scenario():
        ws = await ws_connect(asgi_server, "/ws/agent/", cookie=await sync_to_async(session_cookie)(agent))
        await ws.send({"type": "watch", "ticket": ticket.pk})
        watching = await ws.recv_until(lambda f: f["type"] == "watching")
        assert [m["text"] for m in watching["history"]] == ["hello"]
        last_seen = watching["history"][-1]["id"]
        note = {"type": "message", "ticket": ticket.pk, "client_id": "c-1", "text": "internal thought", "internal": True}
        await ws.send(note)
        ack = await ws.recv_until(lambda f: f["type"] == "ack")
        await ws.send(note)
        ack2 = await ws.recv_until(lambda f: f["type"] == "ack")
        assert ack["id"] == ack2["id"]
        await ws.close()
        # Customer writes while the agent is disconnected; on reconnect `resume` replays it.
        await sync_to_async(ingest)(sms("SM-2", team.pk, "are you there?"))
        ws = await ws_connect(asgi_server, "/ws/agent/", cookie=await sync_to_async(session_cookie)(agent))
        await ws.send({"type": "watch", "ticket": ticket.pk})
        await ws.recv_until(lambda f: f["type"] == "watching")
        await ws.send({"type": "resume", "after": last_seen})
        replayed = []
        while True:
            frame = await ws.recv()
            if frame["type"] == "resumed":
                break
            if frame["type"] == "message":
                replayed.append(frame["text"])
        assert replayed == ["internal thought", "are you there?"]
        await ws.close()

    asyncio.run(scenario())
    assert Message.objects.filter(client_id="c-1").count() == 1


def test_frames_about_other_teams_tickets_are_forbidden(asgi_server):
    agent = AgentFactory(teams=[TeamFactory()])
    foreign = TicketFactory(team=TeamFactory())

    async def scenario():
        ws = await ws_connect(asgi_server, "/ws/agent/", cookie=await sync_to_async(session_cookie)(agent))
        for frame in (
            {"type": "watch", "ticket": foreign.pk},
            {"type": "message", "ticket": foreign.pk, "client_id": "x", "text": "hi"},
            {"type": "typing", "ticket": foreign.pk, "active": True},
        ):
            await ws.send(frame)
            reply = await ws.recv_until(lambda f: f["type"] == "error")
            assert reply["code"] == "forbidden"
        await ws.close()

    asyncio.run(scenario())
    assert not Message.objects.filter(ticket=foreign).exists()


def test_bad_frames_get_errors_and_the_socket_stays_usable(asgi_server):
    agent = AgentFactory(teams=[TeamFactory()])

    async def scenario():
        ws = await ws_connect(asgi_server, "/ws/agent/", cookie=await sync_to_async(session_cookie)(agent))
        await ws.conn.send("not json")
        assert (await ws.recv())["code"] == "invalid"
        await ws.send({"type": "nonsense"})
        assert (await ws.recv())["code"] == "invalid"
        await ws.send({"type": "message", "ticket": 1, "text": "x" * 70_000})
        try:
            assert (await ws.recv())["code"] == "too_large"
        except Exception as exc:  # a 1009 close is also allowed by CONTRACT
            assert getattr(getattr(exc, "rcvd", None), "code", 1009) == 1009
            return
        await ws.send({"type": "ping"})
        assert (await ws.recv())["type"] == "pong"
        await ws.close()

    asyncio.run(scenario())


def test_logout_closes_the_agents_socket_within_seconds(asgi_server):
    from django.contrib.sessions.models import Session

    agent = AgentFactory(teams=[TeamFactory()])
    cookie = session_cookie(agent)

    async def scenario():
        import websockets.exceptions

        ws = await ws_connect(asgi_server, "/ws/agent/", cookie=cookie)
        await ws.send({"type": "ping"})
        await ws.recv()
        await sync_to_async(lambda: Session.objects.filter(session_key=cookie).delete())()
        with pytest.raises(websockets.exceptions.ConnectionClosed):
            while True:
                await ws.recv(timeout=10)

    asyncio.run(scenario())


def test_deactivating_an_agent_closes_their_socket(asgi_server):
    agent = AgentFactory(teams=[TeamFactory()])
    cookie = session_cookie(agent)

    async def scenario():
        import websockets.exceptions

        ws = await ws_connect(asgi_server, "/ws/agent/", cookie=cookie)
        await ws.send({"type": "ping"})
        await ws.recv()
        agent.is_active = False
        await sync_to_async(agent.save)()
        with pytest.raises(websockets.exceptions.ConnectionClosed):
            while True:
                await ws.recv(timeout=10)

    asyncio.run(scenario())


def test_removing_an_agent_from_a_team_stops_its_queue_events(asgi_server):
    team = TeamFactory()
    agent = AgentFactory(teams=[team])

    async def scenario():
        ws = await ws_connect(asgi_server, "/ws/agent/", cookie=await sync_to_async(session_cookie)(agent))
        await ws.send({"type": "ping"})
        await ws.recv_until(lambda f: f["type"] == "pong")
        await sync_to_async(team.members.remove)(agent)
        await asyncio.sleep(0.5)
        await sync_to_async(ingest)(sms("SM-after-removal", team.pk))
        with pytest.raises(TimeoutError):
            await ws.recv_until(lambda f: f["type"] == "ticket", timeout=1.5)
        await ws.close()

    asyncio.run(scenario())


def test_an_assignee_watching_their_ticket_gets_each_event_once(asgi_server):
    team = TeamFactory()
    agent = AgentFactory(teams=[team])
    ticket = ingest(sms("SM-once-1", team.pk)).ticket
    ticket.assignee = agent
    ticket.save(update_fields=["assignee"])

    async def scenario():
        ws = await ws_connect(asgi_server, "/ws/agent/", cookie=await sync_to_async(session_cookie)(agent))
        await ws.send({"type": "watch", "ticket": ticket.pk})
        await ws.recv_until(lambda f: f["type"] == "watching")
        # The new message goes to the ticket's watchers and to its assignee; the queue update to the team and
        # to the assignee: this agent is in all of those groups.
        stored = await sync_to_async(ingest)(sms("SM-once-2", team.pk, "second message"))
        assert stored.ticket_id == ticket.pk
        frames = []
        with pytest.raises(TimeoutError):
            while True:
                frames.append(await ws.recv_until(lambda f: f["type"] in ("message", "ticket"), timeout=1.5))
        assert [f["id"] for f in frames if f["type"] == "message"] == [stored.pk]
        assert [f["ticket"]["id"] for f in frames if f["type"] == "ticket"] == [ticket.pk]
        await ws.close()

    asyncio.run(scenario())
