"""Agent replies by SMS and WhatsApp through the twilio REST client (base URL overridable for tests).
A reply on a call's ticket (channel `voice`) goes to the caller as an SMS from the number they called.

A reply goes from the number the customer wrote to; a reply longer than Twilio's 1,600-character body
limit goes out as several messages, each remembered by its MessageSid so a retry never resends a part and
status callbacks for any part find the reply.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

import requests
from django.conf import settings
from django.db import IntegrityError
from django.utils import timezone
from django.utils.translation import gettext as _
from twilio.base.exceptions import TwilioException, TwilioRestException

from tickets.adapters import PermanentSendError, ReplyRefused, TransientSendError
from tickets.models import Channel, ContactIdentity, Direction, IdentityKind, Message, Ticket

from .models import OutboundPart, PhoneNumber
from .parsing import split_text
from .services import apply_early_status, is_opted_out
from .twilio_api import public_url, rest_client

WHATSAPP_WINDOW = timedelta(hours=24)


class TwilioMessagingAdapter:
    queued = True

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.kind = IdentityKind.WHATSAPP if channel == Channel.WHATSAPP else IdentityKind.PHONE

    def check(self, ticket: Ticket) -> None:
        """Refuse, with a reason the agent can act on, what Twilio would refuse or the customer asked us not to."""
        address = self._address(ticket)
        if not address:
            raise ReplyRefused(_("This customer has no number to reply to on %(channel)s.") % {"channel": self._label()})
        if is_opted_out(kind=self.kind, address=address):
            raise ReplyRefused(
                _("The customer opted out by texting STOP. They must text START before you can message them here.")
            )
        if self._sender(ticket) is None:
            raise ReplyRefused(_("No phone number is set up for %(channel)s replies.") % {"channel": self._label()})
        if self.channel == Channel.WHATSAPP and not _within_window(ticket):
            raise ReplyRefused(
                _("WhatsApp allows free-form replies only within 24 hours of the customer's last message.")
            )

    def send(self, message: Message) -> str:
        ticket = message.ticket
        address = self._address(ticket)
        sender = self._sender(ticket)
        if not address or sender is None:
            raise PermanentSendError("no recipient or sender number")
        if is_opted_out(kind=self.kind, address=address):
            raise PermanentSendError("the customer opted out (STOP)")
        if not settings.TWILIO_ACCOUNT_SID or not settings.TWILIO_AUTH_TOKEN:
            raise PermanentSendError("Twilio is not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)")
        bodies = split_text(message.text)
        if not bodies:
            raise PermanentSendError("SMS and WhatsApp replies carry text; attachments alone are not sent")
        prefix = "whatsapp:" if self.channel == Channel.WHATSAPP else ""
        callback = public_url("/hooks/twilio/status/")
        done = dict(OutboundPart.objects.filter(message=message).values_list("index", "sid"))
        client = rest_client()
        for index, body in enumerate(bodies):
            if index in done:
                continue  # sent by an earlier attempt
            kwargs = {"to": prefix + address, "from_": prefix + sender.number, "body": body}
            if callback:
                kwargs["status_callback"] = callback
            sid = _create(client, kwargs)
            with contextlib.suppress(IntegrityError):
                OutboundPart.objects.create(message=message, index=index, sid=sid)
            done[index] = sid
            apply_early_status(message, sid)
        return done.get(0, "")

    def _address(self, ticket: Ticket) -> str:
        identity = (
            ContactIdentity.objects.filter(contact=ticket.contact_id, kind=self.kind).order_by("-created_at").first()
        )
        if identity is not None:
            return identity.address
        return ticket.contact.phone if self.kind == IdentityKind.PHONE else ""

    def _sender(self, ticket: Ticket) -> PhoneNumber | None:
        """The number the customer last wrote to (or called), else one of the team's numbers for this channel."""
        last = (
            Message.objects.filter(ticket=ticket, channel=self.channel, direction=Direction.INBOUND)
            .order_by("-created_at", "-id")
            .values_list("meta", flat=True)
            .first()
        )
        flag = {"whatsapp": True} if self.channel == Channel.WHATSAPP else {"sms": True}
        numbers = PhoneNumber.objects.filter(**flag)
        last = last or {}
        to = (last.get("twilio") or {}).get("phone_number") or (last.get("call") or {}).get("to")
        return (
            (numbers.filter(number=to).first() if to else None)
            or numbers.filter(team=ticket.team_id).first()
            or numbers.first()
        )

    def _label(self) -> str:
        return "WhatsApp" if self.channel == Channel.WHATSAPP else "SMS"


def _create(client, kwargs: dict) -> str:
    try:
        return client.messages.create(**kwargs).sid
    except TwilioRestException as exc:
        if exc.status == 429 or exc.status >= 500:
            raise TransientSendError(f"Twilio HTTP {exc.status}") from exc
        raise PermanentSendError(f"Twilio error {exc.code}: {exc.msg}"[:255]) from exc
    except (requests.RequestException, TwilioException) as exc:
        raise TransientSendError(type(exc).__name__) from exc


def _within_window(ticket: Ticket) -> bool:
    last = (
        Message.objects.filter(ticket=ticket, channel=Channel.WHATSAPP, direction=Direction.INBOUND)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return last is not None and timezone.now() - last <= WHATSAPP_WINDOW



