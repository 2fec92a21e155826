"""Mail into the ticket stream: the decisions that need the database (threading fallback, the desk's own
addresses, agents' addresses, bounces), then `tickets.ingest`."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from tickets.crypto import blind_indexes, normalize
from tickets.inbound import InboundAttachment, InboundMessage, ThreadHints
from tickets.models import Channel, ContactIdentity, DeliveryStatus, Direction, Message, Ticket
from tickets.services import ingest_many, update_delivery

from .models import DEFAULT_MAX_MESSAGE_BYTES, Mailbox
from .parsing import parse_message

log = logging.getLogger(__name__)


def ingest_email(
    raw: bytes,
    *,
    mailbox: Mailbox | None = None,
    original_size: int | None = None,
    context: MailContext | None = None,
) -> Message | None:
    """Store one email as a ticket message. Idempotent (Message-ID, or a content hash without one).

    Returns None when nothing is stored: mail from the desk's own addresses, or an auto-reply/bounce that
    continues no ticket. A bounce also marks the outbound message it reports as failed.
    """
    return ingest_parsed(parse_raw(raw, mailbox=mailbox, original_size=original_size), context=context)


@dataclass(frozen=True)
class MailContext:
    """What a poll run looks up once instead of per message."""

    own_addresses: frozenset[str]
    agent_addresses: frozenset[str]

    @classmethod
    def load(cls) -> MailContext:
        agents = get_user_model().objects.filter(is_active=True).exclude(email="").values_list("email", flat=True)
        return cls(own_addresses=frozenset(desk_addresses()), agent_addresses=frozenset(normalize(a) for a in agents))


def parse_raw(raw: bytes, *, mailbox: Mailbox | None = None, original_size: int | None = None) -> InboundMessage:
    """The pure step (no database): bytes to an InboundMessage; an unreadable message is kept whole."""
    return _parse(raw, mailbox, original_size)


def ingest_parsed(inbound: InboundMessage, *, context: MailContext | None = None) -> Message | None:
    return ingest_parsed_many([inbound], context=context)[0]


def ingest_parsed_many(inbounds: list[InboundMessage], *, context: MailContext | None = None) -> list[Message | None]:
    """Parsed messages into the ticket stream, in order, through one `tickets.ingest_many` call (one
    transaction, lookups once per batch). None for what is not stored (the desk's own mail, noise)."""
    context = context or MailContext.load()
    kept: list[InboundMessage | None] = []  # None: the desk's own mail, not stored
    for inbound in inbounds:
        if inbound.sender_address in context.own_addresses:
            log.info("mail from the desk's own address ignored (mailbox %s)", inbound.meta.get("mailbox", "-"))
            kept.append(None)
            continue
        inbound = _thread_fallback(inbound)
        if inbound.sender_address in context.agent_addresses:
            # From is trivially forged: mail "from" an agent's address is a customer message, flagged, never
            # an agent reply.
            inbound = replace(inbound, meta={**inbound.meta, "from_agent_address": True})
        kept.append(inbound)
    stored = iter(ingest_many([inbound for inbound in kept if inbound is not None]))
    results: list[Message | None] = []
    for inbound in kept:
        if inbound is None:
            results.append(None)
            continue
        results.append(next(stored).message)
        bounce = inbound.meta.get("bounce") or {}
        if bounce.get("message_id"):
            _mark_bounced(bounce)
    return results


def desk_addresses() -> set[str]:
    """Addresses the desk sends from: mail from them is our own (loops, copies), never a customer's."""
    addresses = {normalize(a) for a in Mailbox.objects.values_list("email_address", flat=True)}
    for name in ("DEFAULT_FROM_EMAIL", "SERVER_EMAIL"):
        value = getattr(settings, name, "")
        if value and "@" in value:
            addresses.add(normalize(value.rpartition("<")[2].rstrip(">")))
    return addresses


def finish_parsed(inbound: InboundMessage | None, raw: bytes, *, mailbox: Mailbox | None, original_size: int | None) -> InboundMessage:
    """What `parse_raw` returns, for a message another process parsed (None: it could not; parsed here)."""
    if inbound is None:
        return _parse(raw, mailbox, original_size)
    return _in_mailbox(inbound, mailbox)


def parse_options(mailbox: Mailbox | None) -> tuple[int, int | None]:
    """(max bytes, team id) that parsing a message of this mailbox uses."""
    return (mailbox.max_message_bytes if mailbox else DEFAULT_MAX_MESSAGE_BYTES), (mailbox.team_id if mailbox else None)


def _parse(raw: bytes, mailbox: Mailbox | None, original_size: int | None) -> InboundMessage:
    max_bytes, team_id = parse_options(mailbox)
    try:
        inbound = parse_message(raw, team_id=team_id, max_bytes=max_bytes, original_size=original_size)
    except Exception:  # noqa: BLE001 - a message we cannot read is kept whole, never dropped
        log.exception("unreadable message kept as an attachment (mailbox %s)", mailbox.pk if mailbox else "-")
        inbound = _unreadable(raw[:max_bytes], team_id)
    return _in_mailbox(inbound, mailbox)


def _in_mailbox(inbound: InboundMessage, mailbox: Mailbox | None) -> InboundMessage:
    if mailbox is not None:
        inbound = replace(inbound, meta={**inbound.meta, "mailbox": mailbox.pk})
    return inbound


def _unreadable(raw: bytes, team_id: int | None) -> InboundMessage:
    import hashlib

    return InboundMessage(
        channel=Channel.EMAIL,
        external_id=f"<sha256.{hashlib.sha256(raw).hexdigest()[:48]}@unreadable.invalid>",
        sender_kind="email",
        sender_address="unknown@invalid",
        subject=_("Unreadable message"),
        text=_("This message could not be read. The original is attached."),
        attachments=(InboundAttachment(filename="original.eml", content_type="message/rfc822", content=raw),),
        thread=ThreadHints(continue_latest=False),
        team_id=team_id,
        meta={"unreadable": True},
    )


def _thread_fallback(inbound: InboundMessage) -> InboundMessage:
    """References win; the `[#id]` subject token is only a fallback, and only for the ticket's own customer
    (a stranger cannot append to someone else's ticket by guessing a number)."""
    hints = inbound.thread
    if hints.ticket_id is None:
        return inbound
    referenced = hints.references and Message.objects.filter(channel=Channel.EMAIL, external_id__in=hints.references).exists()
    if referenced or not _is_ticket_customer(hints.ticket_id, inbound.sender_address):
        return replace(inbound, thread=replace(hints, ticket_id=None))
    return inbound


def _is_ticket_customer(ticket_id: int, address: str) -> bool:
    contact_id = Ticket.objects.filter(pk=ticket_id).values_list("contact_id", flat=True).first()
    if contact_id is None:
        return False
    return ContactIdentity.objects.filter(contact_id=contact_id, kind="email", address_hash__in=blind_indexes(address)).exists()


def _mark_bounced(bounce: dict) -> None:
    outbound = Message.objects.filter(
        channel=Channel.EMAIL, external_id=bounce["message_id"], direction=Direction.OUTBOUND
    ).first()
    if outbound is None or outbound.delivery_status == DeliveryStatus.FAILED:
        return
    reason = bounce.get("diagnostic") or bounce.get("status") or ""
    error = _("Bounced: %(reason)s") % {"reason": reason} if reason else _("Bounced")
    update_delivery(message=outbound, status=DeliveryStatus.FAILED, error=error[:255])
