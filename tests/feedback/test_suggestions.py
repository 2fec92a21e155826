"""The agents' suggestion board: post, vote (once each), comment; managers set the status."""

from __future__ import annotations

import pytest
from django.test import Client

from feedback.models import Suggestion, SuggestionVote
from gamification.models import Award, PointRule
from tests.factories import AgentFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    team = TeamFactory()
    return {
        "alice": AgentFactory(username="alice", first_name="Alice", teams=[team]),
        "bob": AgentFactory(username="bob", first_name="Bob", teams=[team]),
        "boss": AgentFactory(username="boss", first_name="Boss", teams=[team], profile={"role": "supervisor"}),
    }


def as_(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_posting_a_suggestion_counts_the_authors_vote(people):
    response = as_(people["alice"]).post("/agent/suggestions/", {"title": "Snooze tickets until a date", "body": "Like email snooze"})
    suggestion = Suggestion.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/agent/suggestions/{suggestion.pk}/"
    assert (suggestion.title, suggestion.status, suggestion.votes.count()) == ("Snooze tickets until a date", "new", 1)


def test_empty_title_is_refused(people):
    as_(people["alice"]).post("/agent/suggestions/", {"title": "  "})
    assert not Suggestion.objects.exists()


def test_votes_are_one_per_agent_and_can_be_withdrawn(people):
    suggestion = Suggestion.objects.create(author=people["alice"], title="Dark mode")
    bob = as_(people["bob"])
    for _ in range(3):
        bob.post(f"/agent/suggestions/{suggestion.pk}/vote/", {"up": "1"})
    as_(people["boss"]).post(f"/agent/suggestions/{suggestion.pk}/vote/", {"up": "1"})
    assert SuggestionVote.objects.filter(suggestion=suggestion).count() == 2

    bob.post(f"/agent/suggestions/{suggestion.pk}/vote/", {"up": "0"})
    assert list(SuggestionVote.objects.values_list("agent__username", flat=True)) == ["boss"]


def test_board_lists_most_voted_first(people):
    few = Suggestion.objects.create(author=people["alice"], title="Few votes")
    many = Suggestion.objects.create(author=people["bob"], title="Many votes")
    for user in people.values():
        SuggestionVote.objects.create(suggestion=many, agent=user)
    SuggestionVote.objects.create(suggestion=few, agent=people["bob"])

    page = as_(people["alice"]).get("/agent/suggestions/").content.decode()

    assert page.index("Many votes") < page.index("Few votes")


def test_comments_show_on_the_suggestion(people):
    suggestion = Suggestion.objects.create(author=people["alice"], title="Macros")
    as_(people["bob"]).post(f"/agent/suggestions/{suggestion.pk}/comment/", {"body": "Yes please <b>now</b>"})
    page = as_(people["alice"]).get(f"/agent/suggestions/{suggestion.pk}/").content.decode()
    assert "Yes please &lt;b&gt;now&lt;/b&gt;" in page


def test_only_managers_set_status_and_acceptance_awards_points_once(people, django_capture_on_commit_callbacks):
    PointRule.objects.update_or_create(reason="suggestion_accepted", defaults={"points": 25, "active": True})
    suggestion = Suggestion.objects.create(author=people["alice"], title="Templates per team")
    url = f"/agent/suggestions/{suggestion.pk}/status/"

    assert as_(people["bob"]).post(url, {"status": "planned"}).status_code == 403
    boss = as_(people["boss"])
    with django_capture_on_commit_callbacks(execute=True):
        boss.post(url, {"status": "planned"})
    with django_capture_on_commit_callbacks(execute=True):
        boss.post(url, {"status": "done"})

    suggestion.refresh_from_db()
    assert suggestion.status == "done" and suggestion.accepted_at is not None
    assert list(Award.objects.values_list("agent__username", "reason", "points")) == [("alice", "suggestion_accepted", 25)]


def test_declined_suggestion_awards_nothing(people, django_capture_on_commit_callbacks):
    PointRule.objects.update_or_create(reason="suggestion_accepted", defaults={"points": 25, "active": True})
    suggestion = Suggestion.objects.create(author=people["alice"], title="Comic Sans everywhere")
    with django_capture_on_commit_callbacks(execute=True):
        as_(people["boss"]).post(f"/agent/suggestions/{suggestion.pk}/status/", {"status": "declined"})
    assert not Award.objects.exists()


def test_board_needs_an_agent(client: Client, db):
    assert client.get("/agent/suggestions/").status_code == 302
