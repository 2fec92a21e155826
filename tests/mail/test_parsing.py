"""mail.parsing: every file of the shared corpus, and the hostile cases of the issue. Pure: no database."""

from __future__ import annotations

import base64

import pytest

from mail.parsing import decode_bytes, parse_message
from mail.quotes import strip_text

from .conftest import MANIFEST, corpus_bytes


@pytest.mark.parametrize("case", MANIFEST, ids=[c["file"] for c in MANIFEST])
def test_corpus_message_parses_as_the_manifest_says(case):
    message = parse_message(corpus_bytes(case["file"]))

    assert message.subject == case["subject"]
    assert message.channel == "email" and message.sender_kind == "email" and "@" in message.sender_address
    assert message.external_id.startswith("<") and len(message.external_id) <= 255
    if case["visible_text_contains"]:
        assert case["visible_text_contains"] in message.text
    if case["visible_text_excludes"]:
        assert case["visible_text_excludes"] not in message.text
        assert case["visible_text_excludes"] in message.full_text  # the original stays one click away
        assert case["visible_text_excludes"] not in message.html
    real = [a for a in message.attachments if not a.inline]
    inline = [a for a in message.attachments if a.inline]
    assert len(real) == case["attachments"]
    assert len(inline) == case["inline"]
    for needle in case["must_not_contain_in_html"]:
        assert needle not in message.html
    assert message.auto is case["auto"]
    if case["bounce_of"]:
        assert message.meta["bounce"]["message_id"] == case["bounce_of"]
        assert case["bounce_of"] in message.thread.references


def test_duplicate_delivery_has_the_same_identity():
    first = parse_message(corpus_bytes("025-duplicate-first.eml"))
    second = parse_message(corpus_bytes("026-duplicate-second.eml"))
    assert first.external_id == second.external_id


def test_message_without_message_id_gets_a_stable_hash_that_ignores_transport_headers():
    raw = corpus_bytes("024-no-message-id.eml")
    again = b"Received: from relay2.example.net by mx.example.com; Tue, 04 Mar 2025 10:00:00 +0000\r\n" + raw
    first, second = parse_message(raw), parse_message(again)
    assert first.external_id == second.external_id
    assert "no-message-id" in first.external_id
    other = parse_message(raw.replace(b"Please cancel it", b"Please keep it"))
    assert other.external_id != first.external_id


def test_references_only_reply_lists_every_ancestor_newest_first():
    message = parse_message(corpus_bytes("017-thread-4-customer-signature.eml"))
    refs = message.thread.references
    assert refs[0] == "<CAEAdIoDgYsHuRTyUQm-FsrteVSIVt2VMIUeXgsUY1@mail.example.org>"  # In-Reply-To first
    assert "<CAvPgpTzzYDje18YqYpXcUOmA5G3bShbD7HcUw2JJS@mail.example.org>" in refs


def test_subject_token_is_a_thread_hint():
    message = parse_message(corpus_bytes("018-subject-token-only.eml"))
    assert message.thread.ticket_id == 1042 and message.thread.references == ()


def test_charsets_decode_to_the_right_characters():
    assert "€1,250.00" in parse_message(corpus_bytes("009-windows-1252-qp.eml")).text
    assert "страница просто обновляется" in parse_message(corpus_bytes("010-koi8-r-8bit.eml")).text
    assert "Ä" in decode_bytes("Ä".encode(), "us-ascii")  # mislabelled: really UTF-8
    assert decode_bytes("Grüße".encode("latin-1"), "utf-8") == "Grüße"  # declared UTF-8, really Latin-1
    assert decode_bytes(b"caf\xe9", "x-made-up-charset") == "café"
    assert decode_bytes("日本".encode("shift_jis"), "Shift_JIS") == "日本"


def test_inline_image_is_rewritten_to_an_attachment_url():
    message = parse_message(corpus_bytes("004-inline-cid-image.eml"))
    assert "cid:" not in message.html
    assert "/mail/inline/?m=" in message.html
    (image,) = message.attachments
    assert image.inline and image.content_type == "image/png" and image.content.startswith(b"\x89PNG")


def test_rfc2231_filename_and_forwarded_message_are_kept():
    names = [a.filename for a in parse_message(corpus_bytes("005-attachments-pdf-txt-png.eml")).attachments]
    assert "käyttöloki.txt" in names and "lasku-2025-117.pdf" in names
    (forward,) = parse_message(corpus_bytes("006-forward-as-attachment.eml")).attachments
    assert forward.content_type == "message/rfc822" and b"Subject:" in forward.content


def test_malformed_message_still_yields_text_and_attachment():
    message = parse_message(corpus_bytes("029-malformed-header-no-terminator.eml"))
    (attachment,) = message.attachments
    assert attachment.filename == "extracto.txt" and b"CUOTA MENSUAL" in attachment.content


def test_message_over_the_size_limit_is_truncated_and_flagged_not_dropped():
    raw = corpus_bytes("028-one-megabyte-body.eml")
    message = parse_message(raw, max_bytes=200_000)
    assert message.meta["truncated"]["original_bytes"] == len(raw)
    assert message.meta["truncated"]["stored_bytes"] == 200_000
    assert "the full sync log from last night's failed import" in message.text
    assert message.subject == "Full sync log for failed import (large)"


def test_oversized_html_falls_back_to_text():
    html = "<p>" + "<b>x</b>" * 200_000 + "</p>"
    raw = (
        "From: a@example.org\r\nTo: support@example.com\r\nSubject: big\r\nMessage-ID: <big@example.org>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n"
        "--b\r\nContent-Type: text/plain\r\n\r\nthe readable version\r\n"
        f"--b\r\nContent-Type: text/html\r\n\r\n{html}\r\n--b--\r\n"
    ).encode()
    message = parse_message(raw)
    assert message.html == "" and message.meta["html_dropped"]
    assert message.text == "the readable version"


def test_hostile_html_is_sanitized():
    message = parse_message(corpus_bytes("003-html-only-hostile.eml"))
    for needle in ("<script", "onerror", "javascript:", "document.cookie", "<style"):
        assert needle not in message.html.lower()


def test_encoded_crlf_in_subject_and_name_does_not_survive():
    subject = base64.b64encode(b"Hello\r\nBcc: victim@example.net").decode()
    name = base64.b64encode(b"Eve\r\nX-Injected: 1").decode()
    raw = (
        f"From: =?utf-8?b?{name}?= <eve@example.org>\r\nTo: support@example.com\r\n"
        f"Subject: =?utf-8?b?{subject}?=\r\nMessage-ID: <crlf@example.org>\r\n\r\nbody\r\n"
    ).encode()
    message = parse_message(raw)
    assert "\r" not in message.subject and "\n" not in message.subject
    assert "\n" not in message.sender_name and "\r" not in message.sender_name


@pytest.mark.parametrize(
    ("header", "auto"),
    [
        ("Auto-Submitted: auto-generated", True),
        ("Auto-Submitted: no", False),
        ("Precedence: junk", True),
        ("Precedence: list", True),
        ("X-Autorespond: vacation", True),
        ("X-Autoreply: yes", True),
        ("X-Priority: 1", False),
    ],
)
def test_machine_signals(header, auto):
    raw = f"From: c@example.org\r\nSubject: s\r\nMessage-ID: <m@example.org>\r\n{header}\r\n\r\nhello\r\n".encode()
    assert parse_message(raw).auto is auto


@pytest.mark.parametrize(
    ("text", "kept", "cut"),
    [
        ("Thanks!\n\nOn Tue, 4 Mar 2025 at 10:00, Desk <d@example.com> wrote:\n> old", "Thanks!", "old"),
        ("Danke\n\nAm 04.03.2025 um 10:15 schrieb Anna:\n> alt", "Danke", "alt"),
        ("Kiitos\n\nti 4.3.2025 klo 9.12 Anna <a@example.com> kirjoitti:\n\n> vanha", "Kiitos", "vanha"),
        ("Merci\n\nLe mar. 4 mars 2025 à 10:00, Anna <a@example.com> a écrit :\n> ancien", "Merci", "ancien"),
        ("Gracias\n\nEl mar, 4 mar 2025 a las 10:00, Anna (<a@example.com>) escribió:\n> viejo", "Gracias", "viejo"),
        ("Ok\n\n________________________________\nFrom: Desk <d@example.com>\nSent: Tuesday\nTo: me\nSubject: x\n\nold", "Ok", "old"),
        ("Ok\n\n-----Ursprüngliche Nachricht-----\nVon: Desk\nalt", "Ok", "alt"),
        ("Fine\n\nOn Tue, 4 Mar 2025 at 10:00, Desk Person <\nd@example.com> wrote:\n> old", "Fine", "old"),
        # Wrapped over three lines, the colon only on the last; trailing spaces and a no-break space after it.
        ("Sure\n\nOn Tue, 4 Mar 2025 at 10:00,\nDesk Person <d@example.com>\nwrote:  \u00a0\n> old", "Sure", "old"),
        ("Right\n\n> On Tue, 4 Mar 2025, Desk <d@example.com> wrote: \t\n> old", "Right", "old"),
        ("Bye\n-- \nJane Doe\nCEO", "Bye", "CEO"),
        ("Yes\n\nSent from my iPhone", "Yes", "iPhone"),
    ],
)
def test_quote_and_signature_forms_are_stripped(text, kept, cut):
    visible = strip_text(text)
    assert kept in visible and cut not in visible


def test_interleaved_reply_keeps_the_answers():
    text = "On Tue, 4 Mar 2025, Desk <d@example.com> wrote:\n> Which model?\nThe X200.\n> Since when?\nMonday."
    visible = strip_text(text)
    assert "The X200." in visible and "Monday." in visible


def test_a_message_that_is_only_a_quote_is_kept_whole():
    text = "> just the quote\n> nothing else"
    assert strip_text(text) == text


def test_sender_name_with_an_encoded_comma_stays_one_person():
    raw = b"From: =?utf-8?q?Virtanen=2C_Matti?= <matti@example.fi>\r\nSubject: s\r\nMessage-ID: <n@example.fi>\r\n\r\nhei\r\n"
    message = parse_message(raw)
    assert (message.sender_name, message.sender_address) == ("Virtanen, Matti", "matti@example.fi")


def test_message_without_from_still_gets_a_sender():
    message = parse_message(b"Subject: who?\r\nMessage-ID: <nofrom@example.org>\r\n\r\nanonymous\r\n")
    assert message.sender_address == "unknown@invalid" and message.text == "anonymous"


def test_quote_in_html_without_a_known_marker_shows_the_stripped_text():
    raw = (
        b"From: a@example.org\r\nTo: support@example.com\r\nSubject: Re: x\r\nMessage-ID: <q@example.org>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nNew answer.\r\n\r\nOn Tue, 4 Mar 2025, Desk <d@example.com> wrote:\r\n> old question\r\n"
        b"--b\r\nContent-Type: text/html\r\n\r\n<p>New answer.</p><p>On Tue, 4 Mar 2025, Desk wrote:</p><p>old question</p>\r\n--b--\r\n"
    )
    message = parse_message(raw)
    assert message.html == "" and message.text == "New answer."
    assert "old question" in message.full_text


def test_html_signature_is_stripped_like_the_text_one():
    raw = (
        b"From: a@example.org\r\nTo: support@example.com\r\nSubject: s\r\nMessage-ID: <sig@example.org>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nPlease help.\r\n-- \r\nJane Doe\r\nCEO, Example\r\n"
        b'--b\r\nContent-Type: text/html\r\n\r\n<div>Please help.</div><div class="gmail_signature">Jane Doe<br>CEO, Example</div>\r\n--b--\r\n'
    )
    message = parse_message(raw)
    assert "Please help." in message.html and "CEO" not in message.html and "CEO" not in message.text
