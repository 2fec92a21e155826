"""Agent replies by email: from the mailbox the customer wrote to, through its SMTP server (or EMAIL_URL),
with `[#<ticket id>]` in the subject, a Message-ID, In-Reply-To and References, text and HTML parts and the
attachments. `tickets.tasks.deliver_message` calls `send` in Celery and retries TransientSendError.

The Message-ID is stored on the Message (external_id) before the first attempt, so a retry sends the same
id and the customer's answer threads back by In-Reply-To even while the send is still being retried.
Automatic mail (bot messages: acknowledgements, surveys) says `Auto-Submitted: auto-generated` and goes at
most AUTO_MAIL_PER_HOUR times per recipient per hour, so two robots cannot keep each other busy.
"""

from __future__ import annotations

import smtplib
from datetime import timedelta
from email.utils import formataddr, make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.utils import timezone
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext as _

from tickets.adapters import PermanentSendError, ReplyRefused, TransientSendError
from tickets.crypto import blind_index
from tickets.models import Direction, Message, Ticket

from .connection import email_backend_kwargs
from .models import AutoMailLog, Mailbox

AUTO_MAIL_PER_HOUR = 5
REFERENCES_MAX = 20


class EmailAdapter:
    queued = True

    def check(self, ticket: Ticket) -> None:
        if not ticket.contact.email:
            raise ReplyRefused(_("This customer has no email address."))

    def send(self, message: Message) -> str:
        ticket = message.ticket
        to = _one_line(ticket.contact.email)
        if not to or "@" not in to:
            raise PermanentSendError(_("The customer has no valid email address."))
        if message.is_bot and not _allow_auto_mail(to):
            raise PermanentSendError(_("Not sent: more than %(count)s automatic emails to this address within an hour.") % {"count": AUTO_MAIL_PER_HOUR})
        mailbox = mailbox_for(ticket)
        from_address = mailbox.email_address if mailbox else settings.DEFAULT_FROM_EMAIL
        message_id = _message_id(message, from_address)
        email = build_email(message, ticket=ticket, to=to, from_address=from_address, message_id=message_id, mailbox=mailbox)
        try:
            email.send()
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
            raise PermanentSendError(_("The mail server refused the message: %(reason)s") % {"reason": _smtp_reason(exc)}) from exc
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600:
                raise PermanentSendError(_("The mail server refused the message: %(reason)s") % {"reason": f"{exc.smtp_code} {_smtp_reason(exc)}"}) from exc
            raise TransientSendError(f"{exc.smtp_code} {_smtp_reason(exc)}") from exc
        except (OSError, smtplib.SMTPException) as exc:  # connection refused, timeouts, dropped sessions
            raise TransientSendError(str(exc) or type(exc).__name__) from exc
        if message.is_bot:
            AutoMailLog.objects.create(address_hash=blind_index(to))
        return message_id


def build_email(
    message: Message, *, ticket: Ticket, to: str, from_address: str, message_id: str, mailbox: Mailbox | None
) -> EmailMultiAlternatives:
    thread = _thread_ids(ticket, exclude=message.pk)
    headers = {"Message-ID": message_id, "Auto-Submitted": "auto-generated" if message.is_bot else "no"}
    if thread["in_reply_to"]:
        headers["In-Reply-To"] = thread["in_reply_to"]
    if thread["references"]:
        headers["References"] = " ".join(thread["references"])
    if message.is_bot:
        headers["X-Auto-Response-Suppress"] = "All"
    agent = message.author_agent
    display = _one_line(agent.get_full_name()) if agent else ""
    display = f"{display} ({mailbox.name})" if display and mailbox else display or (mailbox.name if mailbox else "")
    email = EmailMultiAlternatives(
        subject=reply_subject(ticket),
        body=message.text,
        from_email=formataddr((_one_line(display), from_address)) if display else from_address,
        to=[formataddr((_one_line(ticket.contact.name), to))] if ticket.contact.name else [to],
        headers=headers,
        connection=get_connection(**email_backend_kwargs(mailbox.smtp_url if mailbox and mailbox.smtp_url else None)),
    )
    email.attach_alternative(linebreaks(escape(message.text)), "text/html")
    for attachment in message.attachments.all():
        with attachment.file.open("rb") as fh:
            email.attach(_one_line(attachment.filename), fh.read(), attachment.content_type)
    return email


def mailbox_for(ticket: Ticket) -> Mailbox | None:
    """The mailbox the customer last wrote to, else the first one of the ticket's team."""
    last = (
        Message.objects.filter(ticket=ticket, channel="email", direction=Direction.INBOUND, meta__has_key="mailbox")
        .order_by("-created_at", "-id")
        .values_list("meta", flat=True)
        .first()
    )
    if last:
        mailbox = Mailbox.objects.filter(pk=last.get("mailbox")).first()
        if mailbox is not None:
            return mailbox
    if ticket.team_id:
        return Mailbox.objects.filter(team_id=ticket.team_id).order_by("id").first()
    return None


def reply_subject(ticket: Ticket) -> str:
    subject = _one_line(ticket.subject) or "Your request"
    token = f"[#{ticket.pk}]"
    if token not in subject:
        subject = f"{subject} {token}"
    return subject if subject.lower().startswith("re:") else f"Re: {subject}"


def _message_id(message: Message, from_address: str) -> str:
    if message.external_id:
        return message.external_id  # a retry: same id as the first attempt
    domain = from_address.rpartition("@")[2] or "localhost"
    message_id = make_msgid(idstring=f"helpdesk.{message.ticket_id}", domain=domain)
    with transaction.atomic():
        Message.objects.filter(pk=message.pk, external_id="").update(external_id=message_id)
    message.external_id = Message.objects.filter(pk=message.pk).values_list("external_id", flat=True).get()
    return message.external_id


def _thread_ids(ticket: Ticket, *, exclude: int) -> dict:
    """In-Reply-To: the customer's latest email; References: the thread's ids, oldest first."""
    rows = list(
        Message.objects.filter(ticket=ticket, channel="email")
        .exclude(pk=exclude)
        .exclude(external_id="")
        .exclude(direction=Direction.NOTE)
        .order_by("-created_at", "-id")
        .values_list("external_id", "direction")[:REFERENCES_MAX]
    )
    ids = [_one_line(mid) for mid, _direction in rows if mid.startswith("<") and mid.endswith(">")]
    inbound = [_one_line(mid) for mid, direction in rows if direction == Direction.INBOUND and mid.startswith("<")]
    return {"in_reply_to": inbound[0] if inbound else (ids[0] if ids else ""), "references": list(reversed(ids))}


def _allow_auto_mail(address: str) -> bool:
    since = timezone.now() - timedelta(hours=1)
    return AutoMailLog.objects.filter(address_hash=blind_index(address), sent_at__gte=since).count() < AUTO_MAIL_PER_HOUR


def _smtp_reason(exc: Exception) -> str:
    error = getattr(exc, "smtp_error", b"")
    if isinstance(error, bytes):
        error = error.decode(errors="replace")
    return _one_line(str(error or exc))[:200]


def _one_line(value: str) -> str:
    """CR/LF in a customer-controlled string never reaches a header."""
    return " ".join((value or "").split())
