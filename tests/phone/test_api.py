"""`/api/v1/phone-numbers/`: admins configure numbers; agents may not."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from phone.models import PhoneNumber
from tests.factories import AgentFactory, TeamFactory

pytestmark = pytest.mark.django_db


def api_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_an_admin_creates_updates_and_deletes_a_number():
    team = TeamFactory()
    api = api_for(AgentFactory(profile={"role": "admin"}))

    created = api.post("/api/v1/phone-numbers/", {"number": "+1 202 555 0143", "team": team.pk, "sms": True, "whatsapp": True, "voice": True, "greeting": "Hello"}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert {k: body[k] for k in ("number", "team", "sms", "whatsapp", "voice", "greeting")} == {
        "number": "+12025550143", "team": team.pk, "sms": True, "whatsapp": True, "voice": True, "greeting": "Hello",
    }  # fmt: skip

    changed = api.patch(f"/api/v1/phone-numbers/{body['id']}/", {"opens_at": "09:00", "closes_at": "17:00", "time_zone": "Europe/Helsinki"}, format="json")
    assert changed.status_code == 200 and changed.json()["opens_at"] == "09:00:00"
    assert api.delete(f"/api/v1/phone-numbers/{body['id']}/").status_code == 204
    assert not PhoneNumber.objects.exists()


def test_bad_numbers_and_half_set_hours_get_clear_errors():
    api = api_for(AgentFactory(profile={"role": "admin"}))
    bad = api.post("/api/v1/phone-numbers/", {"number": "call me"}, format="json")
    assert bad.status_code == 400 and "E.164" in bad.json()["number"][0]
    half = api.post("/api/v1/phone-numbers/", {"number": "+12025550143", "opens_at": "09:00"}, format="json")
    assert half.status_code == 400
    zone = api.post("/api/v1/phone-numbers/", {"number": "+12025550143", "time_zone": "Mars/Olympus"}, format="json")
    assert zone.status_code == 400


def test_agents_cannot_change_numbers():
    api = api_for(AgentFactory())
    assert api.get("/api/v1/phone-numbers/").status_code == 403
    assert api.post("/api/v1/phone-numbers/", {"number": "+12025550143"}, format="json").status_code == 403
