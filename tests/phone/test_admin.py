"""The Django admin pages for numbers, calls and Messenger pages work and never show the page token."""

from __future__ import annotations

import pytest

from phone.models import PhoneNumber
from social.models import MessengerPage
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_admin_lists_and_edits_phone_numbers(admin_client):
    number = PhoneNumber.objects.create(number="+12025550143", team=TeamFactory(), voice=True)
    assert admin_client.get("/admin/phone/phonenumber/").status_code == 200
    page = admin_client.get(f"/admin/phone/phonenumber/{number.pk}/change/")
    assert page.status_code == 200 and b"Business hours" in page.content
    assert admin_client.get("/admin/phone/call/").status_code == 200


def test_admin_never_shows_the_page_token_and_keeps_it_when_left_empty(admin_client):
    page = MessengerPage.objects.create(page_id="152846578697265", name="Shop", access_token="EAAG-very-secret")
    form = admin_client.get(f"/admin/social/messengerpage/{page.pk}/change/")
    assert form.status_code == 200 and b"EAAG-very-secret" not in form.content

    saved = admin_client.post(f"/admin/social/messengerpage/{page.pk}/change/", {"page_id": page.page_id, "name": "Garden shop", "team": "", "access_token": ""})
    assert saved.status_code == 302
    page.refresh_from_db()
    assert page.name == "Garden shop" and page.access_token == "EAAG-very-secret"
