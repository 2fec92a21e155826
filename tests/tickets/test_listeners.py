"""Feature listeners run off the web process, in the Celery worker, unless configured inline."""

from __future__ import annotations

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

    queued = []
    monkeypatch.setattr(tasks.run_event_listeners, "delay", lambda kind, data: queued.append((kind, data)))
    settings.EVENT_LISTENERS = "worker"
    with django_capture_on_commit_callbacks(execute=True):
        stored = ingest(message())
    assert seen == []  # nothing ran in the publishing process
    assert ("ticket.created", {"ticket_id": stored.ticket_id, "team_id": stored.ticket.team_id, "status": "new"}) in queued
    # The worker runs the same task with the JSON it received.
    for kind, data in queued:
        tasks.run_event_listeners(kind, data)
    assert seen == [("ticket.created", stored.ticket_id)]


def test_when_the_broker_is_down_listeners_still_run_here(settings, seen, django_capture_on_commit_callbacks, monkeypatch):
    from tickets import tasks

    def down(*args):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.run_event_listeners, "delay", down)
    settings.EVENT_LISTENERS = "worker"
    with django_capture_on_commit_callbacks(execute=True):
        stored = ingest(message())
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
