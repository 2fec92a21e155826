"""Pure parsing of Twilio posts, driven by the corpus files."""

from __future__ import annotations

from phone.parsing import media_refs, opt_keyword, parse_sms, parse_status, split_address, split_text
from tests.phone.conftest import load


def test_an_inbound_sms_parses_to_an_sms_message_from_a_phone_identity():
    message = parse_sms(load("twilio-sms-01-inbound-sms-unicode.json"), team_id=7)
    assert (message.channel, message.sender_kind, message.sender_address) == ("sms", "phone", "+447700900123")
    assert message.external_id == "SMd377cd2199d61cba4139bccc2fe9c0f0" and message.team_id == 7
    assert message.thread.continue_latest is True
    assert message.meta["twilio"] == {"phone_number": "+12025550143", "segments": "2"}


def test_a_whatsapp_message_uses_the_whatsapp_identity_and_profile_name():
    params = load("twilio-sms-02-inbound-whatsapp-image.json")
    message = parse_sms(params)
    assert (message.channel, message.sender_kind, message.sender_address) == ("whatsapp", "whatsapp", "+447700900456")
    assert message.sender_name == "Carlos Ruiz"
    [ref] = media_refs(params)
    assert ref.content_type == "image/jpeg" and ref.url.endswith("/Media/MEd8262dd4b19ced038d915f7a2f5992db")


def test_opt_out_keywords():
    assert opt_keyword(load("twilio-sms-03-stop.json")) == "stop"
    assert opt_keyword({"Body": " unsubscribe. "}) == "stop"
    assert opt_keyword({"Body": "Start"}) == "start"
    assert opt_keyword({"Body": "Please stop sending the wrong parcel"}) == ""


def test_status_callbacks_map_to_delivery_states_with_the_error_text():
    assert parse_status(load("twilio-sms-04-status-queued.json")).status == "queued"
    assert parse_status(load("twilio-sms-06-status-delivered.json")).status == "delivered"
    failed = parse_status(load("twilio-sms-07-status-failed.json"))
    assert failed.status == "failed" and failed.error == "Twilio error 30003: Unreachable destination handset"
    assert parse_status({"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30007"}).status == "failed"


def test_a_post_without_sender_is_not_a_message():
    assert parse_sms({"MessageSid": "SM1", "Body": "hi"}) is None
    assert split_address("whatsapp:+15551234567") == ("whatsapp", "+15551234567")


def test_long_texts_split_at_whitespace_within_twilios_limit():
    words = ("sana " * 700).strip()  # 3,499 characters
    parts = split_text(words)
    assert len(parts) == 3 and all(len(p) <= 1600 for p in parts) and " ".join(parts) == words
    assert split_text("x" * 3300) == ["x" * 1600, "x" * 1600, "x" * 100]
    assert split_text("short") == ["short"]


def test_a_whatsapp_location_pin_becomes_readable_text():
    params = {**load("twilio-sms-02-inbound-whatsapp-image.json"), "Body": "", "NumMedia": "0", "Latitude": "40.4168", "Longitude": "-3.7038", "Label": "Tienda Centro"}
    assert parse_sms(params).text == "Location: 40.4168, -3.7038 Tienda Centro"


def test_a_whatsapp_button_reply_keeps_its_payload():
    params = {**load("twilio-sms-02-inbound-whatsapp-image.json"), "Body": "Talk to a person", "NumMedia": "0", "ButtonText": "Talk to a person", "ButtonPayload": "HUMAN"}
    message = parse_sms(params)
    assert message.text == "Talk to a person" and message.meta["postback"] == {"title": "Talk to a person", "payload": "HUMAN"}
