"""The index follows the other apps' own write paths: canned responses, KB articles, answered surveys."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from assist.models import IndexDoc
from chat.models import CannedResponse
from feedback.services import answer_survey, offer_survey
from knowledge.services import save_article
from tests.factories import AgentFactory, MessageFactory, TeamFactory, TicketFactory
from tickets import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    return AgentFactory(username="alice", teams=[TeamFactory(name="Support")])


def suggestions(agent, text):
    ticket = TicketFactory(team=agent.helpdesk_teams.first())
    MessageFactory(ticket=ticket, text=text)
    client = APIClient()
    client.force_authenticate(agent)
    return client.get(f"/api/v1/tickets/{ticket.pk}/suggestions/").json()["results"]


def test_a_canned_response_is_suggested_once_saved_and_gone_once_deleted(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        canned = CannedResponse.objects.create(shortcut="wifi", title="Router restart", body="Please unplug the router for 30 seconds and plug it back in.")
    first = suggestions(alice, "My wifi router stopped working")[0]
    assert (first["source"], first["ref"], first["title"]) == ("canned", canned.pk, "Router restart")
    with django_capture_on_commit_callbacks(execute=True):
        canned.delete()
    assert all(r["source"] != "canned" for r in suggestions(alice, "My wifi router stopped working"))


def test_a_published_article_is_suggested_with_its_public_link_and_a_draft_is_not(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        draft = save_article(author=None, title="Pairing headphones", slug="pairing", body="Hold the **pairing** button for five seconds.", status="draft")
    assert suggestions(alice, "how do I pair my headphones") == []
    with django_capture_on_commit_callbacks(execute=True):
        save_article(author=None, article=draft, status="published")
    hit = suggestions(alice, "how do I pair my headphones")[0]
    assert hit["source"] == "article" and hit["ref"] == draft.pk
    assert hit["url"] == "/kb/pairing/" and "/kb/pairing/" in hit["text"]
    assert "Hold the pairing button" in hit["text"]  # a plain-text snippet, not Markdown


def test_a_well_rated_closing_reply_is_learned_and_a_poorly_rated_one_is_not(alice, django_capture_on_commit_callbacks):
    team = alice.helpdesk_teams.first()
    good, bad = TicketFactory(team=team, subject="Parcel stuck"), TicketFactory(team=team, subject="Parcel stuck")
    for ticket, answer in ((good, "I asked the carrier to redeliver your parcel tomorrow."), (bad, "Please wait.")):
        MessageFactory(ticket=ticket, text="My parcel tracking has not moved for a week")
        MessageFactory(ticket=ticket, direction="outbound", author_contact=None, author_agent=alice, text=answer)
    with django_capture_on_commit_callbacks(execute=True):
        for ticket, rating in ((good, 5), (bad, 2)):
            services.set_status(ticket=ticket, actor=alice, status="resolved")
            survey, _created = offer_survey(ticket=ticket, trigger="resolved")
            answer_survey(token=survey.token, rating=rating)
    assert IndexDoc.objects.filter(source="reply", ref=good.pk).exists()
    assert not IndexDoc.objects.filter(source="reply", ref=bad.pk).exists()
    hit = suggestions(alice, "tracking of my parcel has not moved")[0]
    assert (hit["source"], hit["ref"], hit["text"]) == ("reply", good.pk, "I asked the carrier to redeliver your parcel tomorrow.")
