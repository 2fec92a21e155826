"""mail.services.ingest_email: threading, loops and noise, hostile mail (real PostgreSQL, no IMAP)."""

from __future__ import annotations

import pytest

from mail.models import Mailbox
from mail.services import ingest_email
from tests.factories import AgentFactory, ContactFactory, MessageFactory, TeamFactory, TicketFactory
from tickets.models import Message, Ticket

from .conftest import corpus_bytes

pytestmark = pytest.mark.django_db


def mail(subject="Help", body="Something is broken.", *, mid="<m1@example.org>", sender="Cleo <cleo@example.org>", extra=""):
    headers = f"From: {sender}\r\nTo: support@example.com\r\nSubject: {subject}\r\n"
    if mid:
        headers += f"Message-ID: {mid}\r\n"
    return (headers + extra + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n").encode()


@pytest.fixture
def desk(db):
    team = TeamFactory(name="Support")
    return Mailbox.objects.create(
        name="Support", email_address="support@example.com", team=team, imap_host="127.0.0.1", imap_username="x"
    )


def test_new_mail_opens_a_ticket_for_the_mailbox_team(desk):
    message = ingest_email(mail(), mailbox=desk)
    ticket = message.ticket
    assert ticket.subject == "Help" and ticket.channel == "email" and ticket.team == desk.team
    assert message.direction == "inbound" and message.author_contact.email == "cleo@example.org"


def test_the_same_message_twice_is_stored_once(desk):
    first = ingest_email(mail(), mailbox=desk)
    second = ingest_email(mail(), mailbox=desk)
    assert first.pk == second.pk and Message.objects.count() == 1


def test_reply_by_references_only_joins_the_ticket(desk):
    opened = ingest_email(mail(mid="<a@example.org>"), mailbox=desk)
    reply = ingest_email(
        mail("Re: Help", "More info", mid="<b@example.org>", extra="References: <zzz@elsewhere> <a@example.org>\r\n"),
        mailbox=desk,
    )
    assert reply.ticket_id == opened.ticket_id


def test_reply_to_our_outbound_message_id_joins_the_ticket(desk):
    ticket = TicketFactory(team=desk.team)
    MessageFactory(ticket=ticket, direction="outbound", author_contact=None, external_id="<helpdesk.1.x@example.com>")
    reply = ingest_email(mail("Re: x", mid="<c@example.org>", extra="In-Reply-To: <helpdesk.1.x@example.com>\r\n"), mailbox=desk)
    assert reply.ticket_id == ticket.pk


def test_subject_token_threads_for_the_ticket_customer(desk):
    contact = ContactFactory(email="cleo@example.org")
    ticket = TicketFactory(contact=contact, team=desk.team)
    message = ingest_email(mail(f"Re: [#{ticket.pk}] Help", mid="<t@example.org>"), mailbox=desk)
    assert message.ticket_id == ticket.pk


def test_subject_token_from_a_stranger_opens_a_new_ticket(desk):
    ticket = TicketFactory(team=desk.team)  # someone else's ticket
    message = ingest_email(mail(f"Re: [#{ticket.pk}] Help", mid="<s@example.org>", sender="mallory@example.net"), mailbox=desk)
    assert message.ticket_id != ticket.pk


def test_references_win_over_a_subject_token(desk):
    contact = ContactFactory(email="cleo@example.org")
    other = TicketFactory(contact=contact, team=desk.team)
    opened = ingest_email(mail(mid="<a@example.org>"), mailbox=desk)
    reply = ingest_email(mail(f"Re: [#{other.pk}]", mid="<b@example.org>", extra="In-Reply-To: <a@example.org>\r\n"), mailbox=desk)
    assert reply.ticket_id == opened.ticket_id


def test_reply_to_a_resolved_ticket_reopens_it(desk):
    opened = ingest_email(mail(mid="<a@example.org>"), mailbox=desk)
    Ticket.objects.filter(pk=opened.ticket_id).update(status="resolved")
    ingest_email(mail("Re: Help", mid="<b@example.org>", extra="In-Reply-To: <a@example.org>\r\n"), mailbox=desk)
    assert Ticket.objects.get(pk=opened.ticket_id).status == "open"


def test_auto_reply_never_opens_nor_reopens(desk):
    opened = ingest_email(mail(mid="<a@example.org>"), mailbox=desk)
    Ticket.objects.filter(pk=opened.ticket_id).update(status="resolved")
    auto = ingest_email(mail("Out of office", mid="<o@example.org>", extra="In-Reply-To: <a@example.org>\r\nAuto-Submitted: auto-replied\r\n"), mailbox=desk)
    assert Ticket.objects.get(pk=opened.ticket_id).status == "resolved"
    assert auto is not None and auto.meta.get("auto")
    stray = ingest_email(mail("Vacation", mid="<v@example.org>", extra="Precedence: bulk\r\n"), mailbox=desk)
    assert stray is None and Ticket.objects.count() == 1


def test_bounce_marks_the_outbound_message_failed_without_reopening(desk):
    ticket = TicketFactory(team=desk.team, status="resolved")
    outbound = MessageFactory(
        ticket=ticket, direction="outbound", author_contact=None, delivery_status="sent",
        external_id="<helpdesk.0a2f57927e77.8232972060@example.com>",
    )  # fmt: skip
    ingest_email(corpus_bytes("023-bounce-dsn-postfix.eml"), mailbox=desk)
    outbound.refresh_from_db()
    ticket.refresh_from_db()
    assert outbound.delivery_status == "failed" and "User unknown" in outbound.error
    assert ticket.status == "resolved" and Ticket.objects.count() == 1


def test_mail_from_the_desks_own_address_is_ignored(desk):
    assert ingest_email(mail(sender="Example Support <support@example.com>"), mailbox=desk) is None
    assert not Ticket.objects.exists()


def test_mail_claiming_an_agents_address_is_a_customer_message(desk):
    agent = AgentFactory(email="anna.lindqvist@example.com", teams=[desk.team])
    message = ingest_email(mail(sender="Anna <anna.lindqvist@example.com>"), mailbox=desk)
    assert message.direction == "inbound" and message.author_agent is None
    assert message.author_contact is not None and message.meta["from_agent_address"] is True
    assert not Message.objects.filter(author_agent=agent).exists()


def test_x_headers_never_set_ticket_fields(desk):
    other_team = TeamFactory(name="Billing")
    extra = f"X-Priority: 1 (Highest)\r\nX-Helpdesk-Status: closed\r\nX-Helpdesk-Team: {other_team.pk}\r\nX-Helpdesk-Assignee: 1\r\nImportance: high\r\n"
    ticket = ingest_email(mail(extra=extra), mailbox=desk).ticket
    assert (ticket.priority, ticket.status, ticket.team_id, ticket.assignee_id) == ("normal", "new", desk.team_id, None)


def test_oversized_message_is_stored_truncated_and_flagged(desk):
    desk.max_message_bytes = 100_000
    raw = corpus_bytes("028-one-megabyte-body.eml")
    message = ingest_email(raw, mailbox=desk)
    assert message is not None and message.meta["truncated"]
    assert "the full sync log from last night's failed import" in message.text


def test_inline_image_and_attachments_are_stored(desk):
    message = ingest_email(corpus_bytes("004-inline-cid-image.eml"), mailbox=desk)
    (image,) = message.attachments.all()
    assert image.inline and image.content_id == "ii_m7xcqoqbv0" and image.content_type == "image/png"
    message = ingest_email(corpus_bytes("005-attachments-pdf-txt-png.eml"), mailbox=desk)
    assert sorted(a.filename for a in message.attachments.all()) == ["kuvakaappaus.png", "käyttöloki.txt", "lasku-2025-117.pdf"]


def test_stripped_reply_keeps_the_full_original(desk):
    message = ingest_email(corpus_bytes("008-german-schrieb-latin1.eml"), mailbox=desk)
    assert "an unser Lager in Hamburg" not in message.text
    assert "an unser Lager in Hamburg" in message.full_text
