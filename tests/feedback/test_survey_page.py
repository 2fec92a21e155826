"""The customer's /survey/<token>/ page: form and JSON, single use, expiry, results on ticket and agent."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from feedback.services import offer_survey
from tests.factories import AgentFactory, TeamFactory, TicketFactory
from tickets.models import TicketEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey():
    team = TeamFactory()
    agent = AgentFactory(username="alice", teams=[team])
    ticket = TicketFactory(team=team, assignee=agent, channel="chat")
    return offer_survey(ticket=ticket, trigger="chat:1")[0]


def test_form_answer_is_stored_on_ticket_and_agent(survey, client: Client):
    page = client.get(survey.url)
    assert page.status_code == 200 and b'name="rating"' in page.content

    done = client.post(survey.url, {"rating": "4", "comment": "Quick and kind"})

    assert done.status_code == 200 and b"Thank you" in done.content
    survey.refresh_from_db()
    assert (survey.rating, survey.comment, survey.answered_at is not None) == (4, "Quick and kind", True)
    assert survey.agent.username == "alice"
    assert TicketEvent.objects.get(ticket=survey.ticket, kind="survey_answered").data["rating"] == 4


def test_token_is_single_use(survey, client: Client):
    assert client.post(survey.url, {"rating": "5"}).status_code == 200
    again = client.post(survey.url, {"rating": "1", "comment": "changed my mind"})
    assert again.status_code == 410 and b"already been answered" in again.content
    assert client.get(survey.url).status_code == 410
    survey.refresh_from_db()
    assert (survey.rating, survey.comment) == (5, "")


def test_expired_token_is_refused(survey, client: Client):
    type(survey).objects.filter(pk=survey.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(survey.url).status_code == 410
    response = client.post(survey.url, json.dumps({"rating": 5}), content_type="application/json")
    assert response.status_code == 410 and response.json()["error"] == "expired"
    survey.refresh_from_db()
    assert survey.rating is None


def test_widget_posts_json_cross_origin(survey):
    client = Client(enforce_csrf_checks=True)
    preflight = client.options(survey.url, HTTP_ORIGIN="https://shop.example.com")
    assert preflight.status_code == 204 and preflight["Access-Control-Allow-Origin"] == "*"

    response = client.post(survey.url, json.dumps({"rating": 3, "comment": "ok"}), content_type="application/json", HTTP_ORIGIN="https://shop.example.com")

    assert response.status_code == 200 and response.json()["ok"] is True
    survey.refresh_from_db()
    assert (survey.rating, survey.comment) == (3, "ok")


@pytest.mark.parametrize("payload", [{"rating": 0}, {"rating": 6}, {"rating": "five"}, {"comment": "no rating"}, [5], {"rating": True}])
def test_bad_answers_are_refused_and_the_survey_stays_open(survey, client: Client, payload):
    response = client.post(survey.url, json.dumps(payload), content_type="application/json")
    assert response.status_code == 400 and response.json()["error"] == "invalid"
    survey.refresh_from_db()
    assert survey.answered_at is None


def test_unknown_token_is_404(client: Client, db):
    assert client.get("/survey/not-a-token/").status_code == 404
    assert client.post("/survey/not-a-token/", json.dumps({"rating": 5}), content_type="application/json").status_code == 404


def test_answer_shows_on_the_agents_ticket_page(survey, client: Client):
    client.post(survey.url, {"rating": "2", "comment": "Slow <script>"})
    client.force_login(survey.agent)
    page = client.get(f"/agent/tickets/{survey.ticket_id}/").content.decode()
    assert 'id="survey-panel"' in page and "2 / 5" in page and "Slow &lt;script&gt;" in page
