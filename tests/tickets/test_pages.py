from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import AgentFactory, TeamFactory, TicketFactory
from tickets.inbound import InboundAttachment, InboundMessage
from tickets.services import ingest

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_client():
    team = TeamFactory(name="Support")
    alice = AgentFactory(username="alice", teams=[team])
    client = Client()
    client.force_login(alice)
    return client, team, alice


def test_root_redirects_to_login_then_queue():
    response = Client().get("/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")


def test_queue_shows_team_tickets_and_hides_others(alice_client):
    client, team, _ = alice_client
    mine = TicketFactory(team=team, subject="Mine to solve")
    other = TicketFactory(team=TeamFactory(), subject="Not for alice")
    page = client.get("/agent/").content.decode()
    assert "Mine to solve" in page and "Not for alice" not in page
    assert client.get(f"/agent/tickets/{mine.pk}/").status_code == 200
    assert client.get(f"/agent/tickets/{other.pk}/").status_code == 404


def test_every_page_has_a_csp_without_inline_scripts(alice_client):
    client, _team, _ = alice_client
    response = client.get("/agent/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script>" not in response.content.decode()


def test_customer_html_is_inert_on_the_ticket_page(alice_client):
    client, team, _ = alice_client
    message = ingest(
        InboundMessage(
            channel="email", external_id="<x@y>", sender_kind="email", sender_address="evil@example.org",
            sender_name='<img src=x onerror="alert(1)">', subject="<script>alert('s')</script>",
            html='<p>Hello</p><script>alert("b")</script><img src="x" onerror="alert(2)">', text="Hello", team_id=team.pk,
            attachments=(InboundAttachment('"><script>alert(3)</script>.txt', "text/plain", b"x"),),
        )
    )  # fmt: skip
    page = client.get(f"/agent/tickets/{message.ticket_id}/").content.decode()
    assert "<script>alert" not in page
    assert "<img src=x onerror" not in page and '<img src="x" onerror' not in page
    assert "&lt;script&gt;alert(&#x27;s&#x27;)" in page


def test_reply_from_the_page_stores_a_note(alice_client):
    client, team, _ = alice_client
    ticket = TicketFactory(team=team)
    response = client.post(f"/agent/tickets/{ticket.pk}/reply/", {"text": "checked the logs", "internal": "on"})
    assert response.status_code == 302
    assert ticket.messages.get().direction == "note"


def test_bulk_assign_and_close_only_touch_visible_tickets(alice_client):
    client, team, alice = alice_client
    mine = TicketFactory(team=team)
    foreign = TicketFactory(team=TeamFactory())
    client.post("/agent/bulk/", {"ticket": [mine.pk, foreign.pk], "assignee": "me", "status": "closed"})
    mine.refresh_from_db()
    foreign.refresh_from_db()
    assert mine.assignee == alice and mine.status == "closed"
    assert foreign.assignee is None and foreign.status == "new"


def test_attachment_download_is_checked_and_safe(alice_client):
    client, team, _ = alice_client
    ours = ingest(InboundMessage(channel="email", external_id="<a@b>", sender_kind="email", sender_address="a@example.org", text="see file", team_id=team.pk, attachments=(InboundAttachment("report.pdf", "application/pdf", b"%PDF-1.4 test"),)))
    theirs = ingest(InboundMessage(channel="email", external_id="<c@d>", sender_kind="email", sender_address="c@example.org", text="secret", team_id=TeamFactory().pk, attachments=(InboundAttachment("secret.pdf", "application/pdf", b"%PDF-1.4 s"),)))
    response = client.get(f"/agent/attachments/{ours.attachments.get().pk}/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert client.get(f"/agent/attachments/{theirs.attachments.get().pk}/").status_code == 404
    assert Client().get(f"/agent/attachments/{ours.attachments.get().pk}/").status_code == 302


def test_login_form_is_rate_limited():
    AgentFactory(username="bruce")
    client = Client()
    for _ in range(10):
        client.post("/accounts/login/", {"username": "bruce", "password": "nope"})
    response = client.post("/accounts/login/", {"username": "bruce", "password": "pw"})
    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()


def test_agent_language_from_profile(alice_client):
    client, _team, alice = alice_client
    alice.agent.language = "fi"
    alice.agent.save()
    assert "Jono" in client.get("/agent/").content.decode()


def test_healthz_reports_database_and_redis():
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_healthz_is_503_when_redis_is_down(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = Client().get("/healthz")
    assert response.status_code == 503 and response.json()["redis"] == "unavailable"
