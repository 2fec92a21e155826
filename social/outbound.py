"""Agent replies on Messenger through the Graph API Send API, inside Meta's 24-hour messaging window."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.adapters import PermanentSendError, ReplyRefused, TransientSendError
from tickets.models import Channel, ContactIdentity, Direction, IdentityKind, Message, Ticket

from . import graph
from .models import MessengerPage
from .parsing import split_text

WINDOW = timedelta(hours=24)
OUTSIDE_WINDOW_SUBCODE = 2018278  # "This message is sent outside of allowed window"


class MessengerAdapter:
    queued = True

    def check(self, ticket: Ticket) -> None:
        last = _last_inbound(ticket)
        if last is None or _psid(ticket) == "":
            raise ReplyRefused(_("This customer has not written to us on Messenger, so we cannot message them there."))
        if timezone.now() - last.created_at > WINDOW:
            raise ReplyRefused(
                _("Messenger allows replies only within 24 hours of the customer's last message. "
                  "The customer last wrote %(when)s; reply on another channel or wait for them to write again.")
                % {"when": timezone.localtime(last.created_at).strftime("%Y-%m-%d %H:%M")}
            )  # fmt: skip
        if _page(last) is None:
            raise ReplyRefused(_("The Facebook page of this conversation is no longer connected."))

    def send(self, message: Message) -> str:
        ticket = message.ticket
        last = _last_inbound(ticket)
        page = _page(last) if last else None
        psid = _psid(ticket)
        if page is None or not psid:
            raise PermanentSendError("no page or recipient for this conversation")
        if not page.access_token:
            raise PermanentSendError("the page has no access token")
        texts = split_text(message.text)
        if not texts:
            raise PermanentSendError("Messenger replies carry text; attachments alone are not sent")
        sent = list(message.meta.get("messenger_parts", []))
        for index, text in enumerate(texts):
            if index < len(sent):
                continue  # sent by an earlier attempt
            try:
                mid = graph.send_text(page_id=page.page_id, token=page.access_token, psid=psid, text=text)
            except graph.GraphError as exc:
                if exc.subcode == OUTSIDE_WINDOW_SUBCODE:
                    raise PermanentSendError("outside Messenger's 24-hour window") from exc
                if exc.transient:
                    raise TransientSendError(str(exc)) from exc
                raise PermanentSendError(f"Graph API error {exc.code}: {exc}"[:255]) from exc
            sent.append(mid)
            Message.objects.filter(pk=message.pk).update(meta={**message.meta, "messenger_parts": sent})
        return sent[0] if sent else ""


def _last_inbound(ticket: Ticket) -> Message | None:
    return (
        Message.objects.filter(ticket=ticket, channel=Channel.MESSENGER, direction=Direction.INBOUND)
        .order_by("-created_at", "-id")
        .first()
    )


def _page(message: Message) -> MessengerPage | None:
    page_id = (message.meta.get("messenger") or {}).get("page_id")
    return MessengerPage.objects.filter(page_id=page_id).first() if page_id else None


def _psid(ticket: Ticket) -> str:
    identity = ContactIdentity.objects.filter(contact=ticket.contact_id, kind=IdentityKind.MESSENGER).order_by("-created_at").first()
    return identity.address if identity else ""
