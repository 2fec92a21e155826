"""Feature listeners run off the web process, in the Celery worker, unless configured inline."""

from __future__ import annotations

import json
import threading

import pytest

from tickets import events
from tickets.inbound import InboundMessage
from tickets.services import ingest

pytestmark = pytest.mark.django_db


@pytest.fixture
def seen():
    calls = []

    def listener(kind, data):
        calls.append((kind, data["ticket_id"]))

    events.subscribe("ticket.created", listener)
    yield calls
    events.unsubscribe("ticket.created", listener)


def message() -> InboundMessage:
    return InboundMessage(channel="sms", external_id="SM-listen", sender_kind="phone", sender_address="+1555", text="hi")


def test_in_worker_mode_listeners_go_through_the_celery_task(settings, seen, django_capture_on_commit_callbacks, monkeypatch):
    from tickets import tasks

    batches = []
    monkeypatch.setattr(tasks.run_event_batch, "delay", batches.append)
    settings.EVENT_LISTENERS = "worker"
    with django_capture_on_commit_callbacks(execute=True):
        stored = ingest(message())
    assert events.flush()
    assert seen == []  # nothing ran in the publishing process
    queued = [tuple(note) for batch in batches for note in batch]
    assert ("ticket.created", {"ticket_id": stored.ticket_id, "team_id": stored.ticket.team_id, "status": "new"}) in queued
    # The worker runs the same task with the JSON it received.
    for batch in batches:
        tasks.run_event_batch(batch)
    assert seen == [("ticket.created", stored.ticket_id)]


def test_in_worker_mode_a_burst_of_events_reaches_the_broker_as_few_batches_in_order(settings, seen, monkeypatch):
    from tickets import tasks

    batches = []
    monkeypatch.setattr(tasks.run_event_batch, "delay", batches.append)
    settings.EVENT_LISTENERS = "worker"
    release, holding = threading.Event(), threading.Event()
    send_now = events._send_now

    def slow_send(sends):
        holding.set()
        release.wait(10)  # the delivery thread is busy with a send while the burst gathers
        send_now(sends)

    monkeypatch.setattr(events, "_send_now", slow_send)
    events.send_to_groups(["nobody.listens"], {"type": "noop"})
    assert holding.wait(10)
    for n in range(20):
        events._deliver("ticket.created", (), None, {"ticket_id": n})
    release.set()
    assert events.flush()
    notes = [note for batch in batches for note in batch]
    assert [data["ticket_id"] for _kind, data in notes] == list(range(20))
    assert len(batches) == 1


def test_in_worker_mode_events_a_moment_apart_share_a_task_while_frames_leave_at_once(settings, monkeypatch):
    """A steady trickle (one event every few milliseconds, as a busy chat desk makes) still reaches the worker
    in few tasks: notifications wait briefly for company; the websocket frames of those events do not."""
    import time

    from tickets import tasks

    batches, sent_at = [], []
    monkeypatch.setattr(tasks.run_event_batch, "delay", lambda notes: batches.append((time.monotonic(), notes)))
    monkeypatch.setattr(events, "_send_now", lambda sends: sent_at.extend(time.monotonic() for _ in sends))
    settings.EVENT_LISTENERS = "worker"
    events.subscribe("ticket.updated", noop := lambda kind, data: None)
    try:
        assert events.flush()
        started = time.monotonic()
        for n in range(5):
            events._deliver("ticket.updated", ("team.1",), {"type": "ticket"}, {"ticket_id": n})
            time.sleep(0.01)
        deadline = time.monotonic() + 5
        while not batches and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        events.unsubscribe("ticket.updated", noop)
    assert len(batches) == 1 and [data["ticket_id"] for _kind, data in batches[0][1]] == list(range(5))
    assert len(sent_at) == 5 and sent_at[0] - started < 0.05  # the first frame did not wait for the batch
    assert batches[0][0] - started >= events._Dispatcher.LISTEN_LINGER * 0.9


def test_when_the_broker_is_down_listeners_still_run_here(settings, seen, django_capture_on_commit_callbacks, monkeypatch):
    from tickets import tasks

    def down(*args):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.run_event_batch, "delay", down)
    settings.EVENT_LISTENERS = "worker"
    with django_capture_on_commit_callbacks(execute=True):
        stored = ingest(message())
    assert events.flush()
    assert seen == [("ticket.created", stored.ticket_id)]


def test_a_failing_listener_does_not_stop_the_others(settings, seen, django_capture_on_commit_callbacks):
    def broken(kind, data):
        raise RuntimeError("boom")

    events.subscribe("ticket.created", broken)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            stored = ingest(message())
    finally:
        events.unsubscribe("ticket.created", broken)
    assert seen == [("ticket.created", stored.ticket_id)]


def test_listeners_of_one_worker_batch_read_configuration_once_and_see_edits_in_the_next_batch(monkeypatch):
    from tickets.tasks import run_event_batch
    from workflows import tasks as workflow_tasks
    from workflows.models import Webhook, WebhookDelivery

    monkeypatch.setattr(workflow_tasks.deliver_webhook, "delay", lambda *args: None)  # no delivery attempt here

    loads = []
    real_memo = events.memo

    def counting_memo(key, loader):
        def load():
            loads.append(key)
            return loader()

        return real_memo(key, load)

    ticket = ingest(message()).ticket
    note = ["ticket.updated", {"ticket_id": ticket.pk, "team_id": ticket.team_id, "status": ticket.status}]
    events.memo, original = counting_memo, events.memo
    try:
        run_event_batch([note, note, note])
        assert loads.count("workflows.webhooks") == 1 and loads.count("workflows.sla_policies") == 1
        Webhook.objects.create(url="https://crm.example.com/hook", events=["ticket.updated"], secret="s3cret")
        run_event_batch([note])
    finally:
        events.memo = original
    assert WebhookDelivery.objects.filter(event="ticket.updated").count() == 1  # the next batch saw the new hook
    assert events.memo("k", lambda: 1) == 1 and events.memo("k", lambda: 2) == 2  # outside a batch: no memo


def test_a_batch_of_frames_goes_out_in_one_pipeline_in_order_to_every_group(monkeypatch):
    """Frames of one delivery batch reach each group's sockets in the order they were published."""
    import asyncio

    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    used = []
    real = events._publish_pipelined

    async def spy(layer_, sends):
        used.append(await real(layer_, sends))
        return used[-1]

    monkeypatch.setattr(events, "_publish_pipelined", spy)

    async def scenario():
        team, agent = await layer.new_channel(), await layer.new_channel()
        await layer.group_add("team.77", team)
        await layer.group_add("agent.5", agent)
        await layer.group_add("team.77", agent)  # an agent of the team: gets the ticket frame twice, `eid` dedupes
        ticket = {"type": "hd.event", "frame": {"type": "ticket", "n": 1}, "eid": "e1"}
        message = {"type": "hd.event", "frame": {"type": "message", "n": 2}, "eid": "e2"}
        await asyncio.to_thread(events._send_now, [(["team.77", "agent.5"], ticket), (["agent.5"], message)])
        team_got = [await asyncio.wait_for(layer.receive(team), 5)]
        agent_got = [await asyncio.wait_for(layer.receive(agent), 5) for _ in range(3)]
        return team_got, agent_got

    team_got, agent_got = asyncio.run(scenario())
    assert used == [True]
    # Each frame is serialized once by the sender; every socket sends that text as is.
    assert [json.loads(events.frame_text(e))["n"] for e in team_got] == [1]
    assert [json.loads(events.frame_text(e))["n"] for e in agent_got] == [1, 1, 2]
    assert all("frame" not in e and isinstance(e["text"], str) for e in team_got + agent_got)


def test_event_ids_are_unique_and_a_forked_process_gets_its_own_prefix(monkeypatch):
    ids = {events.new_event_id() for _ in range(10_000)}
    assert len(ids) == 10_000
    before = events.new_event_id()
    monkeypatch.setattr(events.os, "getpid", lambda: -1)  # as in a forked child
    after = events.new_event_id()
    assert after[:10] != before[:10]
    assert after not in ids
