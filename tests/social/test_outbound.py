"""Agent replies on Messenger through the Graph API Send API, inside the 24-hour window."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import AgentFactory
from tests.social.conftest import PAGE_ID, fresh_text, meta_post, raw
from tickets.adapters import ReplyRefused
from tickets.models import Message, Ticket
from tickets.services import reply

pytestmark = pytest.mark.django_db

PSID = "2600795529520225"


@pytest.fixture
def ticket(client, provider, page) -> Ticket:
    meta_post(client, fresh_text(PSID, "m_fresh_1", "Do you ship to Finland?"))
    return Ticket.objects.get()


@pytest.fixture
def agent(page):
    return AgentFactory(teams=[page.team])


def test_a_reply_goes_to_the_send_api_with_the_page_token(ticket, agent, provider, eager_celery, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = reply(ticket=ticket, agent=agent, text="Yes, we ship to Finland. Delivery takes 3-5 working days.")

    [request] = provider.sent("graph")
    assert request.path == f"/v19.0/{PAGE_ID}/messages"
    assert request.headers["authorization"] == "Bearer EAAG-page-token-for-tests"
    assert request.json == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "Yes, we ship to Finland. Delivery takes 3-5 working days.", "metadata": "helpdesk:reply"},
    }
    message.refresh_from_db()
    assert message.delivery_status == "sent" and message.external_id.startswith("m_")


def test_a_reply_through_the_rest_api_reaches_the_graph_api(ticket, agent, provider, eager_celery, django_capture_on_commit_callbacks):
    api = APIClient()
    api.force_authenticate(agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/tickets/{ticket.pk}/messages/", {"text": "Hello from the desk"}, format="json")
    assert response.status_code == 201
    assert provider.sent("graph")[0].json["message"]["text"] == "Hello from the desk"


def test_outside_the_24_hour_window_the_agent_is_told_why_and_nothing_is_sent(ticket, agent, provider):
    Message.objects.update(created_at=timezone.now() - timedelta(hours=24, minutes=1))

    with pytest.raises(ReplyRefused, match="within 24 hours of the customer's last message"):
        reply(ticket=ticket, agent=agent, text="Sorry for the delay")
    assert provider.sent("graph") == []
    assert not Message.objects.filter(direction="outbound").exists()


def test_the_corpus_message_from_2025_is_outside_the_window(client, provider, page, agent):
    meta_post(client, raw("messenger-01-text.json"))
    with pytest.raises(ReplyRefused):
        reply(ticket=Ticket.objects.get(), agent=agent, text="Hello")


def test_a_new_customer_message_reopens_the_window(ticket, agent, provider, client, eager_celery, django_capture_on_commit_callbacks):
    Message.objects.update(created_at=timezone.now() - timedelta(days=3))
    meta_post(client, fresh_text(PSID, "m_fresh_2", "Still there?"))
    with django_capture_on_commit_callbacks(execute=True):
        reply(ticket=ticket, agent=agent, text="Yes!")
    assert len(provider.sent("graph")) == 1


def test_a_graph_refusal_marks_the_reply_failed(ticket, agent, provider, eager_celery, django_capture_on_commit_callbacks):
    provider.graph_error = {"message": "This message is sent outside of allowed window.", "type": "OAuthException", "code": 10, "error_subcode": 2018278}
    with django_capture_on_commit_callbacks(execute=True):
        message = reply(ticket=ticket, agent=agent, text="Hello")
    message.refresh_from_db()
    assert message.delivery_status == "failed" and "24-hour" in message.error


def test_a_long_reply_is_split_into_send_api_sized_messages(ticket, agent, provider, eager_celery, django_capture_on_commit_callbacks):
    text = ("Word " * 900).strip()  # 4,499 characters
    with django_capture_on_commit_callbacks(execute=True):
        reply(ticket=ticket, agent=agent, text=text)
    texts = [r.json["message"]["text"] for r in provider.sent("graph")]
    assert len(texts) == 3 and all(len(t) <= 2000 for t in texts) and " ".join(texts) == text
