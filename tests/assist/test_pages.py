"""The flow pages: list and create (admins), builder save as versions with validation, reports for agents."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from assist.models import Flow
from tests.factories import AgentFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def clients():
    team = TeamFactory(name="Support")
    admin = AgentFactory(username="boss", teams=[team], profile={"role": "admin"})
    agent = AgentFactory(username="alice", teams=[team])
    a, b = Client(), Client()
    a.force_login(admin)
    b.force_login(agent)
    return {"admin": a, "agent": b, "team": team}


def test_an_admin_creates_a_flow_and_saves_new_versions(clients):
    admin = clients["admin"]
    response = admin.post("/assist/flows/", {"name": "Front door", "widget": ""})
    flow = Flow.objects.get(name="Front door")
    assert response["Location"] == f"/assist/flows/{flow.pk}/"
    page = admin.get(f"/assist/flows/{flow.pk}/").content.decode()
    assert 'id="flow-data"' in page and "flow_builder.js" in page
    definition = {"start": "a", "steps": [{"id": "a", "type": "message", "text": "Hello", "next": "b"}, {"id": "b", "type": "handoff", "team": clients["team"].pk}]}
    saved = admin.post(f"/assist/flows/{flow.pk}/save/", json.dumps({"name": "Front door", "active": True, "definition": definition}), content_type="application/json")
    assert saved.status_code == 200 and saved.json()["version"] == 2
    again = admin.post(f"/assist/flows/{flow.pk}/save/", json.dumps({"name": "Front door", "active": True, "definition": definition}), content_type="application/json")
    assert again.json()["version"] == 2  # unchanged: no new version
    flow.refresh_from_db()
    assert flow.active and flow.live_version().definition == definition


def test_an_invalid_flow_gets_the_reasons_and_changes_nothing(clients):
    admin = clients["admin"]
    admin.post("/assist/flows/", {"name": "F"})
    flow = Flow.objects.get()
    bad = {"start": "x", "steps": [{"id": "a", "type": "ask", "text": "Email?", "field": "email", "validate": "email", "next": "zzz"}]}
    response = admin.post(f"/assist/flows/{flow.pk}/save/", json.dumps({"definition": bad}), content_type="application/json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert any("must start at one of its steps" in e for e in errors)
    assert any("does not exist" in e for e in errors)
    assert admin.post(f"/assist/flows/{flow.pk}/save/", b"{not json", content_type="application/json").status_code == 400
    assert flow.versions.count() == 1


def test_agents_see_reports_but_cannot_edit(clients):
    clients["admin"].post("/assist/flows/", {"name": "F"})
    flow = Flow.objects.get()
    agent = clients["agent"]
    listing = agent.get("/assist/flows/").content.decode()
    assert "F" in listing and "New flow" not in listing
    assert agent.get(f"/assist/flows/{flow.pk}/report/").status_code == 200
    assert agent.get(f"/assist/flows/{flow.pk}/").status_code == 404
    assert agent.post(f"/assist/flows/{flow.pk}/save/", "{}", content_type="application/json").status_code == 404
    assert agent.post("/assist/flows/", {"name": "Mine"}).status_code == 404
    assert Flow.objects.count() == 1


def test_anonymous_visitors_are_sent_to_login():
    response = Client().get("/assist/flows/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
