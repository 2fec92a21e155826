"""Business-hours arithmetic: time zones, DST, holidays, defaults."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tests.factories import TeamFactory
from workflows import hours
from workflows.models import BusinessHours, Holiday

pytestmark = pytest.mark.django_db

WEEKDAYS_9_17 = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def helsinki():
    team = TeamFactory(name="Helsinki")
    BusinessHours.objects.create(name="HEL", team=team, timezone="Europe/Helsinki", schedule=WEEKDAYS_9_17)
    return team


def test_friday_afternoon_plus_two_hours_lands_on_monday_morning_local_time(helsinki):
    # Fri 2026-11-20 16:00 in Helsinki (UTC+2) is 14:00 UTC; one hour left Friday, one on Monday.
    due = hours.add_business_time(helsinki, utc(2026, 11, 20, 14, 0), 120)
    assert due == utc(2026, 11, 23, 8, 0)  # Mon 10:00 Helsinki


def test_a_holiday_is_skipped(helsinki):
    Holiday.objects.create(calendar=helsinki.business_hours, date=date(2026, 11, 23), name="Closed")
    due = hours.add_business_time(helsinki, utc(2026, 11, 20, 14, 0), 120)
    assert due == utc(2026, 11, 24, 8, 0)  # Tue 10:00 Helsinki
    assert not hours.is_open(helsinki, utc(2026, 11, 23, 9, 0))


def test_daylight_saving_change_keeps_wall_clock_hours():
    team = TeamFactory()
    BusinessHours.objects.create(name="NY", team=team, timezone="America/New_York", schedule=WEEKDAYS_9_17)
    # Fri 2026-03-06 16:00 EST (21:00 UTC); DST starts Sun 2026-03-08; Mon 10:00 EDT is 14:00 UTC.
    assert hours.add_business_time(team, utc(2026, 3, 6, 21, 0), 120) == utc(2026, 3, 9, 14, 0)
    assert hours.is_open(team, utc(2026, 3, 9, 13, 30))  # 09:30 EDT
    assert not hours.is_open(team, utc(2026, 3, 6, 13, 30))  # 08:30 EST


def test_is_open_in_the_teams_zone_not_utc(helsinki):
    assert hours.is_open(helsinki.pk, utc(2026, 11, 24, 7, 30))  # 09:30 Helsinki, 07:30 UTC
    assert not hours.is_open(helsinki.pk, utc(2026, 11, 24, 15, 30))  # 17:30 Helsinki
    assert not hours.is_open(helsinki.pk, utc(2026, 11, 22, 10, 0))  # Sunday


def test_start_before_opening_counts_from_opening(helsinki):
    assert hours.add_business_time(helsinki, utc(2026, 11, 24, 3, 0), 30) == utc(2026, 11, 24, 7, 30)


def test_business_minutes_between_skips_the_night(helsinki):
    assert hours.business_minutes_between(helsinki, utc(2026, 11, 24, 14, 0), utc(2026, 11, 25, 8, 0)) == 120


def test_default_calendar_and_always_open():
    team = TeamFactory()
    assert hours.is_open(team, utc(2026, 11, 22, 3, 0))  # no calendar at all: always open
    assert hours.add_business_time(team, utc(2026, 11, 22, 3, 0), 90) == utc(2026, 11, 22, 4, 30)
    BusinessHours.objects.create(name="Default", timezone="UTC", schedule={"sat": [["10:00", "24:00"]]})
    assert not hours.is_open(team, utc(2026, 11, 22, 3, 0))
    assert hours.is_open(team, utc(2026, 11, 21, 23, 59))
    assert hours.add_business_time(team, utc(2026, 11, 21, 23, 0), 90) == utc(2026, 11, 28, 10, 30)


def test_admins_manage_business_hours_and_sla_policies_over_the_api():
    from rest_framework.test import APIClient

    from tests.factories import AgentFactory

    team = TeamFactory()
    client = APIClient()
    client.force_authenticate(AgentFactory(teams=[team]))
    assert client.get("/api/v1/business-hours/").status_code == 403
    client.force_authenticate(AgentFactory(profile={"role": "admin"}))
    body = {"name": "HEL", "team": team.pk, "timezone": "Europe/Helsinki", "schedule": WEEKDAYS_9_17, "holidays": [{"date": "2026-12-24", "name": "Christmas Eve"}]}
    created = client.post("/api/v1/business-hours/", body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["holidays"] == [{"date": "2026-12-24", "name": "Christmas Eve"}]
    assert not hours.is_open(team.pk, utc(2026, 12, 24, 10, 0))
    assert client.post("/api/v1/business-hours/", {**body, "team": None, "timezone": "Mars/Olympus"}, format="json").status_code == 400
    assert client.post("/api/v1/business-hours/", {**body, "team": None, "schedule": {"mon": [["17:00", "09:00"]]}}, format="json").status_code == 400
    assert client.post("/api/v1/business-hours/", {**body, "team": None, "schedule": {"funday": []}}, format="json").status_code == 400
    policy = client.post("/api/v1/sla-policies/", {"name": "VIP", "priority": "urgent", "first_response_minutes": 15}, format="json")
    assert policy.status_code == 201 and policy.json()["business_hours"] is True
    assert client.patch(f"/api/v1/sla-policies/{policy.json()['id']}/", {"active": False}, format="json").json()["active"] is False
