"""Every write to the ticket stream. One transaction each; real-time events are published after commit."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _

from . import events
from .adapters import ReplyRefused, get_adapter
from .attachments import store_attachment
from .crypto import blind_indexes, normalize
from .inbound import InboundAttachment, InboundMessage
from .models import (
    ACTIVE_STATUSES,
    Channel,
    Contact,
    ContactIdentity,
    DeliveryStatus,
    Direction,
    IdentityKind,
    Message,
    Status,
    Tag,
    Team,
    Ticket,
    TicketEvent,
)
from .representations import message_dict, ticket_dict

log = logging.getLogger(__name__)

CHANNELS = set(Channel.values)
IDENTITY_KINDS = set(IdentityKind.values)


class InvalidMessage(ValueError):
    """The message cannot be stored as given; the text says why."""


# ---------------------------------------------------------------- ingest


def ingest(message: InboundMessage) -> Message | None:
    """Store a customer's message in the one ticket stream and announce it after commit.

    Idempotent on (channel, external_id): calling it again returns the stored Message and creates nothing.
    Returns None only for machine-generated mail (`auto`) that continues no ticket.
    """
    return ingest_once(message).message


@dataclass(frozen=True)
class Ingested:
    message: Message | None
    duplicate: bool  # already stored by an earlier delivery: nothing was created or announced now


def ingest_once(message: InboundMessage) -> Ingested:
    """`ingest`, also telling whether this delivery was a repeat (e.g. a client resending after a lost ack),
    for callers that must not act twice on one message."""
    _validate(message)
    if message.external_id:
        existing = _find_existing(message)
        if existing is not None:
            return Ingested(existing, duplicate=True)
    retries = 2
    while True:
        try:
            with transaction.atomic():
                return Ingested(_ingest(message), duplicate=False)
        except IntegrityError:
            # A concurrent delivery of the same message won the race: it is stored once, return it.
            existing = _find_existing(message) if message.external_id else None
            if existing is not None:
                return Ingested(existing, duplicate=True)
            # Otherwise a concurrent message created the same contact identity first: the retry finds it.
            if not retries:
                raise
            retries -= 1


def _validate(message: InboundMessage) -> None:
    if message.channel not in CHANNELS:
        raise InvalidMessage(_("Unknown channel: %(channel)s") % {"channel": message.channel})
    if message.sender_kind not in IDENTITY_KINDS or not message.sender_address.strip():
        raise InvalidMessage(_("A message needs a sender address."))
    if not (message.text.strip() or message.html.strip() or message.attachments or message.subject.strip()):
        raise InvalidMessage(_("The message is empty."))
    if len(message.external_id) > 255:
        raise InvalidMessage(_("The external id is too long."))


def _find_existing(message: InboundMessage) -> Message | None:
    return Message.objects.filter(channel=message.channel, external_id=message.external_id).first()


def _ingest(message: InboundMessage) -> Message | None:
    now = timezone.now()
    received_at = message.received_at or now
    contact = resolve_contact(kind=message.sender_kind, address=message.sender_address, name=message.sender_name)
    if message.contact_email:
        _attach_identity(contact, IdentityKind.EMAIL, message.contact_email)

    ticket = _thread(message, contact)
    if ticket is None and message.auto:
        return None
    created = ticket is None
    if created:
        # Everything the message sets on the ticket is known now: one INSERT, no UPDATE after it.
        ticket = Ticket.objects.create(
            subject=_subject(message),
            channel=message.channel,
            contact=contact,
            team_id=message.team_id or _default_team_id(),
            created_at=received_at,
            last_message_at=received_at,
            last_customer_message_at=None if message.auto else received_at,
            unread=not message.auto,
            updated_at=now,
        )
        TicketEvent.objects.create(ticket=ticket, kind="created", data={"channel": message.channel})

    text, meta = _bounded_text(message)
    stored = Message.objects.create(
        ticket=ticket,
        direction=Direction.INBOUND,
        channel=message.channel,
        author_contact=contact,
        text=text,
        html=_sanitized(message.html),
        full_text=message.full_text[: settings.MESSAGE_MAX_CHARS * 2],
        external_id=message.external_id,
        delivery_status=DeliveryStatus.RECEIVED,
        meta=meta,
        created_at=received_at,
    )
    rejected = [r for a in message.attachments if (r := store_attachment(stored, a)) is not None]
    if rejected:
        stored.meta["rejected_attachments"] = rejected
        stored.save(update_fields=["meta"])

    if not created:
        changed = ["last_message_at", "updated_at"]
        if not message.auto:
            if ticket.status in (Status.RESOLVED, Status.PENDING):
                TicketEvent.objects.create(ticket=ticket, kind="reopened", data={"from": ticket.status})
                ticket.status = Status.OPEN
                ticket.resolved_at = None
                changed += ["status", "resolved_at"]
            ticket.last_customer_message_at = received_at
            ticket.unread = True
            changed += ["last_customer_message_at", "unread"]
        ticket.last_message_at = max(ticket.last_message_at, received_at)
        ticket.updated_at = now
        ticket.save(update_fields=changed)

    _announce_ticket(ticket, created=created, loaded=True)
    # The stored message, its ticket and author are in memory: announce without reading them back.
    _announce_message(stored, attachments=list(stored.attachments.all()) if message.attachments else [])
    return stored


def resolve_contact(*, kind: str, address: str, name: str = "") -> Contact:
    """Find the contact who owns this identity, or create both. Follows merges to the surviving contact."""
    identity = (
        ContactIdentity.objects.select_related("contact")
        .filter(kind=kind, address_hash__in=blind_indexes(address))
        .first()
    )
    if identity is not None:
        contact = identity.contact
        while contact.merged_into_id:
            contact = contact.merged_into
        if name and not contact.name:
            contact.name = name[:200]
            contact.save(update_fields=["name"])
        return contact
    contact = Contact.objects.create(
        name=name[:200],
        email=normalize(address) if kind == IdentityKind.EMAIL else "",
        phone=address.strip() if kind in (IdentityKind.PHONE, IdentityKind.WHATSAPP) else "",
    )
    ContactIdentity.objects.create(contact=contact, kind=kind, address=_address(kind, address))
    return contact


def _attach_identity(contact: Contact, kind: str, address: str) -> None:
    if ContactIdentity.objects.filter(kind=kind, address_hash__in=blind_indexes(address)).exists():
        return  # already someone's: never merge people on an unverified claim
    ContactIdentity.objects.create(contact=contact, kind=kind, address=_address(kind, address))
    if kind == IdentityKind.EMAIL and not contact.email:
        contact.email = normalize(address)
        contact.save()


def _address(kind: str, address: str) -> str:
    return normalize(address) if kind == IdentityKind.EMAIL else address.strip()


def _thread(message: InboundMessage, contact: Contact) -> Ticket | None:
    hints = message.thread
    if hints.ticket_id:
        # Lock it straight away (the common case: a chat's or a token's ticket, not merged).
        ticket = _lock_id(hints.ticket_id)
        if ticket is not None and ticket.merged_into_id:
            target = _follow_merges(ticket)
            ticket = _lock(target) if target is not None and not target.merged_into_id else None
        if ticket is not None and ticket.status != Status.CLOSED:
            return ticket
    if hints.references:
        ref = (
            Message.objects.filter(external_id__in=hints.references, channel=message.channel)
            .select_related("ticket")
            .order_by("-created_at")
            .first()
        )
        ticket = _follow_merges(ref.ticket) if ref else None
        if ticket is not None and ticket.status != Status.CLOSED:
            return _lock(ticket)
    continue_latest = hints.continue_latest
    if continue_latest is None:
        continue_latest = message.channel != Channel.EMAIL
    if continue_latest:
        ticket = (
            Ticket.objects.filter(contact=contact, channel=message.channel, merged_into__isnull=True)
            .exclude(status=Status.CLOSED)
            .order_by("-last_message_at")
            .first()
        )
        if ticket is not None:
            return _lock(ticket)
    return None


def _follow_merges(ticket: Ticket | None) -> Ticket | None:
    seen = set()
    while ticket is not None and ticket.merged_into_id and ticket.pk not in seen:
        seen.add(ticket.pk)
        ticket = ticket.merged_into
    return ticket


def _lock_id(ticket_id: int) -> Ticket | None:
    return Ticket.objects.select_for_update(of=("self",)).select_related("team", "assignee", "contact").filter(pk=ticket_id).first()


def _lock(ticket: Ticket) -> Ticket:
    """The ticket row locked for this transaction, with what its announcement shows (only the ticket's row is
    locked, not its team, contact or assignee)."""
    return Ticket.objects.select_for_update(of=("self",)).select_related("team", "assignee", "contact").get(pk=ticket.pk)


def _subject(message: InboundMessage) -> str:
    subject = " ".join(message.subject.split())  # no CR/LF ever reaches a header built from it
    if not subject:
        first_line = (message.text.strip().splitlines() or [""])[0]
        subject = first_line[:80] or _("Message from %(address)s") % {"address": message.sender_name or message.channel}
    return subject[:255]


def _bounded_text(message: InboundMessage) -> tuple[str, dict]:
    meta = dict(message.meta)
    text = message.text
    if len(text) > settings.MESSAGE_MAX_CHARS:
        meta["truncated"] = {"original_chars": len(text)}
        text = text[: settings.MESSAGE_MAX_CHARS]
    if message.auto:
        meta["auto"] = True
    return text, meta


def _sanitized(html: str) -> str:
    from .sanitize import sanitize_html

    return sanitize_html(html)


def _default_team_id() -> int | None:
    return Team.objects.order_by("id").values_list("id", flat=True).first()


# ---------------------------------------------------------------- reply


def reply(
    *,
    ticket: Ticket,
    agent: AbstractBaseUser | None,
    text: str,
    internal: bool = False,
    client_id: str = "",
    channel: str | None = None,
    attachments: Iterable[InboundAttachment] = (),
    bot: bool = False,
) -> Message:
    """Store an agent's (or the bot's) reply or internal note, then send it through the channel's adapter.

    The outbound message is stored first with status `queued`; delivery happens after commit. A resend with
    the same (agent, client_id) returns the stored message. Raises ReplyRefused when the channel cannot take
    it (the message says why) and InvalidMessage for empty or oversized text.
    """
    text = text.strip()
    attachments = tuple(attachments)
    if not text and not attachments:
        raise InvalidMessage(_("The message is empty."))
    if len(text) > settings.MESSAGE_MAX_CHARS:
        raise InvalidMessage(_("The message is too long."))
    if client_id and agent is not None:
        existing = Message.objects.filter(author_agent=agent, client_id=client_id).first()
        if existing is not None:
            return existing

    channel = channel or _reply_channel(ticket)
    adapter = None
    if not internal:
        adapter = get_adapter(channel)
        if adapter is None:
            raise ReplyRefused(_("Replies cannot be sent on the %(channel)s channel yet.") % {"channel": channel})
        adapter.check(ticket)

    now = timezone.now()
    try:
        with transaction.atomic():
            ticket = _lock(ticket)
            message = Message.objects.create(
                ticket=ticket,
                direction=Direction.NOTE if internal else Direction.OUTBOUND,
                channel=channel,
                author_agent=agent,
                is_bot=bot,
                text=text,
                client_id=client_id[:64] if agent is not None else "",
                delivery_status=DeliveryStatus.SENT if internal else DeliveryStatus.QUEUED,
                created_at=now,
            )
            for attachment in attachments:
                store_attachment(message, attachment)
            if not internal:
                if ticket.first_response_at is None and not bot:
                    ticket.first_response_at = now
                if ticket.status == Status.NEW:
                    ticket.status = Status.OPEN
                ticket.unread = False
                ticket.last_message_at = now
            ticket.updated_at = now
            ticket.save()
            _announce_ticket(ticket, created=False)
            _announce_message(message)
            if adapter is not None:
                transaction.on_commit(partial(_dispatch, message.pk, adapter))
    except IntegrityError:
        existing = Message.objects.filter(author_agent=agent, client_id=client_id).first() if client_id else None
        if existing is None:
            raise
        return existing
    return message


def _reply_channel(ticket: Ticket) -> str:
    """Reply where the customer last wrote from (a ticket can move from chat to email)."""
    last = (
        Message.objects.filter(ticket=ticket, direction=Direction.INBOUND)
        .order_by("-created_at", "-id")
        .values_list("channel", flat=True)
        .first()
    )
    return last or ticket.channel


def _dispatch(message_id: int, adapter) -> None:
    if getattr(adapter, "queued", True):
        from .tasks import deliver_message

        deliver_message.delay(message_id)
    else:
        deliver_now(message_id)


def deliver_now(message_id: int) -> None:
    """Hand a stored outbound message to its adapter and record the outcome (used by the Celery task)."""
    from .adapters import PermanentSendError

    message = Message.objects.select_related("ticket", "author_agent").get(pk=message_id)
    if message.delivery_status != DeliveryStatus.QUEUED:
        return  # already sent by an earlier attempt
    adapter = get_adapter(message.channel)
    if adapter is None:
        update_delivery(message=message, status=DeliveryStatus.FAILED, error="no adapter for this channel")
        return
    try:
        external_id = adapter.send(message)
    except PermanentSendError as exc:
        update_delivery(message=message, status=DeliveryStatus.FAILED, error=str(exc)[:255])
        return
    update_delivery(message=message, status=DeliveryStatus.SENT, external_id=external_id or "")


_STATUS_ORDER = {
    DeliveryStatus.QUEUED: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.DELIVERED: 2,
    DeliveryStatus.READ: 3,
    DeliveryStatus.RECEIVED: 0,
}


def update_delivery(*, message: Message, status: str, error: str = "", external_id: str | None = None) -> Message:
    """Move a message's delivery status forward. Callbacks may arrive in any order: never step back,
    and `failed` is final."""
    with transaction.atomic():
        message = Message.objects.select_for_update().select_related("ticket").get(pk=message.pk)
        changed = []
        if external_id and not message.external_id:
            message.external_id = external_id
            changed.append("external_id")
        current = message.delivery_status
        if current != DeliveryStatus.FAILED and (
            status == DeliveryStatus.FAILED or _STATUS_ORDER.get(status, 0) > _STATUS_ORDER.get(current, 0)
        ):
            message.delivery_status = status
            changed.append("delivery_status")
            if error:
                message.error = error[:255]
                changed.append("error")
        if changed:
            message.save(update_fields=changed)
            _announce_message(message, kind="message.updated")
    return message


# ---------------------------------------------------------------- ticket changes


def assign(*, ticket: Ticket, actor: AbstractBaseUser | None, assignee: AbstractBaseUser | None) -> Ticket:
    return _change(ticket, actor, "assigned", assignee_id=assignee.pk if assignee else None)


def set_status(*, ticket: Ticket, actor: AbstractBaseUser | None, status: str) -> Ticket:
    if status not in Status.values:
        raise InvalidMessage(_("Unknown status: %(status)s") % {"status": status})
    return _change(ticket, actor, "status", status=status)


def set_priority(*, ticket: Ticket, actor: AbstractBaseUser | None, priority: str) -> Ticket:
    return _change(ticket, actor, "priority", priority=priority)


def set_team(*, ticket: Ticket, actor: AbstractBaseUser | None, team: Team | None) -> Ticket:
    return _change(ticket, actor, "team", team_id=team.pk if team else None)


def set_tags(*, ticket: Ticket, actor: AbstractBaseUser | None, add: Iterable[str] = (), remove: Iterable[str] = ()) -> Ticket:
    add = [n.strip()[:50] for n in add if n.strip()]
    remove = [n.strip() for n in remove if n.strip()]
    with transaction.atomic():
        ticket = _lock(ticket)
        for name in add:
            tag, _created = Tag.objects.get_or_create(name=name)
            ticket.tags.add(tag)
        if remove:
            ticket.tags.remove(*Tag.objects.filter(name__in=remove))
        ticket.updated_at = timezone.now()
        ticket.save(update_fields=["updated_at"])
        TicketEvent.objects.create(ticket=ticket, kind="tags", actor=actor, data={"added": add, "removed": remove})
        _announce_ticket(ticket, created=False)
    return ticket


def mark_read(*, ticket: Ticket) -> None:
    if ticket.unread:
        Ticket.objects.filter(pk=ticket.pk).update(unread=False)


def _change(ticket: Ticket, actor, kind: str, **fields) -> Ticket:
    with transaction.atomic():
        ticket = _lock(ticket)
        before = {name: getattr(ticket, name) for name in fields}
        if before == fields:
            return ticket
        old_team = ticket.team_id
        for name, value in fields.items():
            setattr(ticket, name, value)
        now = timezone.now()
        if "status" in fields:
            if fields["status"] in (Status.RESOLVED, Status.CLOSED) and ticket.resolved_at is None:
                ticket.resolved_at = now
            elif fields["status"] in ACTIVE_STATUSES:
                ticket.resolved_at = None
        ticket.updated_at = now
        ticket.save()
        TicketEvent.objects.create(ticket=ticket, kind=kind, actor=actor, data={"from": _jsonable(before), "to": _jsonable(fields)})
        _announce_ticket(ticket, created=False, old_team=old_team)
    return ticket


def _jsonable(values: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in values.items()}


# ---------------------------------------------------------------- announcements


def announce_message_updated(message: Message) -> None:
    """A stored message changed outside these services (late call details, media fetched later):
    watchers see the new version after commit."""
    _announce_message(message, kind="message.updated")


def _announce_ticket(ticket: Ticket, *, created: bool, old_team: int | None = None, loaded: bool = False) -> None:
    """`loaded`: the caller holds the ticket as saved, with its contact, team and assignee (from `_lock` or just
    created): it is announced without reading it back; only the tags of an existing ticket are fetched."""
    if not loaded:
        ticket = Ticket.objects.select_related("contact", "team", "assignee").prefetch_related("tags").get(pk=ticket.pk)
    elif created:
        ticket._prefetched_objects_cache = {"tags": Tag.objects.none()}
    else:
        prefetch_related_objects([ticket], "tags")
    kind = "ticket.created" if created else "ticket.updated"
    groups = events.ticket_groups(ticket)
    if old_team is not None and old_team != ticket.team_id:
        groups.append(events.team_group(old_team))  # the old team's queues drop it
    frame = {"type": "ticket", "event": "created" if created else "updated", "ticket": ticket_dict(ticket)}
    events.publish(kind, groups=groups, frame=frame, data={"ticket_id": ticket.pk, "team_id": ticket.team_id, "status": ticket.status})


def _announce_message(message: Message, *, kind: str = "message.created", attachments: list | None = None) -> None:
    if attachments is None:
        message = Message.objects.select_related("ticket", "author_agent", "author_contact").get(pk=message.pk)
    frame = {"type": "message", "event": kind.split(".")[1], **message_dict(message, attachments=attachments)}
    events.publish(
        kind,
        groups=events.message_groups(message),
        frame=frame,
        data={
            "ticket_id": message.ticket_id,
            "team_id": message.ticket.team_id,
            "message_id": message.pk,
            "direction": message.direction,
            "channel": message.channel,
        },
    )

