"""`/api/v1/messenger-pages/`: admins only, the page token write-only and encrypted at rest."""

from __future__ import annotations

import pytest
from django.db import connection
from rest_framework.test import APIClient

from social.models import MessengerPage
from tests.factories import AgentFactory, TeamFactory

pytestmark = pytest.mark.django_db


def api_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_an_admin_connects_a_page_and_the_token_is_never_returned():
    team = TeamFactory()
    admin = AgentFactory(profile={"role": "admin"})
    api = api_for(admin)

    created = api.post("/api/v1/messenger-pages/", {"page_id": "152846578697265", "name": "Shop", "team": team.pk, "access_token": "EAAG-secret"}, format="json")
    assert created.status_code == 201 and "access_token" not in created.json()
    listed = api.get("/api/v1/messenger-pages/").json()
    assert "EAAG-secret" not in str(listed)

    page = MessengerPage.objects.get()
    assert page.access_token == "EAAG-secret"
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token FROM social_messengerpage WHERE id = %s", [page.pk])
        assert "EAAG-secret" not in cursor.fetchone()[0]

    api.patch(f"/api/v1/messenger-pages/{page.pk}/", {"name": "Garden shop"}, format="json")
    page.refresh_from_db()
    assert page.name == "Garden shop" and page.access_token == "EAAG-secret"  # omitted: kept


def test_agents_cannot_see_or_change_pages():
    MessengerPage.objects.create(page_id="1", access_token="t")
    api = api_for(AgentFactory())
    assert api.get("/api/v1/messenger-pages/").status_code == 403
    assert api.post("/api/v1/messenger-pages/", {"page_id": "2"}, format="json").status_code == 403
