"""Agent replies leave by SMTP (a real aiosmtpd sink): headers, threading, hostile names, retries, limits."""

from __future__ import annotations

import pytest

from mail.models import Mailbox
from mail.services import ingest_email
from tests.factories import AgentFactory, ContactFactory, TeamFactory, TicketFactory
from tickets.adapters import TransientSendError
from tickets.inbound import InboundAttachment
from tickets.models import Message
from tickets.services import deliver_now, reply

from .conftest import corpus_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(db, smtp_sink):
    team = TeamFactory(name="Support")
    return Mailbox.objects.create(
        name="Example Support", email_address="support@example.com", team=team, imap_host="127.0.0.1",
        imap_username="x", smtp_url=smtp_sink.url,
    )  # fmt: skip


def customer_ticket(desk):
    return ingest_email(corpus_bytes("014-thread-1-customer.eml"), mailbox=desk).ticket


def test_agent_reply_is_sent_from_the_mailbox_with_token_and_threading_headers(desk, smtp_sink):
    ticket = customer_ticket(desk)
    agent = AgentFactory(first_name="Anna", last_name="Lindqvist", teams=[desk.team])
    message = reply(ticket=ticket, agent=agent, text="We will send a replacement.\nBest, Anna")
    deliver_now(message.pk)

    sent = smtp_sink.parsed()
    assert smtp_sink.messages[-1].rcpt_tos == ["olivia.bennett@example.org"]
    assert sent["From"].addresses[0].addr_spec == "support@example.com"
    assert f"[#{ticket.pk}]" in sent["Subject"] and sent["Subject"].startswith("Re: ")
    assert sent["In-Reply-To"] == "<CAvPgpTzzYDje18YqYpXcUOmA5G3bShbD7HcUw2JJS@mail.example.org>"
    assert "<CAvPgpTzzYDje18YqYpXcUOmA5G3bShbD7HcUw2JJS@mail.example.org>" in sent["References"]
    assert sent["Auto-Submitted"] == "no"
    assert sent.get_body(("plain",)).get_content().startswith("We will send a replacement.")
    assert "<br>" in sent.get_body(("html",)).get_content()
    message.refresh_from_db()
    assert message.delivery_status == "sent" and message.external_id == sent["Message-ID"]


def test_customer_answer_to_the_reply_threads_back(desk, smtp_sink):
    ticket = customer_ticket(desk)
    message = reply(ticket=ticket, agent=AgentFactory(teams=[desk.team]), text="Photo please?")
    deliver_now(message.pk)
    sent_id = smtp_sink.parsed()["Message-ID"]
    answer = (
        f"From: Olivia Bennett <olivia.bennett@example.org>\r\nTo: support@example.com\r\nSubject: Re: whatever\r\n"
        f"Message-ID: <answer@example.org>\r\nReferences: {sent_id}\r\n\r\nHere it is.\r\n"
    ).encode()
    assert ingest_email(answer, mailbox=desk).ticket_id == ticket.pk


def test_attachments_go_out_with_the_reply(desk, smtp_sink):
    ticket = customer_ticket(desk)
    attachment = InboundAttachment(filename="label.pdf", content_type="application/pdf", content=b"%PDF-1.4 label")
    message = reply(ticket=ticket, agent=AgentFactory(teams=[desk.team]), text="Label attached", attachments=[attachment])
    deliver_now(message.pk)
    (part,) = list(smtp_sink.parsed().iter_attachments())
    assert part.get_filename() == "label.pdf" and part.get_content() == b"%PDF-1.4 label"


def test_crlf_in_names_and_subjects_never_injects_headers(desk, smtp_sink):
    contact = ContactFactory(name="Eve\r\nBcc: victim@example.net", email="eve@example.org")
    ticket = TicketFactory(contact=contact, team=desk.team, subject="Hi\r\nBcc: victim@example.net\r\nX-Evil: 1")
    agent = AgentFactory(first_name="Bob\r\nX-Injected:", last_name="1", teams=[desk.team])
    message = reply(ticket=ticket, agent=agent, text="hello")
    deliver_now(message.pk)
    envelope = smtp_sink.messages[-1]
    assert envelope.rcpt_tos == ["eve@example.org"]
    sent = smtp_sink.parsed()
    assert sent["Bcc"] is None and sent["X-Evil"] is None and sent["X-Injected"] is None
    assert "victim" not in " ".join(envelope.rcpt_tos)


def test_smtp_server_down_is_retried_then_sent(desk, smtp_sink):
    ticket = customer_ticket(desk)
    message = reply(ticket=ticket, agent=AgentFactory(teams=[desk.team]), text="hello")
    smtp_sink.stop()
    with pytest.raises(TransientSendError):
        deliver_now(message.pk)
    message.refresh_from_db()
    first_id = message.external_id
    assert message.delivery_status == "queued" and first_id  # the Message-ID is kept for the retry
    smtp_sink.start()
    deliver_now(message.pk)
    message.refresh_from_db()
    assert message.delivery_status == "sent" and message.external_id == first_id == smtp_sink.parsed()["Message-ID"]


def test_permanent_smtp_refusal_marks_the_message_failed(desk, smtp_sink):
    ticket = customer_ticket(desk)
    message = reply(ticket=ticket, agent=AgentFactory(teams=[desk.team]), text="hello")
    smtp_sink.refuse_with = "554 5.7.1 Message rejected"
    deliver_now(message.pk)
    message.refresh_from_db()
    assert message.delivery_status == "failed" and "rejected" in message.error


def test_automatic_mail_is_marked_and_limited_per_sender_per_hour(desk, smtp_sink):
    ticket = customer_ticket(desk)
    results = []
    for n in range(7):
        message = reply(ticket=ticket, agent=None, text=f"We received your message ({n}).", bot=True)
        deliver_now(message.pk)
        message.refresh_from_db()
        results.append(message.delivery_status)
    assert results == ["sent"] * 5 + ["failed"] * 2
    assert len(smtp_sink.messages) == 5
    assert smtp_sink.parsed()["Auto-Submitted"] == "auto-generated"
    assert "automatic" in Message.objects.filter(delivery_status="failed").first().error


def test_without_a_mailbox_smtp_url_the_server_default_is_used(desk, smtp_sink, settings):
    desk.smtp_url = ""
    desk.save()
    settings.EMAIL_URL = smtp_sink.url
    ticket = customer_ticket(desk)
    message = reply(ticket=ticket, agent=AgentFactory(teams=[desk.team]), text="via default")
    deliver_now(message.pk)
    assert smtp_sink.parsed().get_body(("plain",)).get_content().strip() == "via default"


def test_reply_refused_when_the_customer_has_no_address(desk):
    from tickets.adapters import ReplyRefused

    contact = ContactFactory(email="")
    ticket = TicketFactory(contact=contact, team=desk.team)
    with pytest.raises(ReplyRefused):
        reply(ticket=ticket, agent=AgentFactory(teams=[desk.team]), text="hi")
