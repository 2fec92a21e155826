"""Messenger webhook: verification, signatures over the raw bytes, text, attachments, postbacks, receipts."""

from __future__ import annotations

import pytest

from social.services import attach_failed_attachments
from tests.factories import MessageFactory
from tests.phone.providers import JPEG, PDF, VERIFY_TOKEN
from tests.social.conftest import meta_post, raw, sign
from tickets.models import ContactIdentity, Message, Ticket

pytestmark = pytest.mark.django_db


def test_the_verification_handshake_echoes_the_challenge(client, provider):
    ok = client.get("/hooks/messenger/", {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"})
    assert ok.status_code == 200 and ok.content == b"1158201444"

    wrong = client.get("/hooks/messenger/", {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"})
    assert wrong.status_code == 403 and b"1158201444" not in wrong.content


def test_a_signed_text_message_becomes_a_messenger_ticket_of_the_pages_team(client, provider, page):
    provider.profiles["2600795529520225"] = {"first_name": "Emma", "last_name": "Virtanen", "name": "Emma Virtanen"}

    assert meta_post(client, raw("messenger-01-text.json")).status_code == 200

    message = Message.objects.get()
    assert message.channel == "messenger" and message.text == "Hi! Do you ship to Finland? I'd like to order the CP-40 planter."
    assert message.ticket.team == page.team and message.ticket.channel == "messenger"
    assert message.ticket.contact.name == "Emma Virtanen"
    identity = ContactIdentity.objects.get(contact=message.ticket.contact)
    assert identity.kind == "messenger" and identity.address == "2600795529520225"
    [lookup] = provider.sent("profile")
    assert lookup.headers["authorization"] == "Bearer EAAG-page-token-for-tests"


def test_the_unicode_escapes_of_the_raw_body_are_decoded(client, provider, page):
    meta_post(client, raw("messenger-02-text-unicode.json"))
    assert Message.objects.get().text == "Hei! Onko tilaukseni 2025-117 jo lähetetty? \U0001f4e6 Kiitos!"


@pytest.mark.parametrize("signature", ["", "sha256=" + "0" * 64, "sha1=abc", None])
def test_a_bad_signature_is_refused_and_nothing_is_stored(client, provider, page, signature):
    body = raw("messenger-01-text.json")
    if signature is None:
        signature = sign(body, secret="not-the-app-secret")
    assert meta_post(client, body, signature=signature).status_code == 403
    assert not Message.objects.exists()


def test_the_signature_covers_the_exact_bytes(client, provider, page):
    body = raw("messenger-02-text-unicode.json")
    reserialised = body.replace(b"\\u00e4", "ä".encode())  # same JSON, different bytes
    assert meta_post(client, reserialised, signature=sign(body)).status_code == 403
    assert not Message.objects.exists()


def test_a_redelivered_event_is_stored_once(client, provider, page):
    body = raw("messenger-03-image-attachment.json")
    assert meta_post(client, body).status_code == 200
    assert meta_post(client, body).status_code == 200
    assert Message.objects.count() == 1 and Ticket.objects.count() == 1
    assert len([r for r in provider.requests if r.path.startswith("/v/")]) == 1


def test_image_and_file_attachments_are_downloaded(client, provider, page):
    meta_post(client, raw("messenger-03-image-attachment.json"))
    meta_post(client, raw("messenger-04-file-attachment.json"))

    image = Message.objects.get(external_id__startswith="m_NLk5").attachments.get()
    assert image.content_type == "image/jpeg" and image.file.read() == JPEG
    pdf = Message.objects.get(external_id__startswith="m_mohm").attachments.get()
    assert pdf.filename == "234829487_1295676693980791_n.pdf" and pdf.file.read() == PDF
    fetched = [r for r in provider.requests if r.path.startswith("/v/")]
    assert fetched[0].query["oh"] == ["03_aJ0VqFdRHJYmHp39Vuj08O7E8lyv8LCzMAB94lLt"]  # the signed CDN query is kept


def test_a_failed_attachment_download_keeps_the_message(client, provider, page):
    provider.fail[r"^/v/"] = 500
    assert meta_post(client, raw("messenger-03-image-attachment.json")).status_code == 200
    message = Message.objects.get()
    assert "image attachment could not be downloaded" in message.text
    assert message.meta["attachments_failed"][0]["url"].startswith("https://scontent.example.net/")

    provider.fail.clear()
    assert attach_failed_attachments(message.pk) == []
    message.refresh_from_db()
    assert message.attachments.get().file.read() == JPEG
    assert "could not be downloaded" not in message.text and "attachments_failed" not in message.meta


def test_a_postback_is_stored_with_its_payload(client, provider, page):
    meta_post(client, raw("messenger-05-postback-get-started.json"))
    message = Message.objects.get()
    assert message.text == "Get Started"
    assert message.meta["postback"] == {"title": "Get Started", "payload": "GET_STARTED"}


def test_a_quick_reply_keeps_its_text_and_payload(client, provider, page):
    meta_post(client, raw("messenger-06-quick-reply.json"))
    message = Message.objects.get()
    assert message.text == "Puhu ihmisen kanssa" and message.meta["postback"]["payload"] == "HUMAN_AGENT"


def test_echoes_and_receipts_are_not_customer_messages(client, provider, page):
    for name in ("messenger-07-echo.json", "messenger-08-delivery.json", "messenger-09-read.json"):
        assert meta_post(client, raw(name)).status_code == 200
    assert not Message.objects.exists() and not Ticket.objects.exists()


def test_delivery_and_read_receipts_advance_our_outbound_message(client, provider, page):
    meta_post(client, raw("messenger-01-text.json"))
    ticket = Ticket.objects.get()
    ours = MessageFactory(ticket=ticket, direction="outbound", channel="messenger", author_contact=None, delivery_status="sent",
                          external_id="m_smCI0ljW4RwuPKafWNP15KYejvRb80KMitNlOKD3s7yZlUOhxMoskq0FSLGLiLLv9_X7hk2TkfVhUGfKkoPQB7")  # fmt: skip
    Message.objects.filter(pk=ours.pk).update(created_at=Message.objects.get(pk=ours.pk).created_at.replace(year=2025, month=3, day=4, hour=9, minute=30))

    meta_post(client, raw("messenger-08-delivery.json"))
    ours.refresh_from_db()
    assert ours.delivery_status == "delivered"

    meta_post(client, raw("messenger-09-read.json"))
    ours.refresh_from_db()
    assert ours.delivery_status == "read"


def test_a_batch_with_two_entries_opens_two_tickets(client, provider, page):
    meta_post(client, raw("messenger-10-batch-two-entries.json"))
    texts = sorted(Message.objects.values_list("text", flat=True))
    assert texts == ["Is the store on Main Street open on Sunday?", "Onko teillä lahjakortteja?"]
    assert Ticket.objects.count() == 2


def test_events_for_an_unknown_page_are_acknowledged_and_ignored(client, provider):
    assert meta_post(client, raw("messenger-01-text.json")).status_code == 200
    assert not Message.objects.exists()


def test_invalid_json_with_a_valid_signature_is_a_400(client, provider, page):
    body = b'{"object":"page","entry":['
    assert meta_post(client, body).status_code == 400


def test_an_unstorable_event_does_not_block_the_rest_of_the_batch(client, provider, page):
    body = (b'{"object":"page","entry":[{"time":1,"id":"152846578697265","messaging":['
            b'{"sender":{"id":"111"},"recipient":{"id":"152846578697265"},"timestamp":1741079568554,"message":{"mid":"m_empty"}},'
            b'{"sender":{"id":"222"},"recipient":{"id":"152846578697265"},"timestamp":1741079568554,"message":{"mid":"m_ok","text":"Hello"}}]}]}')
    assert meta_post(client, body).status_code == 200
    assert list(Message.objects.values_list("text", flat=True)) == ["Hello"]
