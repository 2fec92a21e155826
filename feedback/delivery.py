"""Sending the survey link when the customer did not answer in the widget (or for resolved email tickets).

SMS, WhatsApp and Messenger tickets get it through the ticket's own channel adapter (as a bot message in the
ticket, so the timeline shows it); everyone else by email when the contact has an address."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.adapters import ReplyRefused, get_adapter
from tickets.models import Channel
from tickets.services import InvalidMessage, reply

from .models import Survey
from .services import survey_link

log = logging.getLogger(__name__)

MESSAGING = (Channel.SMS, Channel.WHATSAPP, Channel.MESSENGER)


def deliver_link(survey_id: int) -> str:
    """Send the link once, if the survey is still open. Returns how it went out ("" when not sent).

    The row stays locked while sending, so two workers never both send; an exception rolls back the mark
    and the task retries."""
    with transaction.atomic():
        survey = Survey.objects.select_for_update().filter(pk=survey_id).first()
        if survey is None or survey.answered_at is not None or survey.link_sent_at is not None:
            return ""
        if survey.expires_at <= timezone.now():
            return ""
        ticket = survey.ticket
        text = _("How did we do? Please rate our help with your request #%(id)s: %(url)s") % {"id": ticket.pk, "url": survey_link(survey)}
        via = _send(survey, text)
        survey.link_sent_at = timezone.now()
        survey.link_sent_via = via
        survey.save(update_fields=["link_sent_at", "link_sent_via"])
    return via


def _send(survey: Survey, text: str) -> str:
    ticket = survey.ticket
    contact = ticket.contact
    if ticket.channel in MESSAGING and get_adapter(ticket.channel) is not None:
        try:
            reply(ticket=ticket, agent=None, text=text, bot=True, channel=ticket.channel)
            return ticket.channel
        except (ReplyRefused, InvalidMessage) as exc:  # e.g. WhatsApp's 24-hour window: fall back to email
            log.info("survey %s: %s refused (%s)", survey.pk, ticket.channel, exc)
    if contact.email:
        _email(survey, contact.email, text)
        return "email"
    if contact.phone and get_adapter(Channel.SMS) is not None:
        try:
            reply(ticket=ticket, agent=None, text=text, bot=True, channel=Channel.SMS)
            return Channel.SMS
        except (ReplyRefused, InvalidMessage) as exc:
            log.info("survey %s: sms refused (%s)", survey.pk, exc)
    return "none"


def _email(survey: Survey, to: str, text: str) -> None:
    try:
        from mail.connection import email_backend_kwargs

        connection = get_connection(**email_backend_kwargs())
    except ImportError:
        connection = get_connection()
    subject = _("How did we do? [#%(id)s]") % {"id": survey.ticket_id}
    EmailMessage(subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[to], headers={"Auto-Submitted": "auto-generated"}, connection=connection).send()
