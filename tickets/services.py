"""Every write to the ticket stream. One transaction each; real-time events are published after commit."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache, partial

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _

from . import events
from .adapters import ReplyRefused, get_adapter
from .attachments import store_attachment
from .crypto import blind_indexes, normalize
from .inbound import InboundAttachment, InboundMessage
from .locking import lock_tickets, prefetched_tags
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
from .rows import Rows
from .signals import contacts_created

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
    return ingest_many([message])[0]


class _GroupCommit:
    """Messages that threads of one process submit at the same moment share one `ingest_many` transaction.

    The first thread to arrive leads: it takes every message waiting at that moment (its own included),
    ingests them together and hands each thread its result; a message that arrived meanwhile makes its
    thread the next leader. Nobody waits for a timer: an idle server ingests each message at once, a busy
    one in batches, which is what keeps a burst from queueing behind one transaction per message."""

    class _Entry:
        __slots__ = ("message", "done", "lead", "result", "error")

        def __init__(self, message: InboundMessage) -> None:
            self.message = message
            self.done = threading.Event()
            self.lead = False
            self.result: Ingested | None = None
            self.error: BaseException | None = None

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.waiting: list[_GroupCommit._Entry] = []
        self.busy = False

    def submit(self, message: InboundMessage) -> Ingested:
        entry = self._Entry(message)
        with self.lock:
            self.waiting.append(entry)
            if not self.busy:
                self.busy = entry.lead = True
        if not entry.lead:
            entry.done.wait()
        if entry.lead:
            with self.lock:
                batch, self.waiting = self.waiting, []
            try:
                self._run(batch)
            finally:
                for other in batch:  # whatever happened, no thread is left waiting for this batch
                    if not other.lead and not other.done.is_set():
                        if other.result is None and other.error is None:
                            other.error = RuntimeError("the batch this message was in did not finish")
                        other.done.set()
                with self.lock:
                    if self.waiting:
                        self.waiting[0].lead = True
                        self.waiting[0].done.set()
                    else:
                        self.busy = False
        if entry.error is not None:
            raise entry.error
        return entry.result

    @staticmethod
    def _run(batch: list[_GroupCommit._Entry]) -> None:
        try:
            results = ingest_many([e.message for e in batch])
        except Exception:  # noqa: BLE001 - one bad message must not fail the others: each alone, below
            results = None
        for i, entry in enumerate(batch):
            if results is not None:
                entry.result = results[i]
            else:
                try:
                    entry.result = ingest_many([entry.message])[0]
                except BaseException as exc:  # noqa: BLE001 - raised in the submitting thread
                    entry.error = exc
            if not entry.lead:
                entry.done.set()


_group_commit = _GroupCommit()


def ingest_grouped(message: InboundMessage) -> Ingested:
    """`ingest_once` for servers that ingest from many threads at once (the chat's visitor sockets): messages
    submitted at the same moment share one transaction (group commit). Returns after this message's commit,
    like `ingest_once`. Inside a caller's transaction it is plain `ingest_once` (others' messages must
    never depend on a transaction that may still roll back)."""
    _validate(message)
    if transaction.get_connection().in_atomic_block:
        return ingest_once(message)
    return _group_commit.submit(message)


def ingest_many(messages: Sequence[InboundMessage]) -> list[Ingested]:
    """`ingest_once` for each message, in order, in one transaction: what a poller or a busy chat server
    hands over at once. The result is the same as ingesting them one by one (a later message threads onto
    a ticket an earlier one opened, a repeated id is stored once), but the lookups (duplicates, contacts,
    referenced messages, tickets to lock) and the inserts are done once per batch, not once per message.

    Raises InvalidMessage before storing anything if any message is invalid.
    """
    messages = list(messages)
    for message in messages:
        _validate(message)
    if not messages:
        return []
    retries = 2
    while True:
        try:
            with transaction.atomic():
                return _Batch(messages).run()
        except IntegrityError:
            # A concurrent delivery of one of these messages, or of a message from the same new contact, won
            # the race: run again, and the lookups find what it stored.
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


class _Batch:
    """One run of `ingest_many`: plan every message in memory against what one query per kind found, then
    write (one INSERT per table, one UPDATE for the tickets that existed) and announce."""

    def __init__(self, messages: list[InboundMessage]) -> None:
        self.messages = messages
        self.now = timezone.now()
        self.stored: dict[tuple[str, str], Message] = {}  # (channel, external id) -> stored or planned
        self.contacts: dict[tuple[str, str], Contact] = {}  # (kind, blind index) -> contact
        self.referenced: dict[tuple[str, str], tuple[datetime, int]] = {}  # -> (created, ticket id)
        self.tickets: dict[int, Ticket] = {}  # locked tickets by id
        self.latest: dict[tuple[int, str], Ticket] = {}  # (contact key, channel) -> ticket this batch touched
        self.new_tickets: list[Ticket] = []
        self.touched: dict[int, Ticket] = {}  # existing tickets this batch changes, by id
        self.changed: set[str] = set()
        self.events: list[TicketEvent] = []
        self.planned: list[tuple[Message, InboundMessage]] = []
        self.attachments: dict[int, list] = {}  # id(stored message) -> its stored Attachments
        self.new_contacts: list[tuple[Contact, ContactIdentity]] = []
        self._teams: dict[int, Team] | None = None

    def run(self) -> list[Ingested]:
        self._load()
        results = [self._plan(message) for message in self.messages]
        self._write()
        self._announce()
        return results

    # ---------------------------------------------------------------- lookups, once per batch

    def _load(self) -> None:
        ids = {(m.channel, m.external_id) for m in self.messages if m.external_id}
        by_channel: dict[str, set[str]] = {}
        for channel, external_id in ids:
            by_channel.setdefault(channel, set()).add(external_id)
        for channel, external_ids in by_channel.items():
            found = [pk for pk, *_rest in _messages_by_external_id(channel, external_ids)]
            for message in Message.objects.filter(pk__in=found).order_by() if found else ():
                self.stored[(channel, message.external_id)] = message
        hashes: dict[str, set[str]] = {}
        for m in self.messages:
            if (m.channel, m.external_id) not in self.stored:
                hashes.setdefault(m.sender_kind, set()).update(blind_indexes(m.sender_address))
        for kind, values in hashes.items():
            for address_hash, contact in _contacts_by_identity(kind, values):
                self.contacts[(kind, address_hash)] = contact
        references: dict[str, set[str]] = {}
        for m in self.messages:
            if m.thread.references:
                references.setdefault(m.channel, set()).update(m.thread.references)
        ticket_ids = {m.thread.ticket_id for m in self.messages if m.thread.ticket_id}
        for channel, refs in references.items():
            for _pk, external_id, created_at, ticket_id in _messages_by_external_id(channel, refs):
                self.referenced[(channel, external_id)] = (created_at, ticket_id)
                ticket_ids.add(ticket_id)
        if ticket_ids:
            self._lock_ids(ticket_ids)

    def _team(self, team_id: int | None) -> Team | None:
        """The team of a new ticket: the receiving channel's, else the desk's first (teams are read once)."""
        if self._teams is None:
            self._teams = {t.pk: t for t in Team.objects.order_by("id")}
        if team_id is None:
            team_id = next(iter(self._teams), None)
        if team_id is None:
            return None
        return self._teams.get(team_id) or Team.objects.filter(pk=team_id).first()

    def _lock_ids(self, ids: Iterable[int]) -> None:
        """Lock tickets (in id order, so two batches never wait on each other crosswise), with what their
        announcements show. Only the tickets' rows are locked, not their team, contact or assignee."""
        for ticket in lock_tickets(set(ids) - set(self.tickets)):
            self.tickets[ticket.pk] = ticket

    def _locked(self, ticket_id: int | None) -> Ticket | None:
        """The open (not closed) ticket this id ends up at after merges, locked."""
        seen = set()
        while ticket_id is not None and ticket_id not in seen:
            seen.add(ticket_id)
            if ticket_id not in self.tickets:
                self._lock_ids([ticket_id])
            ticket = self.tickets.get(ticket_id)
            if ticket is None:
                return None
            if not ticket.merged_into_id:
                return None if ticket.status == Status.CLOSED else ticket
            ticket_id = ticket.merged_into_id
        return None

    # ---------------------------------------------------------------- planning, per message

    def _plan(self, message: InboundMessage) -> Ingested:
        key = (message.channel, message.external_id)
        if message.external_id and key in self.stored:
            return Ingested(self.stored[key], duplicate=True)
        received_at = message.received_at or self.now
        contact = self._contact(message)
        if message.contact_email:
            self._save_new_contacts()
            _attach_identity(contact, IdentityKind.EMAIL, message.contact_email)
        ticket = self._thread(message, contact)
        if ticket is None and message.auto:
            return Ingested(None, duplicate=False)
        if ticket is None:
            # Everything the batch's messages set on a new ticket is known before it is written: one INSERT.
            ticket = Ticket(
                subject=_subject(message),
                channel=message.channel,
                contact=contact,
                team=self._team(message.team_id),
                created_at=received_at,
                last_message_at=received_at,
                last_customer_message_at=None if message.auto else received_at,
                unread=not message.auto,
                updated_at=self.now,
            )
            self.new_tickets.append(ticket)
        else:
            self._update(ticket, message, received_at)
        self.latest[(_key(contact), message.channel)] = ticket
        text, meta = _bounded_text(message)
        stored = Message(
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
        self.planned.append((stored, message))
        if message.external_id:
            self.stored[key] = stored
        return Ingested(stored, duplicate=False)

    def _contact(self, message: InboundMessage) -> Contact:
        kind, address = message.sender_kind, message.sender_address
        contact = next((c for h in blind_indexes(address) if (c := self.contacts.get((kind, h)))), None)
        if contact is None:
            # A new customer: written with the batch's other new contacts, in one INSERT.
            contact = _new_contact(kind, address, message.sender_name)
            identity = ContactIdentity(contact=contact, kind=kind, address=_address(kind, address))
            self.new_contacts.append((contact, identity))
            for h in blind_indexes(address):
                self.contacts[(kind, h)] = contact
            return contact
        while contact.merged_into_id:
            contact = contact.merged_into
        if message.sender_name and not contact.name:
            contact.name = message.sender_name[:200]
            if contact.pk is not None:
                contact.save(update_fields=["name"])
        return contact

    def _save_new_contacts(self) -> None:
        if not self.new_contacts:
            return
        contacts = [contact for contact, _identity in self.new_contacts]
        for contact, identity in self.new_contacts:
            contact.set_blind_indexes()
            identity.set_blind_indexes()
        Contact.objects.bulk_create(contacts)
        ContactIdentity.objects.bulk_create([identity for _contact, identity in self.new_contacts])
        contacts_created.send(sender=Contact, contacts=contacts)  # a bulk insert sends no post_save
        self.new_contacts = []

    def _thread(self, message: InboundMessage, contact: Contact) -> Ticket | None:
        hints = message.thread
        if hints.ticket_id:
            ticket = self._locked(hints.ticket_id)
            if ticket is not None:
                return ticket
        if hints.references:
            # The most recent message it refers to decides; this batch's own messages count too.
            best: tuple[datetime, Ticket | int] | None = None
            for ref in hints.references:
                planned = self.stored.get((message.channel, ref))
                if planned is not None and planned.pk is None:
                    candidate = (planned.created_at, planned.ticket)
                elif (message.channel, ref) in self.referenced:
                    candidate = self.referenced[(message.channel, ref)]
                else:
                    continue
                if best is None or candidate[0] > best[0]:
                    best = candidate
            if best is not None:
                target = best[1]
                if isinstance(target, Ticket) and target.pk is None:
                    return target
                ticket = self._locked(target.pk if isinstance(target, Ticket) else target)
                if ticket is not None:
                    return ticket
        continue_latest = hints.continue_latest
        if continue_latest is None:
            continue_latest = message.channel != Channel.EMAIL
        if continue_latest:
            ticket = self.latest.get((_key(contact), message.channel))
            if ticket is not None:
                return ticket
            latest_id = None if contact.pk is None else (
                Ticket.objects.filter(contact=contact, channel=message.channel, merged_into__isnull=True)
                .exclude(status=Status.CLOSED)
                .order_by("-last_message_at")
                .values_list("pk", flat=True)
                .first()
            )
            if latest_id is not None:
                return self._locked(latest_id)
        return None

    def _update(self, ticket: Ticket, message: InboundMessage, received_at: datetime) -> None:
        """What a message changes on the ticket it continues (one this batch opened, or an existing one)."""
        if ticket.pk is not None:
            self.touched[ticket.pk] = ticket
            self.changed.update(("last_message_at", "updated_at"))
        if not message.auto:
            if ticket.status in (Status.RESOLVED, Status.PENDING):
                self.events.append(TicketEvent(ticket=ticket, kind="reopened", data={"from": ticket.status}))
                ticket.status = Status.OPEN
                ticket.resolved_at = None
                self.changed.update(("status", "resolved_at"))
            ticket.last_customer_message_at = max(filter(None, (ticket.last_customer_message_at, received_at)))
            ticket.unread = True
            self.changed.update(("last_customer_message_at", "unread"))
        ticket.last_message_at = max(ticket.last_message_at, received_at)
        ticket.updated_at = self.now

    # ---------------------------------------------------------------- writes and announcements, once

    def _write(self) -> None:
        self._save_new_contacts()
        if self.new_tickets:
            Ticket.objects.bulk_create(self.new_tickets)
            created = [TicketEvent(ticket=t, kind="created", data={"channel": t.channel}) for t in self.new_tickets]
            self.events[:0] = created
        if self.events:
            TicketEvent.objects.bulk_create(self.events)
        if self.planned:
            Message.objects.bulk_create([stored for stored, _message in self.planned])
        for stored, message in self.planned:
            kept = self.attachments[id(stored)] = []
            rejected = [r for a in message.attachments if (r := store_attachment(stored, a, kept=kept)) is not None]
            if rejected:
                stored.meta["rejected_attachments"] = rejected
                stored.save(update_fields=["meta"])
        if self.touched:
            _update_rows(list(self.touched.values()), sorted(self.changed))

    def _announce(self) -> None:
        new = {id(t) for t in self.new_tickets}  # existing tickets came with their tags from `lock_tickets`
        announced: set[int] = set()
        for stored, _message in self.planned:
            ticket = stored.ticket
            if ticket.pk not in announced:
                announced.add(ticket.pk)
                _announce_ticket(ticket, created=id(ticket) in new, loaded=True)
            # The stored message, its ticket and author are in memory: announce without reading them back.
            _announce_message(stored, attachments=self.attachments.get(id(stored), []))


def _messages_by_external_id(channel: str, external_ids: Iterable[str]) -> list[tuple[int, str, datetime, int]]:
    """(id, external id, created_at, ticket id) of stored messages with these ids on one channel.

    One unique-index probe per id, whatever the planner believes about the table: right after a bulk load or
    on a young install its statistics can say a channel has a handful of rows, and a plain `IN (...)` then
    scans every message of the channel once per batch."""
    external_ids = sorted(set(external_ids))
    if connection.vendor != "postgresql":  # the embedded SQLite default: a plain IN is fine at its sizes
        rows = Message.objects.filter(channel=channel, external_id__in=external_ids).exclude(external_id="").order_by()
        return list(rows.values_list("id", "external_id", "created_at", "ticket_id"))
    table = connection.ops.quote_name(Message._meta.db_table)
    sql = f"""
        SELECT found.id, found.external_id, found.created_at, found.ticket_id
        FROM unnest(%s::text[]) AS wanted(external_id)
        CROSS JOIN LATERAL (
            SELECT m.id, m.external_id, m.created_at, m.ticket_id FROM {table} m
            WHERE m.channel = %s AND m.external_id = wanted.external_id AND NOT (m.external_id = '')
            LIMIT 1
        ) found"""  # noqa: S608 - the table name is the model's, values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [external_ids, channel])
        return cursor.fetchall()


def _contacts_by_identity(kind: str, address_hashes: Iterable[str]) -> list[tuple[str, Contact]]:
    """(blind index, contact) of the identities of this kind with these blind indexes: on PostgreSQL one
    statement written once per process (every chat message looks up its sender), elsewhere the ORM."""
    address_hashes = sorted(set(address_hashes))
    if connection.vendor != "postgresql":
        identities = ContactIdentity.objects.select_related("contact").filter(kind=kind, address_hash__in=address_hashes)
        return [(identity.address_hash, identity.contact) for identity in identities]
    sql, contact_rows = _identity_statement()
    with connection.cursor() as cursor:
        cursor.execute(sql, [kind, address_hashes])
        return [(row[0], contact_rows.build(row[1:])) for row in cursor.fetchall()]


@lru_cache(maxsize=1)
def _identity_statement() -> tuple[str, Rows]:
    qn = connection.ops.quote_name
    contact = Rows(Contact, "c")
    identities = qn(ContactIdentity._meta.db_table)
    sql = f"""
        SELECT i.address_hash, {contact.sql} FROM {identities} i JOIN {qn(Contact._meta.db_table)} c ON c.id = i.contact_id
        WHERE i.kind = %s AND i.address_hash = ANY(%s)"""  # noqa: S608 - model names; values are parameters
    return sql, contact


def _update_rows(tickets: list[Ticket], names: list[str]) -> None:
    """One UPDATE statement per ticket, sent in one round trip (psycopg's pipelined executemany); Django's
    bulk_update builds a CASE per column and row, which costs more to compile than the rows take to write."""
    fields = [Ticket._meta.get_field(name) for name in names]
    qn = connection.ops.quote_name
    columns = ", ".join(f"{qn(f.column)} = %s" for f in fields)
    sql = f"UPDATE {qn(Ticket._meta.db_table)} SET {columns} WHERE {qn(Ticket._meta.pk.column)} = %s"  # noqa: S608 - model names
    rows = [[f.get_db_prep_save(getattr(t, f.attname), connection) for f in fields] + [t.pk] for t in tickets]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _key(contact: Contact) -> int:
    """Tells contacts apart before they are written (a new contact has no id yet)."""
    return contact.pk if contact.pk is not None else -id(contact)


def _new_contact(kind: str, address: str, name: str) -> Contact:
    return Contact(
        name=name[:200],
        email=normalize(address) if kind == IdentityKind.EMAIL else "",
        phone=address.strip() if kind in (IdentityKind.PHONE, IdentityKind.WHATSAPP) else "",
    )


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
    contact = _new_contact(kind, address, name)
    contact.save()
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


def _lock(ticket: Ticket) -> Ticket:
    """The ticket row locked for this transaction, with what its announcement shows (only the ticket's row is
    locked, not its team, contact or assignee)."""
    locked = lock_tickets([ticket.pk])
    if not locked:
        raise Ticket.DoesNotExist(f"ticket {ticket.pk} no longer exists")
    return locked[0]


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
        prefetched_tags(ticket, [])  # a new ticket has none (iterating `Tag.objects.none()` still runs the ORM)
    elif "tags" not in getattr(ticket, "_prefetched_objects_cache", {}):
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

