"""/ws/visitor/ over real websockets against daphne on the Redis channel layer."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets.exceptions
from asgiref.sync import sync_to_async

from chat.models import ChatSession
from chat.tokens import sign_identity
from tests.chat.conftest import WidgetFactory, agent_socket, run, say, visitor
from tests.conftest import ws_connect
from tests.factories import AgentFactory, ContactFactory
from tickets.models import Contact, Message

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.server]


def test_unknown_widget_is_refused(chat_server):
    async def scenario():
        with pytest.raises(websockets.exceptions.InvalidStatus):
            await ws_connect(chat_server, "/ws/visitor/?widget=nope")

    run(scenario())


def test_only_the_widgets_domains_may_embed_it(chat_server):
    WidgetFactory(public_key="shopw", allowed_domains=["shop.example.com", "*.example.org"])

    async def scenario():
        for origin in ("https://shop.example.com", "https://www.example.org"):
            ws = await ws_connect(chat_server, "/ws/visitor/?widget=shopw", origin=origin)
            await ws.send({"type": "hello", "visitor": None})
            assert (await ws.recv())["type"] == "welcome"
            await ws.close()
        with pytest.raises(websockets.exceptions.InvalidStatus):
            await ws_connect(chat_server, "/ws/visitor/?widget=shopw", origin="https://evil.example.net")

    run(scenario())


def test_message_is_acked_after_commit_and_a_resend_is_stored_once(chat_server):
    widget = WidgetFactory()

    async def scenario():
        ws, welcome = await visitor(chat_server, widget.public_key, page_url="https://shop.example.com/cart")
        assert welcome["type"] == "welcome" and welcome["history"] == []
        assert len(welcome["visitor"]) >= 32  # 192 random bits, url-safe
        assert welcome["strings"]["send"]
        first = await say(ws, "c-1", "Where is my parcel?")
        again = await say(ws, "c-1", "Where is my parcel?")
        assert first["type"] == "ack" and again["id"] == first["id"]
        await ws.close()
        return welcome, first

    welcome, ack = run(scenario())
    message = Message.objects.get(pk=ack["id"])
    assert message.channel == "chat" and message.text == "Where is my parcel?"
    assert Message.objects.filter(text="Where is my parcel?").count() == 1
    session = ChatSession.objects.get(pk=welcome["session"])
    assert session.ticket_id == message.ticket_id and session.page_url == "https://shop.example.com/cart"
    assert welcome["visitor"] not in session.token_hash  # only the hash is stored


def test_reload_resumes_the_same_conversation_and_resume_replays_in_order(chat_server):
    widget = WidgetFactory()
    agent = AgentFactory(teams=[widget.team])

    async def scenario():
        ws, welcome = await visitor(chat_server, widget.public_key)
        ack = await say(ws, "c-1", "first")
        await ws.close()  # the tab is closed
        ticket_id = (await sync_to_async(Message.objects.get)(pk=ack["id"])).ticket_id
        a = await agent_socket(chat_server, agent)
        for n, text in enumerate(["reply one", "reply two"]):
            await a.send({"type": "message", "ticket": ticket_id, "client_id": f"a-{n}", "text": text})
            await a.recv_until(lambda f: f["type"] == "ack")
        again, resumed = await visitor(chat_server, widget.public_key, token=welcome["visitor"])
        assert resumed["session"] == welcome["session"] and resumed["visitor"] == welcome["visitor"]
        assert [m["text"] for m in resumed["history"]] == ["first", "reply one", "reply two"]
        assert [m["author"] for m in resumed["history"]] == ["visitor", "agent", "agent"]
        await again.send({"type": "resume", "after": ack["id"]})
        replayed = [await again.recv_until(lambda f: f["type"] == "message") for _ in range(2)]
        assert [m["text"] for m in replayed] == ["reply one", "reply two"]
        assert (await again.recv_until(lambda f: f["type"] == "resumed"))["count"] == 2
        await again.close()
        await a.close()

    run(scenario())


def test_second_tab_sees_messages_from_the_first(chat_server):
    widget = WidgetFactory()

    async def scenario():
        tab1, welcome = await visitor(chat_server, widget.public_key)
        await say(tab1, "c-0", "opening line")
        tab2, _w = await visitor(chat_server, widget.public_key, token=welcome["visitor"])
        await say(tab1, "c-1", "from tab one")
        seen = await tab2.recv_until(lambda f: f["type"] == "message")
        assert seen["text"] == "from tab one" and seen["author"] == "visitor"
        await tab1.close()
        await tab2.close()

    run(scenario())


def test_forged_and_foreign_tokens_are_refused(chat_server):
    widget, other = WidgetFactory(), WidgetFactory()

    async def scenario():
        ws, welcome = await visitor(chat_server, other.public_key)
        await ws.close()
        for token in ("A" * 32, welcome["visitor"]):  # never issued / issued for another widget
            forged, answer = await visitor(chat_server, widget.public_key, token=token)
            assert answer["type"] == "error" and answer["code"] == "forbidden"
            with pytest.raises(websockets.exceptions.ConnectionClosed):
                await forged.recv(timeout=3)

    run(scenario())


def test_frames_before_hello_and_unknown_types_are_invalid(chat_server):
    widget = WidgetFactory()

    async def scenario():
        ws = await ws_connect(chat_server, f"/ws/visitor/?widget={widget.public_key}")
        await ws.send({"type": "message", "client_id": "x", "text": "hi"})
        assert (await ws.recv())["code"] == "invalid"
        await ws.conn.send("not json")
        assert (await ws.recv())["code"] == "invalid"
        await ws.send({"type": "hello", "visitor": None})
        await ws.recv_until(lambda f: f["type"] == "welcome")
        await ws.send({"type": "shutdown"})
        assert (await ws.recv())["code"] == "invalid"
        await ws.close()

    run(scenario())


def test_a_megabyte_frame_is_too_large_and_other_sockets_stay_healthy(chat_server):
    widget = WidgetFactory()

    async def scenario():
        bystander, _w = await visitor(chat_server, widget.public_key)
        ws, _w2 = await visitor(chat_server, widget.public_key)
        await ws.conn.send(json.dumps({"type": "message", "client_id": "big", "text": "x" * (1024 * 1024)}))
        try:
            answer = await ws.recv()
            assert answer["code"] == "too_large"
        except websockets.exceptions.ConnectionClosed as closed:
            # daphne (autobahn) fails the connection at 1 MiB: a 1009 close, or the socket dropped mid-send.
            assert closed.rcvd is None or closed.rcvd.code == 1009
        long_text = "y" * 10_001
        try:
            await ws.send({"type": "message", "client_id": "long", "text": long_text})
            assert (await ws.recv_until(lambda f: f["type"] == "error"))["code"] == "too_large"
        except websockets.exceptions.ConnectionClosed:
            pass
        await bystander.send({"type": "ping"})
        assert (await bystander.recv())["type"] == "pong"
        assert (await say(bystander, "ok-1", "still here"))["type"] == "ack"
        await bystander.close()

    run(scenario())
    assert not Message.objects.filter(text__startswith="xxxx").exists()


def test_a_flooding_visitor_is_rate_limited(chat_server):
    widget = WidgetFactory()

    async def scenario():
        ws, _w = await visitor(chat_server, widget.public_key)
        answers = []
        for n in range(36):
            answers.append(await say(ws, f"flood-{n}", f"message {n}"))
        await ws.close()
        return answers

    answers = run(scenario())
    assert answers[0]["type"] == "ack"
    assert any(a["type"] == "error" and a["code"] == "rate_limited" for a in answers)


def test_typing_drafts_reach_the_watching_agent_latest_first_and_are_never_stored(chat_server):
    widget = WidgetFactory()
    agent = AgentFactory(teams=[widget.team])

    async def scenario():
        ws, _w = await visitor(chat_server, widget.public_key)
        ack = await say(ws, "c-1", "hello")
        ticket_id = (await sync_to_async(Message.objects.get)(pk=ack["id"])).ticket_id
        a = await agent_socket(chat_server, agent)
        await a.send({"type": "watch", "ticket": ticket_id})
        await a.recv_until(lambda f: f["type"] == "watching")
        for draft in ("I", "I want", "I want to ret", "I want to return my jacket"):
            await ws.send({"type": "typing", "text": draft})
        preview = await a.recv_until(lambda f: f["type"] == "typing_preview" and f["text"] == "I want to return my jacket")
        assert preview["ticket"] == ticket_id
        await ws.send({"type": "typing", "text": ""})
        cleared = await a.recv_until(lambda f: f["type"] == "typing_preview")
        assert cleared["text"] == ""
        await ws.close()
        await a.close()

    run(scenario())
    assert not Message.objects.filter(text__startswith="I want").exists()


def test_agent_replies_reach_the_visitor_and_internal_notes_never_do(chat_server):
    widget = WidgetFactory()
    agent = AgentFactory(first_name="Alice", teams=[widget.team])

    async def scenario():
        ws, welcome = await visitor(chat_server, widget.public_key)
        ack = await say(ws, "c-1", "hello")
        ticket_id = (await sync_to_async(Message.objects.get)(pk=ack["id"])).ticket_id
        a = await agent_socket(chat_server, agent)
        await a.send({"type": "typing", "ticket": ticket_id, "active": True})
        assert (await ws.recv_until(lambda f: f["type"] == "agent_typing"))["active"] is True
        await a.send({"type": "message", "ticket": ticket_id, "client_id": "n-1", "text": "customer seems upset", "internal": True})
        await a.recv_until(lambda f: f["type"] == "ack")
        await a.send({"type": "message", "ticket": ticket_id, "client_id": "r-1", "text": "Happy to help!"})
        reply = await ws.recv_until(lambda f: f["type"] == "message")
        assert reply["text"] == "Happy to help!" and reply["author"] == "agent" and reply["name"] == "Alice"
        again, resumed = await visitor(chat_server, widget.public_key, token=welcome["visitor"])
        assert "customer seems upset" not in [m["text"] for m in resumed["history"]]
        await again.send({"type": "resume", "after": 0})
        done = await again.recv_until(lambda f: f["type"] == "resumed")
        assert done["count"] == 2
        await ws.close()
        await again.close()
        await a.close()

    run(scenario())


def test_a_visitor_only_ever_reads_their_own_conversation(chat_server):
    widget = WidgetFactory()

    async def scenario():
        one, _w = await visitor(chat_server, widget.public_key)
        await say(one, "c-1", "secret order 1234")
        two, _w2 = await visitor(chat_server, widget.public_key)
        await say(two, "c-1", "my own question")  # same client id, other visitor: a different message
        await two.send({"type": "resume", "after": 0})
        texts = []
        while True:
            frame = await two.recv()
            if frame["type"] == "resumed":
                break
            if frame["type"] == "message":
                texts.append(frame["text"])
        assert texts == ["my own question"]
        await one.close()
        await two.close()

    run(scenario())


def test_signed_identity_links_the_contact_and_a_bad_signature_stays_anonymous(chat_server):
    widget = WidgetFactory()
    known = ContactFactory(name="Ann Known", email="ann@example.org")
    payload = json.dumps({"email": "ann@example.org", "name": "Ann", "attributes": {"plan": "gold"}})

    async def scenario():
        forged, _w = await visitor(chat_server, widget.public_key)
        await forged.send({"type": "identify", "payload": payload, "signature": "0" * 64})
        assert (await forged.recv())["code"] == "forbidden"
        bad_ack = await say(forged, "c-1", "I am Ann, honest")
        signed, _w2 = await visitor(chat_server, widget.public_key)
        await signed.send({"type": "identify", "payload": payload, "signature": sign_identity(widget.secret, payload)})
        assert (await signed.recv())["type"] == "identified"
        good_ack = await say(signed, "c-1", "Hi, it is Ann")
        await forged.close()
        await signed.close()
        return bad_ack, good_ack

    bad_ack, good_ack = run(scenario())
    assert Message.objects.get(pk=good_ack["id"]).author_contact_id == known.pk
    assert Message.objects.get(pk=bad_ack["id"]).author_contact_id != known.pk
    known.refresh_from_db()
    assert known.attributes["plan"] == "gold"
    assert Contact.objects.filter(merged_into=known).count() == 0


def test_prechat_details_name_the_contact_and_transcripts_are_limited(chat_server):
    widget = WidgetFactory(prechat_fields=True)

    async def scenario():
        ws, welcome = await visitor(chat_server, widget.public_key)
        assert welcome["prechat_done"] is False and welcome["widget"]["prechat"] is True
        await ws.send({"type": "prechat", "name": "Pia Visitor", "email": "not-an-email"})
        assert (await ws.recv())["code"] == "refused"
        await ws.send({"type": "prechat", "name": "Pia Visitor", "email": "pia@example.org"})
        assert (await ws.recv())["type"] == "prechat_saved"
        ack = await say(ws, "c-1", "hello from Pia")
        answers = []
        for _ in range(4):
            await ws.send({"type": "transcript", "email": "pia@example.org"})
            answers.append(await ws.recv_until(lambda f: f["type"] in ("transcript_sent", "error")))
        await ws.close()
        return ack, answers

    ack, answers = run(scenario())
    message = Message.objects.select_related("author_contact").get(pk=ack["id"])
    assert message.author_contact.name == "Pia Visitor"
    assert [a["type"] for a in answers] == ["transcript_sent"] * 3 + ["error"]


def test_quiet_sockets_stay_open_and_still_carry_the_next_reply(chat_server):
    """A quiet desk: a minute and more without a frame, then a reply still reaches the visitor."""
    widget = WidgetFactory()
    agent = AgentFactory(teams=[widget.team])

    async def scenario():
        ws, _w = await visitor(chat_server, widget.public_key)
        ack = await say(ws, "c-1", "anyone?")
        ticket_id = (await sync_to_async(Message.objects.get)(pk=ack["id"])).ticket_id
        a = await agent_socket(chat_server, agent)
        await asyncio.sleep(70)
        await a.send({"type": "message", "ticket": ticket_id, "client_id": "late-1", "text": "Sorry for the wait!"})
        reply = await ws.recv_until(lambda f: f["type"] == "message" and f["author"] == "agent", timeout=10)
        assert reply["text"] == "Sorry for the wait!"
        await ws.close()
        await a.close()

    run(scenario())
