from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import AgentFactory, MessageFactory, TeamFactory, TicketFactory
from tickets.models import Message, Tag

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    support, billing = TeamFactory(name="Support"), TeamFactory(name="Billing")
    alice = AgentFactory(username="alice", teams=[support])
    mine = [TicketFactory(team=support, channel=ch) for ch in ("email", "sms", "chat")]
    foreign = TicketFactory(team=billing)
    client = APIClient()
    client.force_authenticate(alice)
    return {"alice": alice, "support": support, "mine": mine, "foreign": foreign, "client": client}


def test_ticket_list_shows_only_the_agents_teams(setup):
    response = setup["client"].get("/api/v1/tickets/")
    assert response.status_code == 200
    ids = {t["id"] for t in response.json()["results"]}
    assert ids == {t.pk for t in setup["mine"]}
    assert response.json()["count"] == 3
    first = response.json()["results"][0]
    assert set(first) >= {"id", "subject", "status", "priority", "channel", "team", "assignee", "contact", "tags", "created_at", "updated_at", "last_message_at"}


def test_ticket_list_filters(setup):
    client = setup["client"]
    assert [t["channel"] for t in client.get("/api/v1/tickets/?channel=sms").json()["results"]] == ["sms"]
    setup["mine"][0].tags.add(Tag.objects.create(name="vip"))
    assert [t["id"] for t in client.get("/api/v1/tickets/?tag=vip").json()["results"]] == [setup["mine"][0].pk]
    assert client.get("/api/v1/tickets/?status=closed").json()["count"] == 0


def test_ticket_list_has_no_n_plus_one(setup, django_assert_max_num_queries):
    for _ in range(20):
        TicketFactory(team=setup["support"]).tags.add(Tag.objects.get_or_create(name="x")[0])
    with django_assert_max_num_queries(8):
        response = setup["client"].get("/api/v1/tickets/?page_size=50")
    assert len(response.json()["results"]) == 23


def test_another_teams_ticket_is_a_404_everywhere(setup):
    client, foreign = setup["client"], setup["foreign"]
    assert client.get(f"/api/v1/tickets/{foreign.pk}/").status_code == 404
    assert client.get(f"/api/v1/tickets/{foreign.pk}/messages/").status_code == 404
    assert client.post(f"/api/v1/tickets/{foreign.pk}/messages/", {"text": "hi", "internal": True}, format="json").status_code == 404
    assert client.patch(f"/api/v1/tickets/{foreign.pk}/", {"status": "closed"}, format="json").status_code == 404
    assert client.get(f"/api/v1/contacts/{foreign.contact_id}/").status_code == 404
    assert not Message.objects.filter(ticket=foreign).exists()


def test_post_internal_note_and_patch_ticket(setup):
    client, ticket = setup["client"], setup["mine"][0]
    response = client.post(f"/api/v1/tickets/{ticket.pk}/messages/", {"text": "note to self", "internal": True}, format="json")
    assert response.status_code == 201 and response.json()["direction"] == "note"
    assert response.json()["author"] == {"type": "agent", "id": setup["alice"].pk, "name": setup["alice"].get_full_name()}
    response = client.patch(f"/api/v1/tickets/{ticket.pk}/", {"status": "pending", "add_tags": ["billing"], "assignee": setup["alice"].pk}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "pending" and response.json()["tags"] == ["billing"] and response.json()["assignee"] == setup["alice"].pk


def test_messages_list_contract_shape(setup):
    message = MessageFactory(ticket=setup["mine"][0])
    data = setup["client"].get(f"/api/v1/tickets/{message.ticket_id}/messages/").json()["results"][0]
    assert data["author"]["type"] == "contact" and data["attachments"] == [] and data["delivery_status"] == "received"


def test_mass_assignment_of_role_or_team_is_not_possible_for_agents(setup):
    client = setup["client"]
    assert client.patch(f"/api/v1/agents/{setup['alice'].pk}/", {"role": "admin"}, format="json").status_code == 403
    response = client.patch("/api/v1/agents/me/", {"availability": "online", "role": "admin", "teams": [setup["foreign"].team_id]}, format="json")
    assert response.status_code == 200
    setup["alice"].refresh_from_db()
    assert setup["alice"].agent.role == "agent" and setup["alice"].agent.availability == "online"
    assert list(setup["alice"].helpdesk_teams.values_list("name", flat=True)) == ["Support"]


def test_token_auth_and_login_rate_limit():
    AgentFactory(username="tok")
    client = APIClient()
    token = client.post("/api/v1/auth/token/", {"username": "tok", "password": "pw"}, format="json").json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/tickets/").status_code == 200
    anonymous = APIClient()
    for _ in range(10):
        assert anonymous.post("/api/v1/auth/token/", {"username": "tok", "password": "wrong"}, format="json").status_code == 400
    assert anonymous.post("/api/v1/auth/token/", {"username": "tok", "password": "pw"}, format="json").status_code == 429


def test_unauthenticated_api_is_refused():
    assert APIClient().get("/api/v1/tickets/").status_code in (401, 403)


def test_openapi_schema_and_docs_are_served(setup):
    assert setup["client"].get("/api/schema/").status_code == 200
    client = APIClient()
    client.force_login(setup["alice"])
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"cdn" not in docs.content.lower()
