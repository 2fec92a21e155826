"""Points arrive live over the agent's real websocket (daphne + Redis channel layer)."""

from __future__ import annotations

import asyncio

import pytest

from gamification.models import Badge, PointRule
from gamification.services import award
from tests.conftest import session_cookie, ws_connect
from tests.factories import AgentFactory, TeamFactory


@pytest.mark.django_db(transaction=True)
def test_award_reaches_the_agents_socket_with_total_and_badge(asgi_server):
    PointRule.objects.update_or_create(reason="ticket_resolved", defaults={"points": 10, "active": True})
    Badge.objects.update(active=False)
    Badge.objects.update_or_create(slug="thousand-points", defaults={"name": "High scorer", "criterion": "points", "threshold": 10, "active": True})
    team = TeamFactory(name="Live")
    bob = AgentFactory(username="bob", teams=[team])
    carol = AgentFactory(username="carol", teams=[team])

    async def scenario():
        mine = await ws_connect(asgi_server, "/ws/agent/", cookie=session_cookie(bob))
        other = await ws_connect(asgi_server, "/ws/agent/", cookie=session_cookie(carol))
        await asyncio.sleep(0.3)  # both sockets have joined their groups
        await asyncio.to_thread(_closing, award, agent_id=bob.pk, reason="ticket_resolved", ref="ticket:1")
        points = await mine.recv_until(lambda f: f["type"] == "points", timeout=10)
        nudge = await other.recv_until(lambda f: f["type"] == "leaderboard", timeout=10)
        stray = [f async for f in _drain(other) if f["type"] == "points"]
        await mine.close()
        await other.close()
        return points, nudge, stray

    points, nudge, stray = asyncio.run(scenario())
    assert (points["delta"], points["total"], points["badge"]["slug"]) == (10, 10, "thousand-points")
    assert nudge["agent"] == bob.pk
    assert stray == []  # carol sees the board move, not bob's points


async def _drain(ws):
    while True:
        try:
            yield await ws.recv(timeout=0.5)
        except TimeoutError:
            return


def _closing(fn, *args, **kwargs):
    """Run in a worker thread and close that thread's DB connection (the test database is dropped after)."""
    from django.db import connection

    try:
        return fn(*args, **kwargs)
    finally:
        connection.close()
