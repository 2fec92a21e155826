"""Pure parsing of Messenger webhook bodies from the corpus files."""

from __future__ import annotations

import json

from social.parsing import IncomingMessage, Receipt, parse_payload
from tests.social.conftest import raw


def events(name: str):
    return parse_payload(json.loads(raw(name)))


def test_a_text_message():
    [event] = events("messenger-01-text.json")
    assert isinstance(event, IncomingMessage)
    assert event.sender_id == "2600795529520225" and event.page_id == "152846578697265"
    assert event.mid.startswith("m_wQ6cNyM7") and event.received_at.year == 2025
    message = event.inbound(team_id=3)
    assert (message.channel, message.sender_kind, message.team_id) == ("messenger", "messenger", 3)


def test_attachments_are_urls_to_download():
    [image] = events("messenger-03-image-attachment.json")
    assert image.attachments[0].type == "image" and image.attachments[0].url.startswith("https://scontent.example.net/")
    [pdf] = events("messenger-04-file-attachment.json")
    assert pdf.attachments[0].type == "file" and pdf.attachments[0].url.split("?")[0].endswith(".pdf")


def test_postbacks_and_quick_replies_carry_their_payload():
    [postback] = events("messenger-05-postback-get-started.json")
    assert postback.text == "Get Started" and postback.postback == {"title": "Get Started", "payload": "GET_STARTED"}
    assert postback.inbound(team_id=None).meta["postback"]["payload"] == "GET_STARTED"
    [quick] = events("messenger-06-quick-reply.json")
    assert quick.postback["payload"] == "HUMAN_AGENT"


def test_echoes_are_skipped_and_receipts_are_receipts():
    assert events("messenger-07-echo.json") == []
    [delivery] = events("messenger-08-delivery.json")
    assert isinstance(delivery, Receipt) and delivery.kind == "delivered" and delivery.mids[0].startswith("m_smCI0")
    [read] = events("messenger-09-read.json")
    assert read.kind == "read" and read.watermark.year == 2025


def test_a_batch_yields_every_entry_in_order():
    first, second = events("messenger-10-batch-two-entries.json")
    assert (first.sender_id, second.sender_id) == ("3407746369688687", "2206860411369170")


def test_payloads_that_are_not_page_events_yield_nothing():
    assert parse_payload({"object": "instagram", "entry": []}) == []
    assert parse_payload({"object": "page", "entry": [{"id": "1", "messaging": [{"sender": {}, "message": {}}]}]}) == []
    assert parse_payload([]) == []
