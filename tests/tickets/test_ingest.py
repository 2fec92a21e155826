from __future__ import annotations

import pytest

from tests.factories import ContactFactory, TeamFactory, TicketFactory
from tickets import events
from tickets.inbound import InboundAttachment, InboundMessage, ThreadHints
from tickets.models import Contact, ContactIdentity, Message, Status, Ticket
from tickets.services import InvalidMessage, ingest, set_status

pytestmark = pytest.mark.django_db


def email(**overrides) -> InboundMessage:
    values = {
        "channel": "email",
        "external_id": "<m1@example.org>",
        "sender_kind": "email",
        "sender_address": "Jane@Example.org",
        "sender_name": "Jane Doe",
        "subject": "Printer on fire",
        "text": "It is really on fire.",
    }
    values.update(overrides)
    return InboundMessage(**values)


def test_ingest_creates_contact_ticket_and_message():
    team = TeamFactory()
    message = ingest(email(team_id=team.pk))
    ticket = message.ticket
    assert ticket.subject == "Printer on fire"
    assert ticket.status == Status.NEW and ticket.channel == "email" and ticket.team == team
    assert ticket.contact.name == "Jane Doe" and ticket.contact.email == "jane@example.org"
    assert ticket.last_customer_message_at is not None and ticket.unread
    assert message.direction == "inbound" and message.author_contact == ticket.contact


def test_ingesting_the_same_message_twice_returns_the_same_message_and_creates_nothing():
    first = ingest(email())
    counts = (Ticket.objects.count(), Message.objects.count(), Contact.objects.count())
    second = ingest(email(text="a retry with different text"))
    assert second.pk == first.pk
    assert (Ticket.objects.count(), Message.objects.count(), Contact.objects.count()) == counts


def test_same_identity_resolves_to_same_contact_case_insensitively():
    a = ingest(email(external_id="<a@x>"))
    b = ingest(email(external_id="<b@x>", sender_address="jane@example.ORG"))
    assert a.author_contact_id == b.author_contact_id
    assert ContactIdentity.objects.count() == 1


def test_email_reply_threads_by_references_and_new_email_opens_new_ticket():
    first = ingest(email())
    reply = ingest(email(external_id="<m2@example.org>", subject="Re: Printer", thread=ThreadHints(references=("<m1@example.org>",))))
    unrelated = ingest(email(external_id="<m3@example.org>", subject="Another thing"))
    assert reply.ticket_id == first.ticket_id
    assert unrelated.ticket_id != first.ticket_id


def test_ticket_hint_threads_and_reply_to_resolved_ticket_reopens_it():
    first = ingest(email())
    set_status(ticket=first.ticket, actor=None, status="resolved")
    again = ingest(email(external_id="<m9@x>", thread=ThreadHints(ticket_id=first.ticket_id)))
    ticket = Ticket.objects.get(pk=first.ticket_id)
    assert again.ticket_id == ticket.pk
    assert ticket.status == Status.OPEN and ticket.resolved_at is None


def sms(external_id: str, text: str = "hello") -> InboundMessage:
    return InboundMessage(channel="sms", external_id=external_id, sender_kind="phone", sender_address="+12025550100", text=text)


def test_sms_continues_the_open_conversation_until_it_is_closed():
    first = ingest(sms("SM1"))
    second = ingest(sms("SM2"))
    assert second.ticket_id == first.ticket_id
    set_status(ticket=first.ticket, actor=None, status="closed")
    third = ingest(sms("SM3"))
    assert third.ticket_id != first.ticket_id


def test_auto_message_never_creates_nor_reopens_a_ticket():
    assert ingest(email(external_id="<auto@x>", auto=True)) is None
    assert Ticket.objects.count() == 0
    first = ingest(email())
    set_status(ticket=first.ticket, actor=None, status="resolved")
    stored = ingest(email(external_id="<auto2@x>", auto=True, thread=ThreadHints(references=("<m1@example.org>",))))
    assert stored.ticket_id == first.ticket_id and stored.meta["auto"] is True
    assert Ticket.objects.get(pk=first.ticket_id).status == Status.RESOLVED


@pytest.mark.parametrize(
    "overrides",
    [{"channel": "pigeon"}, {"text": "", "subject": "", "html": ""}, {"sender_address": "  "}],
)
def test_bad_input_is_refused_with_a_clear_error_and_nothing_is_written(overrides):
    with pytest.raises(InvalidMessage):
        ingest(email(**overrides))
    assert Ticket.objects.count() == 0 and Message.objects.count() == 0


def test_hostile_html_is_sanitized():
    message = ingest(email(html='<p onclick="x()">Hi<script>alert(1)</script><a href="javascript:alert(2)">x</a></p>'))
    assert "script" not in message.html and "onclick" not in message.html and "javascript:" not in message.html
    assert "Hi" in message.html


def test_oversized_text_is_truncated_and_flagged(settings):
    settings.MESSAGE_MAX_CHARS = 100
    message = ingest(email(text="x" * 500))
    assert len(message.text) == 100
    assert message.meta["truncated"] == {"original_chars": 500}


def test_attachment_over_the_limit_is_refused_but_the_message_is_kept(settings):
    settings.ATTACHMENT_MAX_BYTES = 10
    message = ingest(
        email(attachments=(InboundAttachment("big.bin", "application/octet-stream", b"x" * 11), InboundAttachment("ok.txt", "text/plain", b"small")))
    )
    assert [a.filename for a in message.attachments.all()] == ["ok.txt"]
    assert message.meta["rejected_attachments"] == [{"filename": "big.bin", "size": 11, "reason": "too_large"}]


def test_active_content_types_are_stored_as_opaque_bytes():
    message = ingest(email(attachments=(InboundAttachment("evil.html", "text/html", b"<script>alert(1)</script>"),)))
    attachment = message.attachments.get()
    assert attachment.content_type == "application/octet-stream"
    assert "evil" not in attachment.file.name  # random name on disk


@pytest.fixture
def listen():
    subscribed = []

    def _listen(kind):
        seen = []

        def listener(_kind, data):
            seen.append(data)

        events.subscribe(kind, listener)
        subscribed.append((kind, listener))
        return seen

    yield _listen
    for kind, listener in subscribed:
        events.unsubscribe(kind, listener)


def test_events_are_published_after_commit(django_capture_on_commit_callbacks, listen):
    seen = listen("message.created")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = ingest(email())
        assert seen == []
    for callback in callbacks:
        callback()
    assert [d["message_id"] for d in seen] == [message.pk]


def test_no_events_after_rollback(django_capture_on_commit_callbacks, listen):
    from django.db import transaction

    seen = listen("ticket.created")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                ingest(email())
                raise RuntimeError("crash before commit")
        except RuntimeError:
            pass
    assert callbacks == [] and seen == []
    assert Message.objects.count() == 0


def test_merged_contact_and_ticket_are_followed():
    contact = ContactFactory()
    ticket = TicketFactory(contact=contact, channel="sms", status="open")
    target = TicketFactory(contact=contact, channel="sms", status="open")
    Ticket.objects.filter(pk=ticket.pk).update(merged_into=target)
    message = ingest(InboundMessage(channel="sms", external_id="SMx", sender_kind="phone", sender_address="+1555", text="hi", thread=ThreadHints(ticket_id=ticket.pk)))
    assert message.ticket_id == target.pk


def test_a_lost_race_on_a_new_contact_is_retried_and_the_message_kept(monkeypatch):
    from django.db import IntegrityError

    from tickets import services

    real = services._Batch.run
    calls = []

    def collide_once(batch):
        calls.append(batch.messages[0].external_id)
        if len(calls) == 1:
            # What a concurrent first message from the same address does to us: the identity insert collides.
            raise IntegrityError("duplicate key value violates unique constraint identity_unique_address")
        return real(batch)

    monkeypatch.setattr(services._Batch, "run", collide_once)
    stored = ingest(email(external_id="<race@x>"))
    assert calls == ["<race@x>", "<race@x>"]
    assert Message.objects.filter(pk=stored.pk).exists() and Ticket.objects.count() == 1
