"""Offering surveys: when a chat ends (widget frame) and when an email ticket is resolved (once), and sending
the link by the right channel."""

from __future__ import annotations

import asyncio
import json

import pytest
from channels.layers import get_channel_layer
from django.core import mail

from feedback import listeners
from feedback.delivery import deliver_link
from feedback.models import Survey
from feedback.services import answer_survey, offer_survey
from tests.factories import AgentFactory, ContactFactory, TicketFactory
from tickets import events, services
from tickets.adapters import get_adapter, register_adapter, unregister_adapter
from tickets.events import publish


@pytest.fixture
def locmem_mail(settings):
    settings.EMAIL_URL = "locmem:"
    mail.outbox = []
    return mail.outbox


@pytest.mark.django_db
def test_chat_end_offers_one_survey_per_session(django_capture_on_commit_callbacks, monkeypatch):
    queued = []
    monkeypatch.setattr("feedback.tasks.send_survey_link.apply_async", lambda args, countdown: queued.append((args, countdown)))
    agent = AgentFactory()
    ticket = TicketFactory(channel="chat", assignee=None)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):  # the chat app may announce twice (retries); one survey
            publish("chat.ended", groups=(), frame=None, data={"ticket_id": ticket.pk, "session_id": 9, "agent_id": agent.pk})

    survey = Survey.objects.get(ticket=ticket)
    assert (survey.trigger, survey.agent, survey.channel) == ("chat:9", agent, "chat")
    assert queued == [((survey.pk,), 600)]


@pytest.mark.django_db(transaction=True)
def test_chat_end_sends_the_survey_frame_to_the_customer_widget():
    ticket = TicketFactory(channel="chat")
    layer = get_channel_layer()

    async def scenario():
        channel = await layer.new_channel()
        await layer.group_add(f"customer.{ticket.pk}", channel)
        await asyncio.to_thread(_closing, listeners.on_chat_ended, "chat.ended", {"ticket_id": ticket.pk, "session_id": 1, "agent_id": None})
        return await asyncio.wait_for(layer.receive(channel), 5)

    frame = json.loads(events.frame_text(asyncio.run(scenario())))
    survey = Survey.objects.get(ticket=ticket)
    assert frame == {"type": "survey", "url": f"/survey/{survey.token}/"}


@pytest.mark.django_db
def test_email_ticket_gets_the_survey_once_when_resolved(django_capture_on_commit_callbacks, locmem_mail, monkeypatch):
    monkeypatch.setattr("feedback.tasks.send_survey_link.delay", lambda survey_id: deliver_link(survey_id))
    agent = AgentFactory()
    ticket = TicketFactory(channel="email", assignee=agent, contact=ContactFactory(email="pat@example.org"))
    for status in ("resolved", "open", "resolved", "closed"):
        with django_capture_on_commit_callbacks(execute=True):
            services.set_status(ticket=ticket, actor=agent, status=status)

    survey = Survey.objects.get(ticket=ticket)
    assert (survey.trigger, survey.link_sent_via) == ("resolved", "email")
    assert len(locmem_mail) == 1
    assert locmem_mail[0].to == ["pat@example.org"] and survey.url in locmem_mail[0].body
    assert f"[#{ticket.pk}]" in locmem_mail[0].subject


@pytest.mark.django_db
def test_other_channels_do_not_get_a_survey_when_resolved(django_capture_on_commit_callbacks):
    agent = AgentFactory()
    ticket = TicketFactory(channel="sms", assignee=agent)
    with django_capture_on_commit_callbacks(execute=True):
        services.set_status(ticket=ticket, actor=agent, status="resolved")
    assert not Survey.objects.exists()


@pytest.mark.django_db
def test_link_is_not_sent_for_answered_surveys_or_twice(locmem_mail):
    ticket = TicketFactory(channel="chat", contact=ContactFactory(email="v@example.org"))
    answered = offer_survey(ticket=ticket, trigger="chat:1")[0]
    answer_survey(token=answered.token, rating=4)
    pending = offer_survey(ticket=ticket, trigger="chat:2")[0]

    assert deliver_link(answered.pk) == ""
    assert deliver_link(pending.pk) == "email"
    assert deliver_link(pending.pk) == ""
    assert len(locmem_mail) == 1


class RecordingSms:
    """Stands in for the phone app's Twilio adapter (the internet service); records what would be sent."""

    queued = False

    def __init__(self):
        self.sent = []

    def check(self, ticket):
        return None

    def send(self, message):
        self.sent.append(message.text)
        return f"SM{message.pk}"


@pytest.mark.django_db
def test_sms_ticket_gets_the_link_through_its_channel(locmem_mail, django_capture_on_commit_callbacks):
    previous = get_adapter("sms")
    adapter = RecordingSms()
    register_adapter("sms", adapter)
    try:
        ticket = TicketFactory(channel="sms", contact=ContactFactory(email="", phone="+358401234567"))
        survey = offer_survey(ticket=ticket, trigger="chat:1")[0]
        with django_capture_on_commit_callbacks(execute=True):
            via = deliver_link(survey.pk)
    finally:
        if previous is not None:
            register_adapter("sms", previous)
        else:
            unregister_adapter("sms")

    assert via == "sms"
    assert len(adapter.sent) == 1 and survey.url in adapter.sent[0]
    assert ticket.messages.get(is_bot=True).direction == "outbound"
    assert locmem_mail == []


@pytest.mark.django_db
def test_contact_without_address_is_marked_not_retried(locmem_mail):
    ticket = TicketFactory(channel="chat", contact=ContactFactory(email=""))
    survey = offer_survey(ticket=ticket, trigger="chat:1")[0]
    assert deliver_link(survey.pk) == "none"
    assert deliver_link(survey.pk) == ""


def _closing(fn, *args, **kwargs):
    """Run in a worker thread and close that thread's DB connection (the test database is dropped after)."""
    from django.db import connection

    try:
        return fn(*args, **kwargs)
    finally:
        connection.close()
