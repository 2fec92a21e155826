"""The poller against a real dovecot: the whole corpus, IDLE, UIDVALIDITY, dropped connections, flags."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest
from django.contrib import admin as django_admin
from django.contrib.messages.storage.fallback import FallbackStorage
from django.test import RequestFactory

from mail import imap
from mail.idle import IdleWatcher
from mail.imap import ImapError, poll
from mail.models import Mailbox
from tests.factories import AgentFactory, ContactFactory, MessageFactory, TeamFactory, TicketFactory
from tickets.models import Attachment, Message, Ticket

from .conftest import MANIFEST, corpus_bytes
from .dovecot import Dovecot

pytestmark = pytest.mark.django_db(transaction=True)

SEEDED = {
    "<helpdesk.0a2f57927e77.8232972060@example.com>": "bounce",
    "<helpdesk.4d6e984e2c89.5307731170@example.com>": "ooo",
    "<helpdesk.e18fba379d82.8254431229@example.com>": "autoreply",
}


def simple(n: int, subject: str = "Question") -> bytes:
    return (
        f"From: Customer {n} <c{n}@example.org>\r\nTo: support@example.com\r\nSubject: {subject} {n}\r\n"
        f"Message-ID: <msg{n}@example.org>\r\nDate: Tue, 04 Mar 2025 10:{n % 60:02d}:00 +0000\r\n\r\nBody {n}\r\n"
    ).encode()


def seed_corpus_world(mailbox):
    """What the corpus assumes exists: agent Anna, ticket 1042 of Marcus, the desk's earlier outbound mail."""
    AgentFactory(username="anna", email="anna.lindqvist@example.com", teams=[mailbox.team])
    marcus = ContactFactory(name="Marcus Hale", email="marcus.hale@example.net")
    TicketFactory(pk=1042, contact=marcus, team=mailbox.team, subject="Refund", status="pending")
    seeded = {}
    for message_id, label in SEEDED.items():
        ticket = TicketFactory(team=mailbox.team, subject=f"earlier {label}", status="resolved")
        seeded[message_id] = MessageFactory(
            ticket=ticket, direction="outbound", author_contact=None, delivery_status="sent", external_id=message_id
        )
    return seeded


def test_whole_corpus_through_imap_lands_as_the_manifest_says(mailbox, imap_account):
    seeded = seed_corpus_world(mailbox)
    tickets_before = Ticket.objects.count()
    imap_account.append(*[corpus_bytes(c["file"]) for c in MANIFEST])

    result = poll(mailbox.pk)

    assert result.fetched == len(MANIFEST)
    by_file = {}
    for case in MANIFEST:
        from mail.parsing import parse_message

        external_id = parse_message(corpus_bytes(case["file"])).external_id
        by_file[case["file"]] = Message.objects.filter(channel="email", external_id=external_id).first()
    # Duplicates stored once; every non-auto message stored.
    assert Counter(Message.objects.filter(direction="inbound").values_list("external_id", flat=True)).most_common(1)[0][1] == 1
    threads: dict[str, set[int]] = {}
    for case in MANIFEST:
        stored = by_file[case["file"]]
        if case["auto"]:
            if stored is not None:  # stored only on the ticket it answers, which stays resolved
                assert stored.meta.get("auto") and stored.ticket.status == "resolved"
            continue
        assert stored is not None, case["file"]
        assert stored.direction == "inbound" and stored.author_agent_id is None
        if case["visible_text_contains"]:
            assert case["visible_text_contains"] in stored.text, case["file"]
        if case["visible_text_excludes"]:
            assert case["visible_text_excludes"] not in stored.text and case["visible_text_excludes"] in stored.full_text
        attachments = list(stored.attachments.all())
        assert sum(not a.inline for a in attachments) == case["attachments"], case["file"]
        assert sum(a.inline for a in attachments) == case["inline"], case["file"]
        for needle in case["must_not_contain_in_html"]:
            assert needle not in stored.html
        if case["thread"]:
            threads.setdefault(case["thread"], set()).add(stored.ticket_id)
    assert all(len(ids) == 1 for ids in threads.values()), threads
    assert threads["ticket-1042"] == {1042}
    assert len(set().union(*threads.values())) == len(threads)  # different threads, different tickets
    # Bounce: the outbound message is failed; auto-replies reopened nothing and opened nothing.
    bounced = seeded["<helpdesk.0a2f57927e77.8232972060@example.com>"]
    bounced.refresh_from_db()
    assert bounced.delivery_status == "failed"
    standalone = [c for c in MANIFEST if not c["auto"] and not c["thread"] and not c["duplicate_of"]]
    expected_new = len(standalone) + len([t for t in threads if t != "ticket-1042"])
    assert Ticket.objects.count() - tickets_before == expected_new
    # The agent's own reply (015) is a customer-side message, flagged.
    assert by_file["015-thread-2-agent-reply.eml"].meta.get("from_agent_address") is True
    # Every message is marked seen on the server, and a second poll finds nothing new.
    assert all("\\Seen" in flags for flags in imap_account.flags().values())
    assert poll(mailbox.pk).fetched == 0


def test_messages_are_marked_seen_only_after_their_ticket_committed(mailbox, imap_account):
    imap_account.append(simple(1), simple(2), simple(3))
    seen_while_storing = []

    def check(uid, message):
        assert Message.objects.filter(pk=message.pk).exists()  # committed: visible to this new query
        seen_while_storing.append("\\Seen" in imap_account.flags()[uid])
        if uid == 2:
            raise RuntimeError("worker died after storing the second message")

    with pytest.raises(RuntimeError):
        poll(mailbox.pk, after_message=check)
    assert seen_while_storing == [False, False]
    assert not any("\\Seen" in f for f in imap_account.flags().values())  # the batch was never flagged

    result = poll(mailbox.pk)  # the next run resumes
    assert result.fetched == 3 and Message.objects.count() == 3  # two recognised, one new: none twice
    assert all("\\Seen" in f for f in imap_account.flags().values())


def test_connection_dropped_mid_fetch_loses_nothing_and_stores_nothing_twice(mailbox, imap_account, dovecot):
    imap_account.append(*[simple(n) for n in range(1, 11)])

    def crash(uid, message):
        if uid == 6:
            dovecot.kill_connections()  # server restart in the middle of the second batch

    with pytest.raises(ImapError):
        poll(mailbox.pk, batch_size=4, after_message=crash)
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 4 and "dropped" in mailbox.last_error

    result = poll(mailbox.pk, batch_size=4)
    assert sorted(Message.objects.values_list("external_id", flat=True)) == sorted(f"<msg{n}@example.org>" for n in range(1, 11))
    assert result.stored == 6  # uids 5..10 again: 5 and 6 recognised as already stored
    assert Ticket.objects.count() == 10
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 10 and mailbox.last_error == ""


def test_uidvalidity_change_refetches_without_duplicates(mailbox, imap_account, dovecot):
    imap_account.append(simple(1), simple(2))
    poll(mailbox.pk)
    old_validity = Mailbox.objects.get(pk=mailbox.pk).uidvalidity

    dovecot.stop()
    dovecot.wipe_mailbox(imap_account.user)  # a server migration: new UIDs for the same mail
    time.sleep(1.1)  # dovecot derives UIDVALIDITY from the clock (seconds)
    dovecot.start()
    imap_account.append(simple(1), simple(2), simple(3))

    result = poll(mailbox.pk)
    mailbox.refresh_from_db()
    assert result.uidvalidity_changed and mailbox.uidvalidity != old_validity
    assert Message.objects.count() == 3 and result.stored == 3  # 1 and 2 recognised, 3 new
    assert Ticket.objects.count() == 3


def test_processed_mail_can_be_moved_to_another_folder(mailbox, imap_account):
    mailbox.processed_folder = "Processed"
    mailbox.save()
    imap_account.append(simple(1), simple(2))
    poll(mailbox.pk)
    assert imap_account.count("INBOX") == 0 and imap_account.count("Processed") == 2
    assert Message.objects.count() == 2


def test_idle_picks_up_new_mail_without_waiting_for_the_interval(mailbox, imap_account):
    mailbox.poll_interval = 3600
    mailbox.save()
    watcher = IdleWatcher(mailbox.pk, lambda mailbox_id: poll(mailbox_id), idle_seconds=5)
    watcher.start()
    try:
        assert watcher.connected.wait(15), "IDLE watcher did not connect"
        imap_account.append(simple(42, "Urgent"))
        deadline = time.time() + 20
        while time.time() < deadline and not Message.objects.filter(external_id="<msg42@example.org>").exists():
            time.sleep(0.1)
        assert Message.objects.filter(external_id="<msg42@example.org>").exists()
        assert watcher.supported is True
    finally:
        watcher.stop()
        watcher.join(15)


def test_idle_watcher_reconnects_after_a_server_restart(mailbox, imap_account, dovecot):
    watcher = IdleWatcher(mailbox.pk, lambda mailbox_id: poll(mailbox_id), idle_seconds=5)
    watcher.start()
    try:
        assert watcher.connected.wait(15)
        dovecot.restart()
        imap_account.append(simple(7))
        deadline = time.time() + 30
        while time.time() < deadline and not Message.objects.filter(external_id="<msg7@example.org>").exists():
            time.sleep(0.2)
        assert Message.objects.filter(external_id="<msg7@example.org>").exists()
    finally:
        watcher.stop()
        watcher.join(15)


@pytest.fixture
def own_server_mailbox(db):
    """A mailbox on a dovecot of its own: failed logins earn the client IP a growing delay from dovecot's
    auth penalty, which must not slow down the other tests."""
    root = Path(tempfile.mkdtemp(prefix="hd-dovecot-"))
    server = Dovecot(root).start()
    server.add_user("lonely", "secret-pw")
    yield Mailbox.objects.create(
        name="Lonely", email_address="lonely@example.com", team=TeamFactory(), imap_host=server.host,
        imap_port=server.port, imap_security="none", imap_username="lonely", imap_password="secret-pw",
    )  # fmt: skip
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


def test_test_connection_reports_success_and_clear_errors(own_server_mailbox):
    mailbox = own_server_mailbox
    assert "IDLE supported" in imap.test_connection(mailbox)
    mailbox.imap_password = "wrong"
    with pytest.raises(ImapError, match="rejected the user name or password"):
        imap.test_connection(mailbox)
    mailbox.imap_port = 1  # nothing listens there
    with pytest.raises(ImapError, match="refused the connection"):
        imap.test_connection(mailbox)
    mailbox.imap_host = "no-such-host.invalid"
    with pytest.raises(ImapError, match="could not be found"):
        imap.test_connection(mailbox)


def test_admin_test_connection_action_shows_the_error(own_server_mailbox):
    mailbox = own_server_mailbox
    mailbox.imap_password = "wrong"
    mailbox.save()
    admin_user = AgentFactory(is_staff=True, is_superuser=True)
    request = RequestFactory().post("/admin/mail/mailbox/")
    request.user = admin_user
    request.session = {}
    request._messages = FallbackStorage(request)
    model_admin = django_admin.site._registry[Mailbox]
    model_admin.test_connection_action(request, Mailbox.objects.filter(pk=mailbox.pk))
    (shown,) = [str(m) for m in request._messages]
    assert "rejected the user name or password" in shown and "wrong" not in shown


def test_poll_failure_is_recorded_on_the_mailbox(own_server_mailbox):
    mailbox = own_server_mailbox
    mailbox.imap_password = "wrong"
    mailbox.save()
    with pytest.raises(ImapError):
        poll(mailbox.pk)
    mailbox.refresh_from_db()
    assert "rejected" in mailbox.last_error


def test_parallel_lanes_keep_every_thread_together(mailbox, imap_account):
    from bench.email import generate

    messages, threads = generate(120, seed=11)
    imap_account.append(*[raw for _mid, raw in messages])
    poll(mailbox.pk, batch_size=40, workers=4)
    stored = dict(Message.objects.values_list("external_id", "ticket_id"))
    assert set(stored) == set(threads)
    tickets_by_thread: dict[str, set[int]] = {}
    for message_id, label in threads.items():
        tickets_by_thread.setdefault(label, set()).add(stored[message_id])
    assert all(len(ids) == 1 for ids in tickets_by_thread.values())
    assert len({next(iter(ids)) for ids in tickets_by_thread.values()}) == len(tickets_by_thread)


def test_one_idle_watcher_per_mailbox_across_worker_processes(mailbox):
    from django.core.cache import cache

    from mail.idle import Supervisor, _lock

    cache.delete(_lock(mailbox.pk))
    polled = []
    first = Supervisor(on_new_mail=polled.append, idle_seconds=5)
    second = Supervisor(on_new_mail=polled.append, idle_seconds=5)
    try:
        first.supervise()
        second.supervise()  # another worker process: the mailbox is already watched
        assert list(first.watchers) == [mailbox.pk] and second.watchers == {}
        assert first.watchers[mailbox.pk].connected.wait(15)
        assert polled == [mailbox.pk]  # catches up once after connecting
        watcher = first.watchers[mailbox.pk]
        Mailbox.objects.filter(pk=mailbox.pk).update(active=False)
        first.supervise()  # switched off in the admin: the watcher goes away
        assert first.watchers == {}
        watcher.join(15)
        assert not watcher.is_alive()
    finally:
        for supervisor in (first, second):
            for running in supervisor.watchers.values():
                running.stop()
                running.join(15)
        cache.delete(_lock(mailbox.pk))


def test_beat_queues_only_mailboxes_whose_interval_passed(mailbox):
    from datetime import timedelta

    from django.utils import timezone

    from mail.tasks import poll_due

    fresh = Mailbox.objects.create(
        name="Fresh", email_address="fresh@example.com", imap_host="h", imap_username="u", last_polled_at=timezone.now()
    )
    Mailbox.objects.filter(pk=mailbox.pk).update(last_polled_at=timezone.now() - timedelta(seconds=120))
    Mailbox.objects.create(name="Off", email_address="off@example.com", imap_host="h", imap_username="u", active=False)
    assert poll_due() == 1
    Mailbox.objects.filter(pk=fresh.pk).update(poll_interval=0, last_polled_at=timezone.now() - timedelta(seconds=10))
    assert poll_due() == 2


def test_message_over_the_size_limit_is_fetched_partially_and_stored_flagged(mailbox, imap_account):
    mailbox.max_message_bytes = 50_000
    mailbox.save()
    raw = corpus_bytes("028-one-megabyte-body.eml")
    imap_account.append(raw, simple(1))
    result = poll(mailbox.pk)
    assert result.stored == 2
    big = Message.objects.get(external_id="<08081e7b5c2a934b3c04@example.net>")
    assert big.meta["truncated"]["stored_bytes"] == 50_000
    assert big.meta["truncated"]["original_bytes"] >= len(raw)  # the server's size (CRLF line ends)
    assert "the full sync log from last night's failed import" in big.text
    assert all("\\Seen" in flags for flags in imap_account.flags().values())


def test_celery_task_polls_and_reports(mailbox, imap_account):
    from mail.tasks import poll_mailbox

    imap_account.append(simple(1), simple(2))
    assert poll_mailbox(mailbox.pk) == {"fetched": 2, "stored": 2, "ignored": 0, "skipped": False}
    assert poll_mailbox(mailbox.pk)["fetched"] == 0


def test_celery_task_reports_a_login_failure_instead_of_crashing(own_server_mailbox):
    from mail.tasks import poll_mailbox

    Mailbox.objects.filter(pk=own_server_mailbox.pk).update(imap_password="wrong")
    assert "rejected" in poll_mailbox(own_server_mailbox.pk)["error"]


def test_a_backlog_is_parsed_in_a_second_process_and_threads_as_before(mailbox, imap_account, monkeypatch):
    from bench.email import generate
    from mail import imap, parse_worker

    monkeypatch.setattr(imap, "PARSE_PROCESS_MIN", 20)
    submitted = []
    real_submit = parse_worker.ParseWorker.submit

    def spy(self, items):
        submitted.append((self.proc.pid, len(items)))
        return real_submit(self, items)

    monkeypatch.setattr(parse_worker.ParseWorker, "submit", spy)
    messages, threads = generate(90, seed=5)
    imap_account.append(*[raw for _mid, raw in messages])
    result = poll(mailbox.pk, batch_size=16)
    assert result.stored == 90 and sum(n for _pid, n in submitted) == 90
    assert len({pid for pid, _n in submitted}) == 1  # one child for the run
    stored = dict(Message.objects.values_list("external_id", "ticket_id"))
    tickets_by_thread: dict[str, set[int]] = {}
    for message_id, label in threads.items():
        tickets_by_thread.setdefault(label, set()).add(stored[message_id])
    assert all(len(ids) == 1 for ids in tickets_by_thread.values())
    assert Message.objects.filter(meta__mailbox=mailbox.pk).count() == 90


def test_a_parse_process_that_dies_mid_run_loses_nothing(mailbox, imap_account, monkeypatch):
    from mail import imap, parse_worker

    monkeypatch.setattr(imap, "PARSE_PROCESS_MIN", 5)
    real_submit = parse_worker.ParseWorker.submit
    calls = []

    def die_after_first(self, items):
        calls.append(len(items))
        real_submit(self, items)
        if len(calls) == 2:
            self.proc.kill()  # the child crashes with two batches in hand
            self.proc.wait()

    monkeypatch.setattr(parse_worker.ParseWorker, "submit", die_after_first)
    imap_account.append(*[simple(n) for n in range(1, 31)])
    result = poll(mailbox.pk, batch_size=8)
    assert result.stored == 30
    assert sorted(Message.objects.values_list("external_id", flat=True)) == sorted(f"<msg{n}@example.org>" for n in range(1, 31))
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 30 and mailbox.last_error == ""


def test_a_backlog_of_large_messages_flows_through_the_parse_process(mailbox, imap_account, monkeypatch):
    """Batches and their parsed answers far larger than a pipe's buffer: the poller hands batch n+1 over while
    the child is still answering batch n (this deadlocked when the answer was only read after the hand-over)."""
    import os
    import threading
    from email.message import EmailMessage

    from mail import imap

    monkeypatch.setattr(imap, "PARSE_PROCESS_MIN", 5)
    raws = []
    for n in range(1, 13):
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = f"c{n}@example.org", "support@example.com", f"Scan {n}"
        message["Message-ID"] = f"<scan{n}@example.org>"
        message.set_content(f"Scan {n} attached.")
        message.add_attachment(os.urandom(300_000), maintype="application", subtype="octet-stream", filename=f"scan{n}.bin")
        raws.append(message.as_bytes())
    imap_account.append(*raws)
    outcome = {}
    poller = threading.Thread(target=lambda: outcome.update(result=poll(mailbox.pk, batch_size=4)), daemon=True)
    poller.start()
    poller.join(120)
    assert not poller.is_alive(), "the poller hung handing batches to the parse process"
    assert outcome["result"].stored == 12
    assert Attachment.objects.filter(filename__startswith="scan", size=300_000).count() == 12


def test_what_the_parse_process_could_not_read_is_parsed_again_and_kept():
    from mail.services import finish_parsed

    raw = simple(1)
    assert finish_parsed(None, raw, mailbox=None, original_size=len(raw)).external_id == "<msg1@example.org>"
