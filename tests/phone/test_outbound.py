"""Agent replies by SMS and WhatsApp through the real twilio SDK, and delivery status callbacks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from phone.models import OutboundPart
from tests.factories import AgentFactory, MessageFactory
from tests.phone.conftest import load, twilio_post
from tests.phone.providers import ACCOUNT_SID
from tickets.adapters import ReplyRefused
from tickets.models import Message, Ticket
from tickets.services import reply

pytestmark = pytest.mark.django_db

SMS = "/hooks/twilio/sms/"
STATUS = "/hooks/twilio/status/"


@pytest.fixture
def sms_ticket(client, provider, desk_number) -> Ticket:
    twilio_post(client, SMS, load("twilio-sms-01-inbound-sms-unicode.json"))
    return Ticket.objects.get()


@pytest.fixture
def agent(desk_number):
    return AgentFactory(username="anna", first_name="Anna", teams=[desk_number.team])


def test_an_agent_reply_goes_out_through_twilios_messages_api(sms_ticket, agent, provider, eager_celery, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = reply(ticket=sms_ticket, agent=agent, text="Hei Liisa, tarkistamme asian heti.")

    [request] = provider.sent("twilio")
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request.form == {
        "To": "+447700900123",
        "From": "+12025550143",
        "Body": "Hei Liisa, tarkistamme asian heti.",
        "StatusCallback": "https://support.example.com/hooks/twilio/status/",
    }
    message.refresh_from_db()
    assert message.delivery_status == "sent" and message.external_id.startswith("SM")


def test_status_callbacks_in_any_order_end_in_the_furthest_state(sms_ticket, agent, provider, eager_celery, django_capture_on_commit_callbacks, client):
    with django_capture_on_commit_callbacks(execute=True):
        message = reply(ticket=sms_ticket, agent=agent, text="On its way")
    message.refresh_from_db()
    sid = message.external_id
    base = {"MessageSid": sid, "SmsSid": sid, "AccountSid": ACCOUNT_SID, "From": "+12025550143", "To": "+447700900123", "ApiVersion": "2010-04-01"}

    for status in ("delivered", "sent", "queued"):
        assert twilio_post(client, STATUS, {**base, "MessageStatus": status, "SmsStatus": status}).status_code == 204
    message.refresh_from_db()
    assert message.delivery_status == "delivered"


def test_corpus_status_callbacks_update_the_seeded_outbound_messages(client, provider):
    ok = MessageFactory(direction="outbound", channel="sms", ticket__channel="sms", external_id="SMcd17373677a696f660550b8ce46f4fd1", delivery_status="sent")
    bad = MessageFactory(direction="outbound", channel="sms", ticket__channel="sms", external_id="SM5cae40fd1b9fded541137b670210dd3c", delivery_status="sent")

    for name in ("twilio-sms-06-status-delivered.json", "twilio-sms-04-status-queued.json", "twilio-sms-05-status-sent.json", "twilio-sms-07-status-failed.json"):
        assert twilio_post(client, STATUS, load(name)).status_code == 204

    ok.refresh_from_db()
    bad.refresh_from_db()
    assert ok.delivery_status == "delivered" and ok.error == ""
    assert bad.delivery_status == "failed" and "30003" in bad.error and "Unreachable" in bad.error


def test_a_forged_status_callback_changes_nothing(client, provider):
    seeded = MessageFactory(direction="outbound", channel="sms", ticket__channel="sms", external_id="SM5cae40fd1b9fded541137b670210dd3c", delivery_status="sent")
    assert twilio_post(client, STATUS, load("twilio-sms-07-status-failed.json"), token="wrong").status_code == 403
    seeded.refresh_from_db()
    assert seeded.delivery_status == "sent"


def test_a_long_reply_is_split_into_twilio_sized_messages_and_each_part_reports_back(sms_ticket, agent, provider, eager_celery, django_capture_on_commit_callbacks, client):
    paragraph = "Tämä on pitkä vastaus, jossa on paljon tietoa tilauksestasi. " * 20  # ~1,240 characters
    text = "\n".join([paragraph.strip()] * 3)
    with django_capture_on_commit_callbacks(execute=True):
        message = reply(ticket=sms_ticket, agent=agent, text=text)

    bodies = [r.form["Body"] for r in provider.sent("twilio")]
    assert len(bodies) == 3 and all(len(b) <= 1600 for b in bodies)
    assert "\n".join(bodies) == text
    parts = list(OutboundPart.objects.filter(message=message).order_by("index"))
    assert len(parts) == 3

    last = parts[-1].sid
    twilio_post(client, STATUS, {"MessageSid": last, "SmsSid": last, "MessageStatus": "failed", "SmsStatus": "failed", "ErrorCode": "30005", "AccountSid": ACCOUNT_SID})
    message.refresh_from_db()
    assert message.delivery_status == "failed" and "30005" in message.error


def test_twilio_refusing_a_message_marks_the_reply_failed_with_its_reason(client, provider, desk_number, agent, eager_celery, django_capture_on_commit_callbacks):
    params = {**load("twilio-sms-01-inbound-sms-unicode.json"), "From": "+15005550009"}
    twilio_post(client, SMS, params)
    with django_capture_on_commit_callbacks(execute=True):
        message = reply(ticket=Ticket.objects.get(), agent=agent, text="Hello")
    message.refresh_from_db()
    assert message.delivery_status == "failed" and "21614" in message.error


def test_a_whatsapp_reply_is_sent_from_the_whatsapp_sender(client, provider, desk_number, agent, eager_celery, django_capture_on_commit_callbacks):
    twilio_post(client, SMS, load("twilio-sms-02-inbound-whatsapp-image.json"))
    with django_capture_on_commit_callbacks(execute=True):
        reply(ticket=Ticket.objects.get(), agent=agent, text="Lo sentimos, enviaremos otra caja.")

    [request] = provider.sent("twilio")
    assert request.form["To"] == "whatsapp:+447700900456" and request.form["From"] == "whatsapp:+12025550143"
    assert request.form["Body"] == "Lo sentimos, enviaremos otra caja."


def test_whatsapp_refuses_free_form_replies_after_24_hours(client, provider, desk_number, agent):
    twilio_post(client, SMS, load("twilio-sms-02-inbound-whatsapp-image.json"))
    Message.objects.update(created_at=timezone.now() - timedelta(hours=25))

    with pytest.raises(ReplyRefused, match="24 hours"):
        reply(ticket=Ticket.objects.get(), agent=agent, text="Hola")
    assert provider.sent("twilio") == []


def test_a_reply_through_the_rest_api_reaches_twilio(sms_ticket, agent, provider, eager_celery, django_capture_on_commit_callbacks):
    api = APIClient()
    api.force_authenticate(agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/tickets/{sms_ticket.pk}/messages/", {"text": "Reply from the API"}, format="json")

    assert response.status_code == 201, response.content
    [request] = provider.sent("twilio")
    assert request.form["Body"] == "Reply from the API" and request.form["To"] == "+447700900123"


def test_the_rest_api_explains_an_opt_out_to_the_agent(client, sms_ticket, agent, provider):
    twilio_post(client, SMS, {**load("twilio-sms-03-stop.json"), "From": "+447700900123"})
    api = APIClient()
    api.force_authenticate(agent)

    response = api.post(f"/api/v1/tickets/{sms_ticket.pk}/messages/", {"text": "Hello?"}, format="json")

    assert response.status_code == 400 and "STOP" in response.json()["text"][0]
    assert provider.sent("twilio") == []


def test_a_twilio_outage_is_retried_and_the_retry_sends_each_part_once(sms_ticket, agent, provider, django_capture_on_commit_callbacks):
    from phone.outbound import TwilioMessagingAdapter
    from tickets.adapters import TransientSendError
    from tickets.services import deliver_now

    text = "\n".join(["Ensimmäinen osa. " * 90, "Toinen osa. " * 90])
    with django_capture_on_commit_callbacks(execute=False):  # the worker has not run yet
        message = reply(ticket=sms_ticket, agent=agent, text=text)

    provider.fail[r"/Messages\.json$"] = 503
    with pytest.raises(TransientSendError):
        TwilioMessagingAdapter("sms").send(message)
    assert not OutboundPart.objects.exists()

    provider.fail.clear()
    OutboundPart.objects.create(message=message, index=0, sid="SM" + "0" * 32)  # part 1 went out before a crash
    deliver_now(message.pk)

    # the refused attempt, then only the part that had not gone out
    assert [r.form["Body"].split(".")[0] for r in provider.sent("twilio")] == ["Ensimmäinen osa", "Toinen osa"]
    message.refresh_from_db()
    assert message.delivery_status == "sent" and OutboundPart.objects.filter(message=message).count() == 2


def test_a_status_callback_that_races_ahead_of_the_send_is_applied_when_the_sid_is_stored(sms_ticket, agent, provider, client, eager_celery, django_capture_on_commit_callbacks):
    sid = "SM" + "e" * 32
    provider.next_sids.append(sid)
    early = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": "delivered", "SmsStatus": "delivered", "AccountSid": ACCOUNT_SID}
    assert twilio_post(client, STATUS, early).status_code == 204

    with django_capture_on_commit_callbacks(execute=True):
        message = reply(ticket=sms_ticket, agent=agent, text="Fast network")

    message.refresh_from_db()
    assert message.external_id == sid and message.delivery_status == "delivered"
