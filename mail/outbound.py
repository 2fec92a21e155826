"""Agent replies by email: `[#<ticket id>]` in the subject, threading headers, one Message-ID per reply.

The Message-ID is stored on the Message (external_id) so the customer's answer threads back by In-Reply-To.
"""

from __future__ import annotations

from email.utils import formataddr, make_msgid

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from tickets.adapters import PermanentSendError, ReplyRefused, TransientSendError
from tickets.models import Direction, Message, Ticket

from .connection import email_backend_kwargs


class EmailAdapter:
    queued = True

    def check(self, ticket: Ticket) -> None:
        if not ticket.contact.email:
            raise ReplyRefused("This customer has no email address.")

    def send(self, message: Message) -> str:
        ticket = message.ticket
        to = ticket.contact.email
        if not to:
            raise PermanentSendError("no email address")
        domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
        message_id = make_msgid(idstring=f"helpdesk.{ticket.pk}", domain=domain)
        refs = list(
            Message.objects.filter(ticket=ticket, channel="email", direction=Direction.INBOUND)
            .exclude(external_id="")
            .order_by("-created_at")
            .values_list("external_id", flat=True)[:10]
        )
        headers = {"Message-ID": message_id, "Auto-Submitted": "no"}
        if refs:
            headers["In-Reply-To"] = refs[0]
            headers["References"] = " ".join(reversed(refs))
        agent = message.author_agent
        from_name = agent.get_full_name() if agent else ""
        email = EmailMessage(
            subject=reply_subject(ticket),
            body=message.text,
            from_email=formataddr((_one_line(from_name), settings.DEFAULT_FROM_EMAIL)) if from_name else settings.DEFAULT_FROM_EMAIL,
            to=[to],
            headers=headers,
            connection=get_connection(**email_backend_kwargs()),
        )
        for attachment in message.attachments.all():
            with attachment.file.open("rb") as fh:
                email.attach(attachment.filename, fh.read(), attachment.content_type)
        try:
            email.send()
        except OSError as exc:  # connection refused, timeouts, SMTP errors
            raise TransientSendError(str(exc)) from exc
        return message_id


def reply_subject(ticket: Ticket) -> str:
    subject = _one_line(ticket.subject) or "Your request"
    token = f"[#{ticket.pk}]"
    if token not in subject:
        subject = f"{subject} {token}"
    return subject if subject.lower().startswith("re:") else f"Re: {subject}"


def _one_line(value: str) -> str:
    """CR/LF in a customer-controlled string never reaches a header."""
    return " ".join((value or "").split())
