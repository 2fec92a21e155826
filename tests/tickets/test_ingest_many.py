"""`ingest_many`: a batch gives the same tickets as one-by-one ingest, with lookups and inserts once per batch."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import ContactFactory, TeamFactory, TicketFactory
from tickets import events
from tickets.inbound import InboundMessage, ThreadHints
from tickets.models import Contact, Message, Status, Ticket, TicketEvent
from tickets.services import InvalidMessage, ingest, ingest_many

pytestmark = pytest.mark.django_db


def mail(n: int, *, sender: str = "jane@example.org", refs: tuple[str, ...] = (), **extra) -> InboundMessage:
    return InboundMessage(
        channel="email",
        external_id=f"<m{n}@example.org>",
        sender_kind="email",
        sender_address=sender,
        sender_name="Jane",
        subject=f"Subject {n}",
        text=f"Body {n}",
        thread=ThreadHints(references=refs),
        **extra,
    )


def test_a_batch_threads_replies_onto_tickets_opened_earlier_in_the_same_batch():
    TeamFactory()
    results = ingest_many([
        mail(1),
        mail(2, sender="bob@example.org"),
        mail(3, refs=("<m1@example.org>",)),  # reply to a message of this batch
        mail(4, sender="bob@example.org", refs=("<nowhere@x>", "<m2@example.org>")),
        mail(5),  # a new email from the same sender: a new ticket
    ])  # fmt: skip
    tickets = [r.message.ticket_id for r in results]
    assert tickets[0] == tickets[2] and tickets[1] == tickets[3]
    assert len({tickets[0], tickets[1], tickets[4]}) == 3
    assert Ticket.objects.count() == 3 and Message.objects.count() == 5
    assert Contact.objects.count() == 2  # one contact per sender, not per message
    first = Ticket.objects.get(pk=tickets[0])
    assert first.subject == "Subject 1" and first.messages.count() == 2
    assert TicketEvent.objects.filter(kind="created").count() == 3


def test_a_repeated_id_in_a_batch_or_across_batches_is_stored_once():
    first = ingest_many([mail(1), mail(1)])
    assert first[0].duplicate is False and first[1].duplicate is True
    assert first[1].message.pk == first[0].message.pk
    again = ingest_many([mail(1), mail(2, refs=("<m1@example.org>",))])
    assert again[0].duplicate and again[0].message.pk == first[0].message.pk
    assert again[1].message.ticket_id == first[0].message.ticket_id
    assert Message.objects.count() == 2


def test_a_batch_reopens_resolved_tickets_and_continues_latest_on_sms():
    contact = ContactFactory()
    resolved = ingest(mail(1))
    Ticket.objects.filter(pk=resolved.ticket_id).update(status=Status.RESOLVED)
    sms = [
        InboundMessage(channel="sms", external_id=f"SM{i}", sender_kind="phone", sender_address="+358401234567", text=f"text {i}")
        for i in range(3)
    ]
    results = ingest_many([mail(2, refs=("<m1@example.org>",)), *sms])
    ticket = Ticket.objects.get(pk=resolved.ticket_id)
    assert results[0].message.ticket_id == ticket.pk and ticket.status == Status.OPEN and ticket.unread
    assert TicketEvent.objects.filter(ticket=ticket, kind="reopened").count() == 1
    sms_tickets = {r.message.ticket_id for r in results[1:]}
    assert len(sms_tickets) == 1  # one conversation per phone number, even when it first writes in a batch
    assert Contact.objects.exclude(pk=contact.pk).count() == 2


def test_auto_replies_in_a_batch_never_open_tickets():
    results = ingest_many([mail(1, auto=True), mail(2), mail(3, refs=("<m2@example.org>",), auto=True)])
    assert results[0].message is None
    assert results[2].message.ticket_id == results[1].message.ticket_id
    assert results[2].message.meta.get("auto") is True


def test_one_invalid_message_stores_nothing_of_the_batch():
    empty = InboundMessage(channel="email", external_id="<e@x>", sender_kind="email", sender_address="a@b.c")
    with pytest.raises(InvalidMessage):
        ingest_many([mail(1), empty])
    assert Message.objects.count() == 0


def test_every_message_of_a_batch_is_announced_with_its_ticket_first(monkeypatch):
    published = []
    monkeypatch.setattr(events, "publish", lambda kind, **kw: published.append((kind, kw["data"].get("ticket_id"))))
    results = ingest_many([mail(1), mail(2, refs=("<m1@example.org>",)), mail(3, sender="bob@example.org")])
    a, b = results[0].message.ticket_id, results[2].message.ticket_id
    assert published == [
        ("ticket.created", a), ("message.created", a), ("message.created", a),
        ("ticket.created", b), ("message.created", b),
    ]  # fmt: skip


def test_lookups_are_per_batch_not_per_message():
    existing = ingest(mail(0))
    tickets = [TicketFactory(contact=existing.author_contact, channel="email") for _ in range(3)]
    for t in tickets:
        ingest(mail(100 + t.pk, refs=()))  # noise
    batch = [mail(i, refs=("<m0@example.org>",)) for i in range(1, 41)]
    with CaptureQueriesContext(connection) as queries:
        ingest_many(batch)
    # dedupe, contacts, references, lock, inserts, one UPDATE, tags, savepoints: not 40 x anything
    assert len(queries) < 20, [q["sql"][:80] for q in queries]
    assert Ticket.objects.get(pk=existing.ticket_id).messages.count() == 41


@pytest.mark.django_db(transaction=True)
def test_messages_submitted_together_from_many_threads_share_commits_and_each_gets_its_own_result():
    import threading

    from django.db import connection as db_connection

    from tickets import services

    TeamFactory()
    batches: list[int] = []
    real = services.ingest_many

    def counting(messages):
        batches.append(len(messages))
        return real(messages)

    results: dict[int, object] = {}
    start = threading.Barrier(8)

    def visitor(n: int) -> None:
        try:
            start.wait()
            message = mail(n, sender=f"v{n}@example.org")
            if n == 7:
                message = InboundMessage(channel="email", external_id="<bad@x>", sender_kind="email", sender_address="")
            results[n] = services.ingest_grouped(message)
        except Exception as exc:  # noqa: BLE001 - recorded for the assertion
            results[n] = exc
        finally:
            db_connection.close()

    original, services.ingest_many = services.ingest_many, counting
    try:
        threads = [threading.Thread(target=visitor, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        services.ingest_many = original
    assert isinstance(results[7], InvalidMessage)  # refused in its own thread, before any batch
    stored = {n: r.message for n, r in results.items() if n != 7}
    assert all(m.external_id == f"<m{n}@example.org>" for n, m in stored.items())
    assert Message.objects.count() == 7 and Ticket.objects.count() == 7
    assert sum(batches) == 7 and len(batches) <= 7


def test_inside_a_callers_transaction_grouped_ingest_is_plain_ingest():
    from django.db import transaction

    from tickets import services

    with transaction.atomic():
        result = services.ingest_grouped(mail(1))
        assert result.message.pk is not None and not result.duplicate
    assert services._group_commit.busy is False and services._group_commit.waiting == []


def test_a_message_that_breaks_its_batch_fails_alone(monkeypatch):
    from tickets import services

    TeamFactory()
    real = services.ingest_many

    def fragile(messages):
        if any(m.external_id == "<poison@x>" for m in messages):
            raise RuntimeError("database said no")
        return real(messages)

    monkeypatch.setattr(services, "ingest_many", fragile)
    entries = [services._GroupCommit._Entry(m) for m in (mail(1), mail(2, sender="b@example.org"), mail(3))]
    entries[1].message = InboundMessage(**{**entries[1].message.__dict__, "external_id": "<poison@x>"})
    services._GroupCommit._run(entries)
    assert isinstance(entries[1].error, RuntimeError)
    assert entries[0].result.message.pk and entries[2].result.message.pk
    assert all(e.done.is_set() for e in entries)  # every waiting thread is woken
    assert Message.objects.count() == 2
