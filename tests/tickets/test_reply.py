from __future__ import annotations

import pytest

from tests.factories import AgentFactory, TeamFactory
from tickets.adapters import (
    PermanentSendError,
    ReplyRefused,
    TransientSendError,
    get_adapter,
    register_adapter,
    unregister_adapter,
)
from tickets.inbound import InboundMessage
from tickets.models import DeliveryStatus, Message, Status, Ticket
from tickets.services import InvalidMessage, deliver_now, ingest, reply, update_delivery

pytestmark = pytest.mark.django_db


class RecordingAdapter:
    queued = False

    def __init__(self, refuse: str = "", fail: Exception | None = None) -> None:
        self.sent: list[str] = []
        self.refuse, self.fail = refuse, fail

    def check(self, ticket):
        if self.refuse:
            raise ReplyRefused(self.refuse)

    def send(self, message):
        if self.fail:
            raise self.fail
        self.sent.append(message.text)
        return f"EXT-{message.pk}"


@pytest.fixture
def adapters():
    saved = {c: get_adapter(c) for c in ("sms", "messenger")}
    made = {}

    def install(channel, adapter):
        register_adapter(channel, adapter)
        made[channel] = adapter
        return adapter

    yield install
    for channel, adapter in saved.items():
        if adapter is None:
            unregister_adapter(channel)
        else:
            register_adapter(channel, adapter)


def sms_ticket(team) -> Ticket:
    return ingest(InboundMessage(channel="sms", external_id="SM1", sender_kind="phone", sender_address="+1555000", text="hi", team_id=team.pk)).ticket


def test_reply_routes_through_the_adapter_of_the_customers_channel(adapters, django_capture_on_commit_callbacks):
    team = TeamFactory()
    agent = AgentFactory(teams=[team])
    sms = adapters("sms", RecordingAdapter())
    messenger = adapters("messenger", RecordingAdapter())
    ticket = sms_ticket(team)
    with django_capture_on_commit_callbacks(execute=True):
        message = reply(ticket=ticket, agent=agent, text="Hello from the desk")
    message.refresh_from_db()
    assert sms.sent == ["Hello from the desk"] and messenger.sent == []
    assert message.delivery_status == DeliveryStatus.SENT and message.external_id == f"EXT-{message.pk}"
    ticket.refresh_from_db()
    assert ticket.first_response_at is not None and ticket.status == Status.OPEN and not ticket.unread


def test_reply_is_stored_once_per_client_id(adapters, django_capture_on_commit_callbacks):
    team = TeamFactory()
    agent = AgentFactory(teams=[team])
    sms = adapters("sms", RecordingAdapter())
    ticket = sms_ticket(team)
    with django_capture_on_commit_callbacks(execute=True):
        first = reply(ticket=ticket, agent=agent, text="once", client_id="abc")
        second = reply(ticket=ticket, agent=agent, text="once", client_id="abc")
    assert first.pk == second.pk and sms.sent == ["once"]


def test_internal_notes_never_reach_the_channel(adapters, django_capture_on_commit_callbacks):
    team = TeamFactory()
    agent = AgentFactory(teams=[team])
    sms = adapters("sms", RecordingAdapter())
    ticket = sms_ticket(team)
    with django_capture_on_commit_callbacks(execute=True):
        note = reply(ticket=ticket, agent=agent, text="customer seems upset", internal=True)
    assert note.direction == "note" and sms.sent == []
    ticket.refresh_from_db()
    assert ticket.first_response_at is None


def test_refused_reply_stores_nothing_and_says_why(adapters):
    team = TeamFactory()
    agent = AgentFactory(teams=[team])
    adapters("sms", RecordingAdapter(refuse="The customer opted out of SMS."))
    ticket = sms_ticket(team)
    with pytest.raises(ReplyRefused, match="opted out"):
        reply(ticket=ticket, agent=agent, text="hi")
    assert not Message.objects.filter(direction="outbound").exists()


@pytest.mark.parametrize("text", ["", "   ", "x" * 200_001])
def test_empty_or_oversized_reply_is_refused(adapters, text):
    team = TeamFactory()
    adapters("sms", RecordingAdapter())
    with pytest.raises(InvalidMessage):
        reply(ticket=sms_ticket(team), agent=AgentFactory(teams=[team]), text=text)


def test_permanent_failure_marks_the_message_failed(adapters, django_capture_on_commit_callbacks):
    team = TeamFactory()
    adapters("sms", RecordingAdapter(fail=PermanentSendError("invalid number")))
    with django_capture_on_commit_callbacks(execute=True):
        message = reply(ticket=sms_ticket(team), agent=AgentFactory(teams=[team]), text="hi")
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.FAILED and message.error == "invalid number"


def test_transient_failure_keeps_the_message_queued_for_a_retry(adapters):
    team = TeamFactory()
    adapter = adapters("sms", RecordingAdapter(fail=TransientSendError("timeout")))
    message = reply(ticket=sms_ticket(team), agent=AgentFactory(teams=[team]), text="hi")
    with pytest.raises(TransientSendError):
        deliver_now(message.pk)
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.QUEUED
    adapter.fail = None
    deliver_now(message.pk)
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.SENT and adapter.sent == ["hi"]


def test_delivery_callbacks_in_any_order_never_step_back(adapters):
    team = TeamFactory()
    adapters("sms", RecordingAdapter())
    message = reply(ticket=sms_ticket(team), agent=AgentFactory(teams=[team]), text="hi")
    for status in ("delivered", "sent", "queued"):
        update_delivery(message=message, status=status)
    message.refresh_from_db()
    assert message.delivery_status == "delivered"
    update_delivery(message=message, status="failed", error="30003")
    update_delivery(message=message, status="delivered")
    message.refresh_from_db()
    assert message.delivery_status == "failed" and message.error == "30003"
