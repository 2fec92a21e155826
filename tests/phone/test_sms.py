"""Twilio messaging webhook: signatures, ingestion, media, replays, opt-out."""

from __future__ import annotations

import base64

import pytest

from phone.models import OptOut
from phone.services import attach_pending_media
from tests.factories import AgentFactory
from tests.phone.conftest import load, twilio_post
from tests.phone.providers import ACCOUNT_SID, AUTH_TOKEN, JPEG
from tickets.adapters import ReplyRefused
from tickets.models import Attachment, ContactIdentity, Message, Status, Ticket
from tickets.services import reply, set_status

pytestmark = pytest.mark.django_db

SMS = "/hooks/twilio/sms/"


def test_a_signed_sms_becomes_a_ticket_of_the_numbers_team(client, provider, desk_number):
    response = twilio_post(client, SMS, load("twilio-sms-01-inbound-sms-unicode.json"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml") and b"<Response" in response.content
    message = Message.objects.get()
    assert message.channel == "sms" and message.external_id == "SMd377cd2199d61cba4139bccc2fe9c0f0"
    assert "Tilaukseni 2025-117 ei ole vielä" in message.text
    ticket = message.ticket
    assert ticket.channel == "sms" and ticket.team == desk_number.team and ticket.status == Status.NEW
    assert ContactIdentity.objects.get(contact=ticket.contact).kind == "phone"
    assert ticket.contact.phone == "+447700900123"


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl", None])
def test_a_forged_or_missing_signature_is_refused_and_nothing_is_stored(client, provider, desk_number, signature):
    params = load("twilio-sms-01-inbound-sms-unicode.json")
    if signature is None:  # signed with the wrong token
        response = twilio_post(client, SMS, params, token="someone-elses-token")
    else:
        response = twilio_post(client, SMS, params, signature=signature)

    assert response.status_code == 403
    assert not Message.objects.exists() and not Ticket.objects.exists()


def test_a_tampered_parameter_breaks_the_signature(client, provider, desk_number):
    from twilio.request_validator import RequestValidator

    params = load("twilio-sms-01-inbound-sms-unicode.json")
    signature = RequestValidator(AUTH_TOKEN).compute_signature("https://support.example.com" + SMS, params)
    params["Body"] = "Please refund me 1000 EUR"

    assert twilio_post(client, SMS, params, signature=signature).status_code == 403
    assert not Message.objects.exists()


def test_without_public_base_url_the_signature_is_checked_against_the_requests_own_url(client, provider, desk_number, settings):
    settings.PUBLIC_BASE_URL = ""
    params = load("twilio-sms-01-inbound-sms-unicode.json")

    assert twilio_post(client, SMS, params).status_code == 403  # signed for the public URL: wrong here
    assert twilio_post(client, SMS, params, base="http://testserver").status_code == 200
    assert Message.objects.count() == 1


def test_a_replayed_webhook_is_stored_once(client, provider, desk_number):
    params = load("twilio-sms-02-inbound-whatsapp-image.json")

    assert twilio_post(client, SMS, params).status_code == 200
    assert twilio_post(client, SMS, params).status_code == 200

    assert Message.objects.count() == 1 and Ticket.objects.count() == 1
    assert Attachment.objects.count() == 1
    assert len([r for r in provider.requests if "/Media/" in r.path]) == 1  # no second download


def test_whatsapp_media_is_downloaded_with_the_account_credentials(client, provider, desk_number):
    twilio_post(client, SMS, load("twilio-sms-02-inbound-whatsapp-image.json"))

    message = Message.objects.get()
    assert message.channel == "whatsapp" and message.ticket.channel == "whatsapp"
    assert message.text.startswith("Así llegó la caja")
    assert message.ticket.contact.name == "Carlos Ruiz"
    assert ContactIdentity.objects.get(contact=message.ticket.contact).kind == "whatsapp"
    attachment = message.attachments.get()
    assert attachment.content_type == "image/jpeg" and attachment.file.read() == JPEG
    fetch = next(r for r in provider.requests if "/Media/" in r.path)
    assert fetch.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MMc7861f4bbccbdaf8c38f6c9f9f92ae9c/Media/MEd8262dd4b19ced038d915f7a2f5992db"
    assert fetch.headers["authorization"] == "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()


def test_a_failed_media_download_keeps_the_text_and_the_media_is_fetched_later(client, provider, desk_number, django_capture_on_commit_callbacks):
    provider.fail[r"/Media/"] = 500
    with django_capture_on_commit_callbacks(execute=False):
        assert twilio_post(client, SMS, load("twilio-sms-02-inbound-whatsapp-image.json")).status_code == 200

    message = Message.objects.get()
    assert message.text.startswith("Así llegó la caja") and not message.attachments.exists()
    assert message.meta["media_pending"][0]["url"].endswith("/Media/MEd8262dd4b19ced038d915f7a2f5992db")

    provider.fail.clear()
    assert attach_pending_media(message.pk) == []
    message.refresh_from_db()
    assert message.attachments.get().file.read() == JPEG and "media_pending" not in message.meta


def test_an_sms_continues_the_open_ticket_and_opens_a_new_one_after_it_is_closed(client, provider, desk_number):
    first = load("twilio-sms-01-inbound-sms-unicode.json")
    twilio_post(client, SMS, first)
    ticket = Ticket.objects.get()

    twilio_post(client, SMS, {**first, "MessageSid": "SM00000000000000000000000000000002", "SmsSid": "SM00000000000000000000000000000002", "SmsMessageSid": "SM00000000000000000000000000000002", "Body": "Any news?"})
    assert Ticket.objects.count() == 1 and ticket.messages.count() == 2

    set_status(ticket=ticket, actor=None, status=Status.CLOSED)
    twilio_post(client, SMS, {**first, "MessageSid": "SM00000000000000000000000000000003", "SmsSid": "SM00000000000000000000000000000003", "SmsMessageSid": "SM00000000000000000000000000000003", "Body": "New problem"})
    assert Ticket.objects.count() == 2
    assert Ticket.objects.exclude(pk=ticket.pk).get().subject == "New problem"


def test_stop_opts_the_customer_out_and_start_opts_them_back_in(client, provider, desk_number, eager_celery, django_capture_on_commit_callbacks):
    agent = AgentFactory(teams=[desk_number.team])
    stop = load("twilio-sms-03-stop.json")
    hello = {**stop, "Body": "Hello, where is my parcel?", "OptOutType": "", "MessageSid": "SM11111111111111111111111111111111", "SmsSid": "SM11111111111111111111111111111111", "SmsMessageSid": "SM11111111111111111111111111111111"}
    twilio_post(client, SMS, hello)
    ticket = Ticket.objects.get()

    twilio_post(client, SMS, stop)

    assert OptOut.objects.filter(kind="phone").count() == 1
    assert ticket.messages.filter(text="STOP").exists()  # the agent sees it on the conversation
    with pytest.raises(ReplyRefused, match="opted out by texting STOP"):
        reply(ticket=ticket, agent=agent, text="We will check")
    assert provider.sent("twilio") == []

    start = {**stop, "Body": "START", "OptOutType": "START", "MessageSid": "SM22222222222222222222222222222222", "SmsSid": "SM22222222222222222222222222222222", "SmsMessageSid": "SM22222222222222222222222222222222"}
    twilio_post(client, SMS, start)
    assert not OptOut.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        reply(ticket=ticket, agent=agent, text="We will check")
    assert provider.sent("twilio")[0].form["To"] == "+13125550112"


def test_a_stop_from_someone_without_a_conversation_opens_no_ticket(client, provider, desk_number):
    assert twilio_post(client, SMS, load("twilio-sms-03-stop.json")).status_code == 200
    assert not Ticket.objects.exists()
    assert OptOut.objects.count() == 1


def test_webhooks_signed_with_a_shared_key_and_sha256_are_accepted_when_the_key_is_configured(client, provider, desk_number, settings):
    from urllib.parse import urlencode

    from twilio.request_validator import RequestValidator

    params = load("twilio-sms-01-inbound-sms-unicode.json")
    signature = RequestValidator("shared-key-secret").compute_signature("https://support.example.com" + SMS, params, "HMAC_SHA256")
    headers = {"X-Twilio-Signature": signature, "X-Twilio-Webhooks-Signature-Settings": "key=KS123,algorithm=HMAC_SHA256"}

    def post():
        return client.post(SMS, data=urlencode(params), content_type="application/x-www-form-urlencoded", headers=headers)

    assert post().status_code == 403  # no shared key configured: refused, never checked against nothing
    settings.TWILIO_WEBHOOK_SHARED_KEY_SECRET = "shared-key-secret"
    assert post().status_code == 200
    assert Message.objects.count() == 1
