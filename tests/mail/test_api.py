"""`/api/v1/mailboxes/` (CONTRACT) and the inline-image view."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from mail.models import Mailbox
from mail.services import ingest_email
from tests.factories import AgentFactory, TeamFactory

from .conftest import corpus_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client():
    client = APIClient()
    client.force_authenticate(AgentFactory(is_staff=True, is_superuser=True))
    return client


PAYLOAD = {
    "name": "Support", "email_address": "support@example.com", "imap_host": "imap.example.com", "imap_port": 993,
    "imap_security": "ssl", "imap_username": "support", "imap_password": "s3cret-imap", "imap_folder": "INBOX",
    "smtp_url": "smtps://support:s3cret-smtp@smtp.example.com:465",
}  # fmt: skip


def test_admin_creates_a_mailbox_and_secrets_are_never_returned(admin_client):
    team = TeamFactory()
    response = admin_client.post("/api/v1/mailboxes/", {**PAYLOAD, "team": team.pk}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert "s3cret" not in response.content.decode()
    assert "imap_password" not in body and "smtp_url" not in body
    assert body["has_imap_password"] is True and body["smtp_url_display"] == "smtps://support:***@smtp.example.com:465"
    mailbox = Mailbox.objects.get(pk=body["id"])
    assert mailbox.imap_password == "s3cret-imap" and mailbox.team == team
    listed = admin_client.get("/api/v1/mailboxes/").content.decode()
    assert "s3cret" not in listed and "support@example.com" in listed


def test_password_is_encrypted_at_rest(admin_client):
    from django.db import connection

    admin_client.post("/api/v1/mailboxes/", PAYLOAD, format="json")
    with connection.cursor() as cursor:
        cursor.execute("SELECT imap_password, smtp_url FROM mail_mailbox")
        password, smtp_url = cursor.fetchone()
    assert "s3cret" not in password and "s3cret" not in smtp_url


def test_patch_without_password_keeps_it(admin_client):
    mailbox_id = admin_client.post("/api/v1/mailboxes/", PAYLOAD, format="json").json()["id"]
    response = admin_client.patch(f"/api/v1/mailboxes/{mailbox_id}/", {"imap_folder": "Support", "imap_password": ""}, format="json")
    assert response.status_code == 200
    mailbox = Mailbox.objects.get(pk=mailbox_id)
    assert mailbox.imap_folder == "Support" and mailbox.imap_password == "s3cret-imap"


def test_bad_smtp_url_and_security_get_clear_errors(admin_client):
    response = admin_client.post("/api/v1/mailboxes/", {**PAYLOAD, "smtp_url": "http://x", "imap_security": "tls9"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) >= {"smtp_url", "imap_security"}


def test_poll_now_answers_202(admin_client):
    mailbox_id = admin_client.post("/api/v1/mailboxes/", PAYLOAD, format="json").json()["id"]
    response = admin_client.post(f"/api/v1/mailboxes/{mailbox_id}/poll/")
    assert response.status_code == 202 and response.json()["queued"] is True


def test_agents_cannot_manage_mailboxes():
    client = APIClient()
    client.force_authenticate(AgentFactory(teams=[TeamFactory()]))
    assert client.get("/api/v1/mailboxes/").status_code == 403
    assert client.post("/api/v1/mailboxes/", PAYLOAD, format="json").status_code == 403


def test_inline_image_resolves_for_the_team_and_404s_for_others(client):
    team = TeamFactory(name="Support")
    desk = Mailbox.objects.create(name="Support", email_address="support@example.com", team=team, imap_host="h", imap_username="u")
    message = ingest_email(corpus_bytes("004-inline-cid-image.eml"), mailbox=desk)
    url = message.html.split('src="')[1].split('"')[0].replace("&amp;", "&")

    client.force_login(AgentFactory(teams=[team]))
    response = client.get(url)
    assert response.status_code == 302
    image = client.get(response["Location"])
    assert image.status_code == 200 and b"".join(image.streaming_content).startswith(b"\x89PNG")

    client.force_login(AgentFactory(teams=[TeamFactory(name="Billing")]))
    assert client.get(url).status_code == 404


def test_demo_seed_adds_one_inactive_mailbox_once():
    import io

    from mail.demo import seed

    TeamFactory(name="Support")
    out = io.StringIO()
    seed(out)
    seed(out)
    (mailbox,) = Mailbox.objects.all()
    assert mailbox.active is False and mailbox.team.name == "Support"
