"""Routing over real sockets: availability, capacity, least-loaded offers, offer timeout, queue, transfer."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async

from chat.models import ChatSession, SessionStatus
from tests.chat.conftest import WidgetFactory, agent_socket, run, say, visitor
from tests.factories import AgentFactory, TeamFactory
from tickets.models import Direction, Message, Ticket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.server]


async def go_online(ws, status: str = "online") -> None:
    await ws.send({"type": "availability", "status": status})
    await ws.recv_until(lambda f: f["type"] == "availability")


async def start_chat(server, key: str, text: str):
    ws, welcome = await visitor(server, key)
    ack = await say(ws, "c-1", text)
    ticket_id = (await sync_to_async(Message.objects.get)(pk=ack["id"])).ticket_id
    return ws, welcome, ticket_id


def is_offer(ticket_id):
    return lambda f: f["type"] == "chat_offer" and f["ticket"] == ticket_id


def test_chats_go_to_the_least_loaded_agent_and_wait_in_line_when_everyone_is_full(chat_server):
    widget = WidgetFactory()
    alice = AgentFactory(teams=[widget.team], profile={"max_chats": 1})
    bob = AgentFactory(teams=[widget.team], profile={"max_chats": 1})

    async def scenario():
        a, b = await agent_socket(chat_server, alice), await agent_socket(chat_server, bob)
        await go_online(a)
        await go_online(b)
        v1, _w1, t1 = await start_chat(chat_server, widget.public_key, "first customer")
        first = await asyncio.wait_for(_first_offer([a, b], t1), 5)
        first_ws = a if first is a else b
        other_ws = b if first is a else a
        await first_ws.send({"type": "accept", "ticket": t1})
        accepted = await first_ws.recv_until(lambda f: f["type"] == "accepted")
        assert accepted["chat"]["ticket"] == t1
        assert (await v1.recv_until(lambda f: f["type"] == "assigned"))["agent"]

        v2, _w2, t2 = await start_chat(chat_server, widget.public_key, "second customer")
        await other_ws.recv_until(is_offer(t2))  # the one with no chat gets it
        await other_ws.send({"type": "accept", "ticket": t2})
        await other_ws.recv_until(lambda f: f["type"] == "accepted")

        v3, _w3, t3 = await start_chat(chat_server, widget.public_key, "third customer")
        queued = await v3.recv_until(lambda f: f["type"] == "queue")
        assert queued["position"] == 1
        # a full agent cannot take it either
        await first_ws.send({"type": "accept", "ticket": t3})
        assert (await first_ws.recv_until(lambda f: f["type"] == "error"))["code"] == "refused"

        # the first chat ends: its agent gets the waiting one
        await first_ws.send({"type": "end_chat", "ticket": t1, "resolve": True})
        await first_ws.recv_until(lambda f: f["type"] == "chat_closed")
        assert (await v1.recv_until(lambda f: f["type"] == "ended"))["by"] == "agent"
        await first_ws.recv_until(is_offer(t3))
        for ws in (a, b, v1, v2, v3):
            await ws.close()
        return t1

    t1 = run(scenario())
    assert Ticket.objects.get(pk=t1).status == "resolved"


async def _first_offer(sockets, ticket_id):
    tasks = {asyncio.ensure_future(ws.recv_until(is_offer(ticket_id))): ws for ws in sockets}
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    return tasks[done.pop()]


def test_an_offer_not_accepted_in_time_moves_to_the_next_agent(chat_server):
    widget = WidgetFactory()
    alice = AgentFactory(teams=[widget.team])
    bob = AgentFactory(teams=[widget.team])

    async def scenario():
        a, b = await agent_socket(chat_server, alice), await agent_socket(chat_server, bob)
        await go_online(a)
        await go_online(b)
        v, _w, ticket_id = await start_chat(chat_server, widget.public_key, "anyone there?")
        first = await _first_offer([a, b], ticket_id)
        second = b if first is a else a
        withdrawn = await first.recv_until(lambda f: f["type"] == "offer_withdrawn", timeout=10)
        assert withdrawn["ticket"] == ticket_id
        await second.recv_until(is_offer(ticket_id), timeout=10)
        await second.send({"type": "accept", "ticket": ticket_id})
        await second.recv_until(lambda f: f["type"] == "accepted")
        # the late agent can no longer take it
        await first.send({"type": "accept", "ticket": ticket_id})
        assert (await first.recv_until(lambda f: f["type"] == "error"))["code"] == "refused"
        for ws in (a, b, v):
            await ws.close()
        return second is a

    second_is_alice = run(scenario())
    session = ChatSession.objects.get(ticket__isnull=False, widget=widget)
    assert session.assigned_agent_id == (alice.pk if second_is_alice else bob.pk)


def test_no_agent_online_turns_the_widget_into_an_offline_form_that_opens_an_email_ticket(chat_server):
    widget = WidgetFactory()
    AgentFactory(teams=[widget.team])  # offline

    async def scenario():
        ws, welcome = await visitor(chat_server, widget.public_key)
        assert welcome["open"] is False
        await ws.send({"type": "offline", "client_id": "o-1", "name": "Olli", "email": "olli@example.org", "text": "Call me back"})
        await ws.recv_until(lambda f: f["type"] == "offline_received")
        await ws.send({"type": "offline", "client_id": "o-1", "name": "Olli", "email": "olli@example.org", "text": "Call me back"})
        await ws.recv_until(lambda f: f["type"] == "offline_received")
        await ws.close()

    run(scenario())
    ticket = Ticket.objects.get(messages__text="Call me back")
    assert ticket.channel == "email" and ticket.team_id == widget.team_id and ticket.contact.email == "olli@example.org"
    assert Message.objects.filter(text="Call me back").count() == 1


def test_an_agent_coming_online_gets_the_waiting_chat(chat_server):
    widget = WidgetFactory()
    alice = AgentFactory(teams=[widget.team])

    async def scenario():
        a = await agent_socket(chat_server, alice)
        v, _w, ticket_id = await start_chat(chat_server, widget.public_key, "hello?")
        assert (await v.recv_until(lambda f: f["type"] == "queue"))["online"] is False
        await go_online(a)
        await a.recv_until(is_offer(ticket_id))
        await a.close()
        await v.close()

    run(scenario())


def test_transfer_to_an_agent_and_to_a_team_leaves_a_note(chat_server):
    widget = WidgetFactory()
    billing = TeamFactory()
    alice = AgentFactory(teams=[widget.team])
    bob = AgentFactory(first_name="Bob", teams=[widget.team])
    carol = AgentFactory(teams=[billing])

    async def scenario():
        a = await agent_socket(chat_server, alice)
        b = await agent_socket(chat_server, bob)
        c = await agent_socket(chat_server, carol)
        await go_online(a)
        await go_online(c)
        v, _w, ticket_id = await start_chat(chat_server, widget.public_key, "refund please")
        await a.recv_until(is_offer(ticket_id))
        await a.send({"type": "accept", "ticket": ticket_id})
        await a.recv_until(lambda f: f["type"] == "accepted")
        await a.send({"type": "transfer", "ticket": ticket_id, "agent": bob.pk, "note": "knows refunds"})
        await a.recv_until(lambda f: f["type"] == "transferred")
        handed = await b.recv_until(lambda f: f["type"] == "chat_transferred")
        assert handed["note"] == "knows refunds"
        await v.recv_until(lambda f: f["type"] == "assigned" and f["agent"] == "Bob")  # the visitor sees who took over
        await a.recv_until(lambda f: f["type"] == "chat_released")
        await v.send({"type": "message", "client_id": "c-2", "text": "thanks"})
        assert (await b.recv_until(lambda f: f["type"] == "message" and f.get("text") == "thanks"))["ticket"] == ticket_id

        await b.send({"type": "transfer", "ticket": ticket_id, "team": billing.pk, "note": "billing question"})
        await b.recv_until(lambda f: f["type"] == "transferred")
        await c.recv_until(is_offer(ticket_id))
        for ws in (a, b, c, v):
            await ws.close()
        return ticket_id

    ticket_id = run(scenario())
    notes = list(Message.objects.filter(ticket_id=ticket_id, direction=Direction.NOTE).values_list("text", flat=True))
    assert any("knows refunds" in n for n in notes) and any("billing question" in n for n in notes)
    assert Ticket.objects.get(pk=ticket_id).team_id == billing.pk


def test_the_assignee_watching_the_chat_sees_each_typing_preview_once(chat_server):
    widget = WidgetFactory()
    alice = AgentFactory(teams=[widget.team])

    async def scenario():
        a = await agent_socket(chat_server, alice)
        await go_online(a)
        v, _w, ticket_id = await start_chat(chat_server, widget.public_key, "a question")
        await a.recv_until(is_offer(ticket_id))
        await a.send({"type": "accept", "ticket": ticket_id})
        await a.recv_until(lambda f: f["type"] == "accepted")
        await a.send({"type": "watch", "ticket": ticket_id})
        await a.recv_until(lambda f: f["type"] == "watching")
        await v.send({"type": "typing", "text": "my order number is"})
        await a.recv_until(lambda f: f["type"] == "typing_preview" and f["text"] == "my order number is")
        with pytest.raises(TimeoutError):  # not a second copy through the other group
            await a.recv_until(lambda f: f["type"] == "typing_preview", timeout=1.5)
        await v.close()
        await a.close()

    run(scenario())


def test_chat_frames_about_tickets_the_agent_may_not_see_are_forbidden(chat_server):
    widget = WidgetFactory()
    outsider = AgentFactory(teams=[TeamFactory()])

    async def scenario():
        v, _w, ticket_id = await start_chat(chat_server, widget.public_key, "private matter")
        o = await agent_socket(chat_server, outsider)
        for frame in (
            {"type": "accept", "ticket": ticket_id},
            {"type": "transfer", "ticket": ticket_id, "team": widget.team_id},
            {"type": "end_chat", "ticket": ticket_id, "resolve": True},
            {"type": "decline", "ticket": ticket_id},
            {"type": "watch", "ticket": ticket_id},
            {"type": "message", "ticket": ticket_id, "client_id": "x", "text": "hi"},
        ):
            await o.send(frame)
            answer = await o.recv_until(lambda f: f["type"] == "error")
            assert answer["code"] == "forbidden", frame
        await v.send({"type": "typing", "text": "nobody else sees this"})
        with pytest.raises(TimeoutError):
            await o.recv_until(lambda f: f["type"] == "typing_preview", timeout=1.0)
        await v.close()
        await o.close()

    run(scenario())
    assert ChatSession.objects.get(widget=widget).status != SessionStatus.ENDED


def test_visitor_ends_the_chat(chat_server):
    widget = WidgetFactory()

    async def scenario():
        v, welcome, ticket_id = await start_chat(chat_server, widget.public_key, "bye soon")
        await v.send({"type": "end"})
        ended = await v.recv_until(lambda f: f["type"] == "ended")
        assert ended["by"] == "visitor"
        await v.send({"type": "message", "client_id": "late", "text": "one more"})
        assert (await v.recv_until(lambda f: f["type"] == "error"))["code"] == "refused"
        await v.close()
        # coming back later starts a new conversation with the same visitor token
        again, fresh = await visitor(chat_server, widget.public_key, token=welcome["visitor"])
        assert fresh["session"] != welcome["session"] and fresh["history"] == []
        await again.close()

    run(scenario())


def test_going_online_through_the_api_routes_the_waiting_chat(chat_server):
    """`agents/me/` PATCH publishes agent.availability; the chat app's listener offers the waiting chat."""
    from django.test import Client

    widget = WidgetFactory()
    dave = AgentFactory(teams=[widget.team])

    async def scenario():
        d = await agent_socket(chat_server, dave)
        v, _w, ticket_id = await start_chat(chat_server, widget.public_key, "is anybody working today?")
        await v.recv_until(lambda f: f["type"] == "queue")

        def go_online():
            client = Client()
            client.force_login(dave)
            return client.patch("/api/v1/agents/me/", {"availability": "online"}, content_type="application/json").status_code

        assert await sync_to_async(go_online)() == 200
        offer = await d.recv_until(is_offer(ticket_id))
        assert offer["preview"] == "is anybody working today?"
        await d.close()
        await v.close()

    run(scenario())
