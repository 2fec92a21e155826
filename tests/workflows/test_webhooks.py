"""Outbound webhooks: signed deliveries to a real local receiver, retries, logs, refusal of internal addresses."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from rest_framework.test import APIClient

from tests.factories import AgentFactory, TeamFactory
from tickets.inbound import InboundMessage
from tickets.services import ingest
from workflows import webhooks
from workflows.models import Webhook, WebhookDelivery

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("eager_celery")]
SECRET = "s3cret-s3cret-s3cret"


class Receiver:
    """A local HTTP endpoint: answers with the queued status codes (then 200) and records what it got."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.codes: list[int] = []
        self.redirect_to = ""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if self.path == "/redirect" and receiver.redirect_to:
                    self.send_response(307)
                    self.send_header("Location", receiver.redirect_to)
                    self.end_headers()
                    return
                self.send_response(receiver.codes.pop(0) if receiver.codes else 200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture
def admin_client():
    client = APIClient()
    client.force_authenticate(AgentFactory(profile={"role": "admin"}))
    return client


def email(n: int, team) -> InboundMessage:
    return InboundMessage(channel="email", external_id=f"<wh{n}@example.org>", sender_kind="email", sender_address="jane@example.org", sender_name="Jane", subject="Hook me", text="hello", team_id=team.pk)


def test_deliveries_are_signed_with_the_hooks_secret_which_is_never_returned(receiver, admin_client):
    created = admin_client.post("/api/v1/webhooks/", {"url": receiver.url(), "events": ["ticket.created", "message.created"], "secret": SECRET, "allowed_hosts": ["127.0.0.1"]}, format="json")
    assert created.status_code == 201, created.json()
    assert "secret" not in created.json()
    assert "secret" not in admin_client.get(f"/api/v1/webhooks/{created.json()['id']}/").json()
    ticket = ingest(email(1, TeamFactory())).ticket
    assert sorted(json.loads(r["body"])["event"] for r in receiver.requests) == ["message.created", "ticket.created"]
    for request in receiver.requests:
        expected = "sha256=" + hmac.new(SECRET.encode(), request["body"], hashlib.sha256).hexdigest()
        assert request["headers"]["X-Helpdesk-Signature"] == expected
        assert request["headers"]["X-Helpdesk-Delivery"] == json.loads(request["body"])["delivery"]
    created_body = next(json.loads(r["body"]) for r in receiver.requests if r["headers"]["X-Helpdesk-Event"] == "ticket.created")
    assert created_body["data"]["ticket"]["id"] == ticket.pk
    deliveries = admin_client.get(f"/api/v1/webhooks/{created.json()['id']}/deliveries/").json()["results"]
    assert {(d["state"], d["response_code"]) for d in deliveries} == {("success", 200)}


def test_failed_deliveries_are_retried_and_logged_with_response_codes(receiver):
    hook = Webhook.objects.create(url=receiver.url(), events=["ticket.created"], secret=SECRET, allowed_hosts=["127.0.0.1"])
    receiver.codes = [500, 503]
    ingest(email(2, TeamFactory()))
    delivery = WebhookDelivery.objects.get(webhook=hook)
    assert (delivery.state, delivery.attempts, delivery.response_code) == ("success", 3, 200)
    assert [entry["code"] for entry in delivery.log] == [500, 503, 200]
    # Every attempt carried the same delivery id, so the receiver can drop duplicates.
    assert len({r["headers"]["X-Helpdesk-Delivery"] for r in receiver.requests}) == 1


def test_a_client_error_is_final_and_the_retries_end(receiver):
    hook = Webhook.objects.create(url=receiver.url(), events=["ticket.created"], secret=SECRET, allowed_hosts=["127.0.0.1"])
    receiver.codes = [410]
    ingest(email(3, TeamFactory()))
    delivery = WebhookDelivery.objects.get(webhook=hook)
    assert (delivery.state, delivery.attempts, delivery.response_code) == ("failed", 1, 410)
    receiver.codes = [500] * 10
    ingest(email(4, TeamFactory()))
    last = WebhookDelivery.objects.filter(webhook=hook).order_by("-created_at").first()
    assert (last.state, last.attempts) == ("failed", webhooks.MAX_ATTEMPTS)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9/", "http://localhost/", "http://10.1.2.3/", "http://192.168.0.10/", "http://169.254.169.254/latest/meta-data/",
     "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/", "http://100.64.0.1/", "ftp://example.com/", "http://[fe80::1]/"],
)  # fmt: skip
def test_internal_destinations_are_refused(admin_client, url):
    response = admin_client.post("/api/v1/webhooks/", {"url": url, "events": ["ticket.created"], "secret": SECRET}, format="json")
    assert response.status_code == 400
    assert not Webhook.objects.exists()


def test_a_stored_hook_to_an_internal_address_is_not_contacted(receiver):
    hook = Webhook.objects.create(url=receiver.url(), events=["ticket.created"], secret=SECRET)  # not allowed
    ingest(email(5, TeamFactory()))
    delivery = WebhookDelivery.objects.get(webhook=hook)
    assert delivery.state == "failed" and delivery.error.startswith("refused")
    assert receiver.requests == []


def test_redirects_to_internal_addresses_are_refused(receiver):
    hook = Webhook.objects.create(url=receiver.url("/redirect", host="localhost"), events=["ticket.created"], secret=SECRET, allowed_hosts=["localhost"])
    receiver.redirect_to = receiver.url("/hook", host="127.0.0.1")  # same box, but this host is not allowed
    ingest(email(6, TeamFactory()))
    delivery = WebhookDelivery.objects.get(webhook=hook)
    assert delivery.state == "failed" and "refused" in delivery.error
    assert [r["path"] for r in receiver.requests] == ["/redirect"]


def test_only_admins_manage_webhooks():
    client = APIClient()
    client.force_authenticate(AgentFactory(profile={"role": "supervisor"}))
    assert client.get("/api/v1/webhooks/").status_code == 403
    assert client.post("/api/v1/webhooks/", {"url": "https://example.com/", "events": ["ticket.created"], "secret": SECRET}, format="json").status_code == 403


def test_sla_breaches_are_delivered(receiver):
    from datetime import UTC, datetime, timedelta

    from workflows.models import SlaPolicy
    from workflows.sla import check_due

    team = TeamFactory()
    SlaPolicy.objects.create(name="fast", first_response_minutes=5, business_hours=False)
    Webhook.objects.create(url=receiver.url(), events=["sla.breached"], secret=SECRET, allowed_hosts=["127.0.0.1"])
    ticket = ingest(email(7, team)).ticket
    assert receiver.requests == []  # not subscribed to ticket or message events
    check_due(now=datetime.now(UTC) + timedelta(minutes=6))
    [request] = receiver.requests
    body = json.loads(request["body"])
    assert body["event"] == "sla.breached"
    assert body["data"] == {"ticket_id": ticket.pk, "team_id": team.pk, "target": "first_response", "agent_id": None}


def test_old_delivery_logs_are_pruned():
    from datetime import UTC, datetime, timedelta

    from workflows.tasks import prune_logs

    hook = Webhook.objects.create(url="https://example.com/hook", events=["ticket.created"], secret=SECRET)
    old = WebhookDelivery.objects.create(webhook=hook, event="ticket.created", created_at=datetime.now(UTC) - timedelta(days=40))
    recent = WebhookDelivery.objects.create(webhook=hook, event="ticket.created")
    assert prune_logs() == 1
    assert list(WebhookDelivery.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not WebhookDelivery.objects.filter(pk=old.pk).exists()
