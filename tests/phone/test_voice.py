"""Voice: TwiML for open/closed hours and unanswered calls, and each call becoming a `voice` message."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, time
from unittest import mock

import pytest

from phone.models import Call
from tests.factories import AgentFactory
from tests.phone.conftest import load, twilio_post
from tests.phone.providers import MP3
from tickets.models import Message, Ticket
from tickets.selectors import QueueFilters, queue

pytestmark = pytest.mark.django_db

VOICE = "/hooks/twilio/voice/"
CALL = load("twilio-sms-08-voice-inbound-call.json")
RECORDING = load("twilio-sms-09-voice-recording-status.json")
TRANSCRIPTION = load("twilio-sms-10-voice-transcription.json")


def twiml(response) -> ET.Element:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/xml")
    return ET.fromstring(response.content)


@pytest.fixture
def agents(desk_number):
    first = AgentFactory(username="alice", first_name="Alice", teams=[desk_number.team], profile={"availability": "online", "phone": "+12025550101"})
    second = AgentFactory(username="bob", first_name="Bob", teams=[desk_number.team], profile={"availability": "online", "phone": "+12025550102"})
    AgentFactory(username="away", teams=[desk_number.team], profile={"availability": "away", "phone": "+12025550103"})
    AgentFactory(username="nophone", teams=[desk_number.team], profile={"availability": "online"})
    return first, second


def test_during_business_hours_the_caller_hears_the_greeting_and_the_first_online_agent_rings(client, provider, desk_number, agents):
    root = twiml(twilio_post(client, VOICE, CALL))

    assert root.find("Say").text == "Welcome to Example Support."
    dial = root.find("Dial")
    assert dial.find("Number").text == "+12025550101"
    assert dial.get("action") == f"https://support.example.com/hooks/twilio/voice/?step=dial&agent={agents[0].pk}"
    assert Call.objects.get().call_sid == "CAe47a06e26927320008d8c260bb3abf35"


def test_outside_business_hours_the_caller_goes_to_voicemail_with_transcription(client, provider, desk_number, agents):
    desk_number.closed_message = "We are closed. Our hours are 9 to 17."
    desk_number.opens_at, desk_number.closes_at, desk_number.open_days = time(9), time(17), "0,1,2,3,4"
    desk_number.save()
    saturday_noon = datetime(2025, 3, 8, 12, 0, tzinfo=UTC)

    with mock.patch("phone.models.timezone.now", return_value=saturday_noon):
        root = twiml(twilio_post(client, VOICE, CALL))

    assert root.find("Say").text == "We are closed. Our hours are 9 to 17."
    assert root.find("Dial") is None
    record = root.find("Record")
    assert record.get("transcribe") == "true"
    assert record.get("transcribeCallback") == "https://support.example.com/hooks/twilio/voice/transcription/"
    assert record.get("recordingStatusCallback") == "https://support.example.com/hooks/twilio/voice/recording/"


def test_the_business_hours_follow_the_numbers_time_zone(desk_number):
    desk_number.time_zone = "Europe/Helsinki"
    desk_number.opens_at, desk_number.closes_at, desk_number.open_days = time(9), time(17), "0,1,2,3,4"
    monday_0800_utc = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)  # 10:00 in Helsinki
    monday_1600_utc = datetime(2025, 3, 3, 16, 0, tzinfo=UTC)  # 18:00 in Helsinki
    assert desk_number.is_open(monday_0800_utc) and not desk_number.is_open(monday_1600_utc)


def test_when_nobody_answers_each_agent_rings_in_turn_then_voicemail(client, provider, desk_number, agents):
    twilio_post(client, VOICE, CALL)

    first, second = agents
    root = twiml(twilio_post(client, VOICE + f"?step=dial&agent={first.pk}", {**CALL, "DialCallStatus": "no-answer", "CallStatus": "in-progress"}))
    assert root.find("Dial/Number").text == "+12025550102"
    assert root.find("Dial").get("action").endswith(f"agent={second.pk}")

    root = twiml(twilio_post(client, VOICE + f"?step=dial&agent={second.pk}", {**CALL, "DialCallStatus": "busy", "CallStatus": "in-progress"}))
    assert root.find("Dial") is None and root.find("Record") is not None
    assert not Message.objects.exists()  # still in progress: nothing to show yet


def test_with_no_agent_online_the_call_goes_straight_to_voicemail(client, provider, desk_number):
    root = twiml(twilio_post(client, VOICE, CALL))
    assert root.find("Dial") is None and root.find("Record") is not None


def test_an_answered_call_is_a_voice_message_naming_the_agent(client, provider, desk_number, agents):
    twilio_post(client, VOICE, CALL)
    root = twiml(twilio_post(client, VOICE + f"?step=dial&agent={agents[0].pk}", {**CALL, "DialCallStatus": "completed", "DialCallDuration": "125", "CallStatus": "in-progress"}))

    assert root.find("Hangup") is not None
    message = Message.objects.get()
    assert message.channel == "voice" and message.ticket.channel == "voice"
    assert message.text == "Call from +14155550163, answered by Alice Tester (2 min 5 s)."
    assert message.meta["call"]["outcome"] == "answered" and message.meta["call"]["duration"] == 125


@pytest.mark.parametrize("order", [("recording", "transcription"), ("transcription", "recording")])
def test_a_voicemail_becomes_one_message_whichever_callback_comes_first(client, provider, desk_number, order):
    twilio_post(client, VOICE, CALL)
    posts = {"recording": ("/hooks/twilio/voice/recording/", RECORDING), "transcription": ("/hooks/twilio/voice/transcription/", TRANSCRIPTION)}

    for name in order:
        path, params = posts[name]
        assert twilio_post(client, path, params).status_code == 204

    message = Message.objects.get()
    assert message.channel == "voice" and message.external_id == "CAe47a06e26927320008d8c260bb3abf35"
    call = message.meta["call"]
    assert call["from"] == "+14155550163" and call["outcome"] == "voicemail" and call["recording_duration"] == 27
    assert call["transcription"].startswith("Hi, this is Tom Reilly")
    assert call["recording_url"] == f"/phone/calls/{Call.objects.get().pk}/recording/"
    assert message.text.splitlines()[0] == "Missed call from +14155550163 — voicemail (27 s)"
    assert "Transcription: Hi, this is Tom Reilly" in message.text
    ticket = message.ticket
    assert ticket.subject.startswith("Missed call from +14155550163") and ticket.team == desk_number.team
    assert ticket.contact.phone == "+14155550163"


def test_a_missed_call_without_voicemail_is_visible_in_the_queue(client, provider, desk_number):
    twilio_post(client, VOICE, CALL)
    status = {**CALL, "CallStatus": "no-answer", "CallDuration": "0"}
    assert twilio_post(client, "/hooks/twilio/status/", status).status_code == 204
    assert twilio_post(client, "/hooks/twilio/status/", status).status_code == 204  # retried: still one

    agent = AgentFactory(teams=[desk_number.team])
    [ticket] = list(queue(agent=agent, filters=QueueFilters(channel="voice")))
    assert ticket.subject == "Missed call from +14155550163." and ticket.status == "new"
    assert [t.pk for t in queue(agent=agent, filters=QueueFilters(tag="missed-call"))] == [ticket.pk]
    assert Message.objects.get().meta["call"]["outcome"] == "missed"


def test_a_forged_voice_webhook_is_refused_and_no_call_is_recorded(client, provider, desk_number):
    assert twilio_post(client, VOICE, CALL, token="wrong").status_code == 403
    assert twilio_post(client, "/hooks/twilio/voice/recording/", RECORDING, token="wrong").status_code == 403
    assert not Call.objects.exists() and not Ticket.objects.exists()


def test_the_recording_link_plays_for_agents_of_the_team_only(client, provider, desk_number):
    twilio_post(client, VOICE, CALL)
    twilio_post(client, "/hooks/twilio/voice/recording/", RECORDING)
    url = Message.objects.get().meta["call"]["recording_url"]

    client.force_login(AgentFactory(teams=[desk_number.team]))
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "audio/mpeg" and response.content == MP3
    assert provider.requests[-1].path.endswith("/Recordings/RE52aa99ef636411b80fa935055f00b1af.mp3")

    client.force_login(AgentFactory())  # another team
    assert client.get(url).status_code == 404


def test_the_ticket_page_shows_the_call_panel(client, provider, desk_number):
    twilio_post(client, VOICE, CALL)
    twilio_post(client, "/hooks/twilio/voice/recording/", RECORDING)
    twilio_post(client, "/hooks/twilio/voice/transcription/", TRANSCRIPTION)
    ticket = Ticket.objects.get()

    client.force_login(AgentFactory(teams=[desk_number.team]))
    page = client.get(f"/agent/tickets/{ticket.pk}/").content.decode()
    assert 'class="card phone-calls"' in page and "Tom Reilly calling about the technician visit" in page
    assert f'src="/phone/calls/{Call.objects.get().pk}/recording/"' in page


def test_a_caller_who_leaves_no_message_is_a_missed_call(client, provider, desk_number):
    root = twiml(twilio_post(client, VOICE, CALL))
    redirect = root.find("Redirect")
    assert redirect.text == "https://support.example.com/hooks/twilio/voice/?step=nomessage"

    root = twiml(twilio_post(client, VOICE + "?step=nomessage", {**CALL, "CallStatus": "in-progress"}))
    assert root.find("Hangup") is not None
    message = Message.objects.get()
    assert message.meta["call"]["outcome"] == "missed" and message.text == "Missed call from +14155550163."


def test_a_late_transcription_is_announced_to_agents_as_a_message_update(client, provider, desk_number, django_capture_on_commit_callbacks):
    from tickets import events

    seen = []

    def listener(kind, data):
        seen.append((kind, data["channel"]))

    events.subscribe("message.updated", listener)
    try:
        twilio_post(client, VOICE, CALL)
        twilio_post(client, "/hooks/twilio/voice/recording/", RECORDING)
        with django_capture_on_commit_callbacks(execute=True):
            twilio_post(client, "/hooks/twilio/voice/transcription/", TRANSCRIPTION)
    finally:
        events.unsubscribe("message.updated", listener)
    assert ("message.updated", "voice") in seen


def test_an_agent_answers_a_voicemail_by_sms_from_the_number_that_was_called(client, provider, desk_number, eager_celery, django_capture_on_commit_callbacks):
    from tickets.services import reply

    twilio_post(client, VOICE, CALL)
    twilio_post(client, "/hooks/twilio/voice/recording/", RECORDING)
    agent = AgentFactory(teams=[desk_number.team])

    with django_capture_on_commit_callbacks(execute=True):
        message = reply(ticket=Ticket.objects.get(), agent=agent, text="Hi Tom, the technician comes on Thursday at 10.")

    [sent] = provider.sent("twilio")
    assert sent.form["To"] == "+14155550163" and sent.form["From"] == "+12025550143"
    message.refresh_from_db()
    assert message.channel == "voice" and message.delivery_status == "sent"
