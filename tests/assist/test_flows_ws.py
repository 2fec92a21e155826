"""Chat flows over real websockets: the visitor widget socket, daphne, the chat app's pre-routing hook."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async

from assist.flows.services import save_flow
from assist.models import Flow, FlowRun, RunStatus
from chat.models import ChatSession, Widget
from knowledge.services import save_article
from tests.conftest import ws_connect
from tests.factories import TeamFactory
from tickets.models import Message, Ticket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.server]

FLOW = {
    "start": "hello",
    "steps": [
        {"id": "hello", "type": "message", "text": "Hi, I am the shop bot.", "next": "topic"},
        {"id": "topic", "type": "buttons", "text": "What is it about?", "variable": "topic",
         "options": [{"label": "My order", "next": "email"}, {"label": "Something else", "next": "kb"}]},
        {"id": "email", "type": "ask", "text": "Your email address?", "field": "email", "validate": "email", "next": "billing"},
        {"id": "kb", "type": "kb", "text": "These articles may help:", "limit": 2, "resolved": "bye", "unresolved": "billing"},
        {"id": "billing", "type": "handoff", "text": "Connecting you to Billing."},
        {"id": "bye", "type": "end", "text": "Glad I could help!"},
    ],
}  # fmt: skip


@pytest.fixture
def widget():
    support, billing = TeamFactory(name="Support"), TeamFactory(name="Billing")
    widget = Widget.objects.create(name="Shop", public_key="flowshop", team=support, allowed_domains=["127.0.0.1"])
    definition = {**FLOW, "steps": [dict(s) for s in FLOW["steps"]]}
    definition["steps"][4]["team"] = billing.pk
    flow = Flow.objects.create(name="Shop bot", widget_id=widget.pk, active=True)
    save_flow(flow=flow, definition=definition)
    return {"widget": widget, "flow": flow, "billing": billing, "support": support}


class Visitor:
    def __init__(self, ws):
        self.ws, self.n = ws, 0

    @classmethod
    async def open(cls, server, key="flowshop", token=None):
        ws = await ws_connect(server, f"/ws/visitor/?widget={key}")
        await ws.send({"type": "hello", "visitor": token})
        welcome = await ws.recv_until(lambda f: f["type"] == "welcome")
        visitor = cls(ws)
        visitor.session, visitor.welcome = welcome["session"], welcome
        return visitor

    async def say(self, text):
        self.n += 1
        await self.ws.send({"type": "message", "client_id": f"v-{self.n}", "text": text})
        ack = await self.ws.recv_until(lambda f: f.get("type") == "ack" and f["client_id"] == f"v-{self.n}")
        return ack

    async def bot(self):
        return (await self.bot_frame())["text"]

    async def bot_frame(self):
        return await self.ws.recv_until(lambda f: f.get("type") == "message" and f.get("author") == "bot", timeout=20)


TOPIC_BUTTONS = [
    {"label": "My order", "value": "My order"},
    {"label": "Something else", "value": "Something else"},
    {"label": "Talk to a person", "value": "__human__"},
]


def test_buttons_validation_and_handoff_to_a_team(asgi_server, widget):
    async def scenario():
        v = await Visitor.open(asgi_server)
        await v.say("hello there")
        assert await v.bot() == "Hi, I am the shop bot."
        offer = await v.bot()
        assert offer.startswith("What is it about?") and "1. My order" in offer and "2. Something else" in offer
        await v.say("1")
        assert await v.bot() == "Your email address?"
        await v.say("my email is not here")
        assert "does not look like an email" in await v.bot()
        await v.say("buyer@example.org")
        assert await v.bot() == "Connecting you to Billing."
        await v.ws.close()
        return v.session

    session_id = asyncio.run(scenario())
    session = ChatSession.objects.select_related("ticket").get(pk=session_id)
    assert session.team == widget["billing"] and session.ticket.team == widget["billing"]
    assert session.status in ("waiting", "queued", "offered")  # routed to agents now
    run = FlowRun.objects.get(session_key=str(session_id))
    assert run.status == RunStatus.HANDOFF and run.variables == {"first_message": "hello there", "topic": "My order", "email": "buyer@example.org"}
    # The agent who takes over sees the whole conversation in the ticket stream, bot messages included.
    authors = list(Message.objects.filter(ticket=session.ticket).order_by("id").values_list("is_bot", flat=True))
    assert authors.count(True) == 5 and authors.count(False) == 4


def test_the_visitor_asks_for_a_human_at_any_step(asgi_server, widget):
    async def scenario():
        v = await Visitor.open(asgi_server)
        await v.say("hi")
        await v.bot()
        await v.bot()
        await v.say("can I talk to a human?")
        text = await v.bot()
        await v.ws.close()
        return v.session, text

    session_id, text = asyncio.run(scenario())
    assert "connecting you with a person" in text
    assert ChatSession.objects.get(pk=session_id).status in ("waiting", "queued", "offered")


def test_kb_articles_resolve_the_chat_without_an_agent(asgi_server, widget):
    save_article(author=None, title="Change your delivery address", slug="delivery-address", status="published",
                 body="Open the order under Orders and choose Edit address before it ships.")  # fmt: skip

    async def scenario():
        v = await Visitor.open(asgi_server)
        await v.say("How can I change the delivery address of my order?")
        await v.bot()
        await v.bot()
        await v.say("Something else")
        offer_frame = await v.bot_frame()
        offer = offer_frame["text"]
        # The widget shows the articles as links and the yes/no answers as buttons.
        assert offer_frame["articles"][0]["title"] == "Change your delivery address"
        assert offer_frame["articles"][0]["url"] == "/kb/delivery-address/"
        assert [b["label"] for b in offer_frame["buttons"]] == ["Yes, that answered my question", "No, I still need help"]
        await v.say("1")
        done = await v.bot()
        await v.ws.close()
        return v.session, offer, done

    session_id, offer, done = asyncio.run(scenario())
    assert "Change your delivery address — /kb/delivery-address/" in offer
    assert done == "Glad I could help!"
    assert FlowRun.objects.get(session_key=str(session_id)).status == RunStatus.RESOLVED
    assert ChatSession.objects.get(pk=session_id).status == "bot"  # never routed to an agent


def test_editing_the_flow_during_a_live_chat_does_not_break_it(asgi_server, widget):
    async def scenario():
        v = await Visitor.open(asgi_server)
        await v.say("hi")
        await v.bot()
        await v.bot()  # waiting at the buttons of version 1
        await sync_to_async(save_flow)(flow=widget["flow"], definition={"start": "only", "steps": [{"id": "only", "type": "end", "text": "We are closed today."}]})
        await v.say("My order")
        continued = await v.bot()
        newcomer = await Visitor.open(asgi_server)
        await newcomer.say("hi")
        fresh = await newcomer.bot()
        await v.ws.close()
        await newcomer.ws.close()
        return continued, fresh

    continued, fresh = asyncio.run(scenario())
    assert continued == "Your email address?"
    assert fresh == "We are closed today."
    assert sorted(FlowRun.objects.values_list("version__number", flat=True)) == [1, 2]


def test_welcome_and_resume_history_carry_the_buttons_of_a_bot_message(asgi_server, widget):
    async def scenario():
        v = await Visitor.open(asgi_server)
        ack = await v.say("hello there")
        # The very first bot turn runs before this socket joined the ticket's group: its buttons still arrive.
        hello, offer = await v.bot_frame(), await v.bot_frame()
        assert "buttons" not in hello
        assert offer["buttons"] == TOPIC_BUTTONS
        await v.ws.close()

        again = await Visitor.open(asgi_server, token=v.welcome["visitor"])
        bots = [m for m in again.welcome["history"] if m["author"] == "bot"]
        assert [m.get("buttons") for m in bots] == [None, TOPIC_BUTTONS]
        await again.ws.send({"type": "resume", "after": ack["id"]})
        replayed = []
        while (frame := await again.ws.recv_until(lambda f: f["type"] in ("message", "resumed")))["type"] == "message":
            replayed.append(frame)
        assert frame["count"] == 2 and replayed[-1]["replayed"] and replayed[-1]["buttons"] == TOPIC_BUTTONS

        # A chosen button is an ordinary visitor message with the button's label.
        again.n = 1
        await again.say("My order")
        assert await again.bot() == "Your email address?"
        # The widget resends a message whose ack it lost: the bot does not take that answer twice.
        again.n -= 1
        assert (await again.say("My order"))["type"] == "ack"
        await again.say("buyer@example.org")
        assert await again.bot() == "Connecting you to Billing."
        await again.ws.close()
        return v.session

    session = ChatSession.objects.get(pk=asyncio.run(scenario()))
    bot_texts = list(Message.objects.filter(ticket=session.ticket, is_bot=True).order_by("id").values_list("text", flat=True))
    assert len(bot_texts) == 4 and bot_texts[2:] == ["Your email address?", "Connecting you to Billing."]


def test_with_nobody_online_the_flow_answers_then_the_visitor_may_leave_a_message_by_email(asgi_server, widget):
    # Nobody of the widget's team is online: without the flow the widget would show only the offline form.
    async def scenario():
        v = await Visitor.open(asgi_server)
        assert v.welcome["open"] is False and v.welcome["bot"] is True
        await v.say("hello")
        await v.bot()
        assert (await v.bot_frame())["buttons"] == TOPIC_BUTTONS
        await v.say("Talk to a person")
        assert "connecting you with a person" in await v.bot()
        queue = await v.ws.recv_until(lambda f: f["type"] == "queue")
        assert queue["online"] is False  # the widget turns this into the offline form
        offline = {"type": "offline", "client_id": "o-1", "name": "Vera", "email": "vera@example.org", "text": "Please email me about my order."}
        await v.ws.send(offline)
        await v.ws.recv_until(lambda f: f["type"] == "offline_received")
        await v.ws.send(offline)  # a retry changes nothing
        await v.ws.recv_until(lambda f: f["type"] == "offline_received")
        await v.ws.close()
        return v.session

    session_id = asyncio.run(scenario())
    session = ChatSession.objects.select_related("ticket").get(pk=session_id)
    # The visitor left the line: no agent coming online later is offered a chat nobody is in.
    assert session.status == "ended" and session.ended_by == "visitor"
    email_ticket = Ticket.objects.get(messages__text="Please email me about my order.")
    assert email_ticket.channel == "email" and email_ticket.contact.email == "vera@example.org"
    notes = list(Message.objects.filter(ticket=session.ticket, direction="note").values_list("text", flat=True))
    assert notes == [f"The visitor left a message by email instead of waiting: ticket #{email_ticket.pk}."]


def test_a_widget_without_an_active_flow_still_shows_the_offline_form(asgi_server, widget):
    Flow.objects.filter(pk=widget["flow"].pk).update(active=False)

    async def scenario():
        v = await Visitor.open(asgi_server)
        await v.ws.close()
        return v.welcome

    welcome = asyncio.run(scenario())
    assert welcome["open"] is False and welcome["bot"] is False
