"""Chat test helpers: a daphne server with a short offer timeout, widget factory, visitor/agent sockets."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import factory
import pytest
from asgiref.sync import sync_to_async

from chat.models import CannedResponse, Widget
from tests.conftest import session_cookie, start_server, ws_connect
from tests.factories import TeamFactory

OFFER_TIMEOUT = 2


class WidgetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Widget

    name = factory.Sequence(lambda n: f"Widget {n}")
    public_key = factory.Sequence(lambda n: f"w{n}key")
    team = factory.SubFactory(TeamFactory)
    allowed_domains = factory.LazyFunction(lambda: ["shop.example.com"])
    greeting = "Hi! How can we help?"


class CannedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CannedResponse

    shortcut = factory.Sequence(lambda n: f"canned{n}")
    title = factory.Sequence(lambda n: f"Canned {n}")
    body = "Hello {{contact.name}}, {{agent.name}} here about #{{ticket.id}}."


@pytest.fixture(scope="session")
def chat_server(django_db_setup, django_db_blocker, tmp_path_factory):
    """daphne on the test database with a 2 s offer timeout (the product default is 30 s)."""
    server = start_server(tmp_path_factory.mktemp("chatserver"), {"CHAT_OFFER_TIMEOUT_SECONDS": str(OFFER_TIMEOUT), "CHAT_WIDGET_CACHE_SECONDS": "0"})
    yield server
    server.stop()


def run(coro):
    """asyncio.run, also after a Playwright test left its event loop running in this thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def visitor(server, key: str, token: str | None = None, **hello):
    """A widget socket that has said hello; returns (client, welcome frame)."""
    ws = await ws_connect(server, f"/ws/visitor/?widget={key}")
    await ws.send({"type": "hello", "visitor": token, **hello})
    welcome = await ws.recv_until(lambda f: f["type"] in ("welcome", "error"))
    return ws, welcome


async def agent_socket(server, user):
    ws = await ws_connect(server, "/ws/agent/", cookie=await sync_to_async(session_cookie)(user))
    await ws.send({"type": "ping"})
    await ws.recv_until(lambda f: f["type"] == "pong")
    return ws


async def say(ws, client_id: str, text: str) -> dict:
    await ws.send({"type": "message", "client_id": client_id, "text": text})
    return await ws.recv_until(lambda f: f["type"] in ("ack", "error") and f.get("client_id") == client_id)
