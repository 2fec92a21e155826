"""End to end in real Chromium against a real daphne: an SMS and a Messenger message arrive through the
signed webhooks, the agent answers in the ticket page, and the reply reaches the local Twilio / Graph API."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

import pytest
import requests
from playwright.sync_api import expect
from twilio.request_validator import RequestValidator

from phone.models import PhoneNumber
from social.models import MessengerPage
from tests.conftest import login_page, start_server
from tests.factories import AgentFactory, TeamFactory
from tests.phone.conftest import load
from tests.phone.providers import ACCOUNT_SID, APP_SECRET, AUTH_TOKEN, PAGE_TOKEN, PUBLIC_BASE, start_provider
from tickets.models import Message, Ticket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.server]


@pytest.fixture(scope="module")
def live(django_db_setup, django_db_blocker, tmp_path_factory):
    provider, fake = start_provider()
    server = start_server(tmp_path_factory.mktemp("phone-server"), {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_API_BASE": provider.url,
        "PUBLIC_BASE_URL": PUBLIC_BASE, "META_APP_SECRET": APP_SECRET, "META_GRAPH_BASE": provider.url + "/v19.0",
        "META_MEDIA_BASE": provider.url, "CELERY_TASK_ALWAYS_EAGER": "1",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,support.example.com",
    })  # fmt: skip
    yield server, provider
    server.stop()
    fake.shutdown()
    fake.server_close()


def wait_for(predicate, what: str, seconds: float = 15.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"never happened: {what}")


def test_an_sms_answered_in_the_browser_reaches_twilio_and_reports_delivery(live, browser):
    server, provider = live
    team = TeamFactory(name="Phones")
    AgentFactory(username="sara", first_name="Sara", teams=[team])
    PhoneNumber.objects.create(number="+12025550143", team=team, sms=True)
    params = load("twilio-sms-01-inbound-sms-unicode.json")
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_BASE + "/hooks/twilio/sms/", params)
    response = requests.post(server.url + "/hooks/twilio/sms/", data=urlencode(params), timeout=10,
                             headers={"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert response.status_code == 200, server.log()
    ticket = Ticket.objects.get(channel="sms")

    page = login_page(browser, server, "sara")
    page.goto(f"{server.url}/agent/")
    expect(page.locator(f'[data-ticket="{ticket.pk}"] .ch-sms, tr:has-text("Tilaukseni") .ch-sms').first).to_be_visible()
    page.goto(f"{server.url}/agent/tickets/{ticket.pk}/")
    page.locator("#reply-text").fill("Hei Liisa! Paketti lähti eilen, seurantakoodi tulee tekstiviestillä.")
    page.locator("#reply-send").click()

    [sent] = wait_for(lambda: provider.sent("twilio"), "a Messages.json request")
    assert sent.form["To"] == "+447700900123" and sent.form["From"] == "+12025550143"
    assert sent.form["Body"] == "Hei Liisa! Paketti lähti eilen, seurantakoodi tulee tekstiviestillä."
    assert sent.form["StatusCallback"] == PUBLIC_BASE + "/hooks/twilio/status/"
    reply = wait_for(lambda: Message.objects.filter(direction="outbound", external_id__startswith="SM").first(), "the stored SID")

    status = {"MessageSid": reply.external_id, "SmsSid": reply.external_id, "MessageStatus": "delivered", "SmsStatus": "delivered", "AccountSid": ACCOUNT_SID}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_BASE + "/hooks/twilio/status/", status)
    requests.post(server.url + "/hooks/twilio/status/", data=status, headers={"X-Twilio-Signature": signature}, timeout=10)
    reply.refresh_from_db()
    assert reply.delivery_status == "delivered"
    expect(page.locator(f"#m{reply.pk} .delivery")).to_have_class("delivery delivery-delivered")


def test_a_messenger_message_answered_in_the_browser_reaches_the_send_api(live, browser):
    server, provider = live
    team = TeamFactory(name="Social")
    AgentFactory(username="mika", first_name="Mika", teams=[team])
    MessengerPage.objects.create(page_id="152846578697265", name="Shop", team=team, access_token=PAGE_TOKEN)
    now = int(time.time() * 1000)
    body = json.dumps({"object": "page", "entry": [{"time": now, "id": "152846578697265", "messaging": [{
        "sender": {"id": "2600795529520225"}, "recipient": {"id": "152846578697265"}, "timestamp": now,
        "message": {"mid": "m_browser_1", "text": "Do you ship to Finland?"}}]}]}, separators=(",", ":")).encode()  # fmt: skip
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    response = requests.post(server.url + "/hooks/messenger/", data=body, timeout=10,
                             headers={"X-Hub-Signature-256": signature, "Content-Type": "application/json"})  # fmt: skip
    assert response.status_code == 200, server.log()
    ticket = Ticket.objects.get(channel="messenger")

    page = login_page(browser, server, "mika")
    page.goto(f"{server.url}/agent/tickets/{ticket.pk}/")
    page.locator("#reply-text").fill("Yes, we ship to Finland.")
    page.locator("#reply-send").click()

    [sent] = wait_for(lambda: provider.sent("graph"), "a Send API request")
    assert sent.json["recipient"] == {"id": "2600795529520225"} and sent.json["message"]["text"] == "Yes, we ship to Finland."
    assert sent.headers["authorization"] == f"Bearer {PAGE_TOKEN}"


def test_concurrent_deliveries_of_one_webhook_are_stored_once(live):
    from concurrent.futures import ThreadPoolExecutor

    server, _provider = live
    team = TeamFactory(name="Race")
    PhoneNumber.objects.create(number="+12025550143", team=team, sms=True, whatsapp=True)
    params = load("twilio-sms-02-inbound-whatsapp-image.json")
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_BASE + "/hooks/twilio/sms/", params)

    def deliver(_):
        return requests.post(server.url + "/hooks/twilio/sms/", data=urlencode(params), timeout=30,
                             headers={"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"}).status_code  # fmt: skip

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(deliver, range(6)))

    assert statuses == [200] * 6, server.log()
    assert Message.objects.filter(external_id="MMc7861f4bbccbdaf8c38f6c9f9f92ae9c").count() == 1
    assert Ticket.objects.filter(channel="whatsapp").count() == 1


def test_the_agent_sees_why_a_messenger_reply_is_refused_outside_24_hours(live, browser):
    from datetime import timedelta

    from django.utils import timezone

    from social.parsing import IncomingMessage
    from tickets.services import ingest

    server, provider = live
    team = TeamFactory(name="Late")
    AgentFactory(username="lea", first_name="Lea", teams=[team])
    MessengerPage.objects.create(page_id="152846578697265", name="Shop", team=team, access_token=PAGE_TOKEN)
    old = IncomingMessage(page_id="152846578697265", sender_id="2370930096045710", mid="m_old_1", text="Hello?", received_at=timezone.now() - timedelta(days=2))
    ticket = ingest(old.inbound(team_id=team.pk)).ticket
    before = len(provider.sent("graph"))

    page = login_page(browser, server, "lea")
    page.goto(f"{server.url}/agent/tickets/{ticket.pk}/")
    page.locator("#reply-text").fill("Sorry for the wait!")
    page.locator("#reply-send").click()

    expect(page.locator("body")).to_contain_text("Messenger allows replies only within 24 hours")
    assert len(provider.sent("graph")) == before
    assert not Message.objects.filter(ticket=ticket, direction="outbound").exists()
