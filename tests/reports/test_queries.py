"""Every report's numbers against the hand-computed desk in conftest.py."""

from __future__ import annotations

import pytest

from reports.base import parse_filters
from reports.queries import REPORTS, run_report

pytestmark = pytest.mark.django_db


def report(slug: str, params: dict):
    return run_report(REPORTS[slug][1], parse_filters(params))


def rows(result, table: str) -> list[dict]:
    return result.table(table).rows


def test_filters_are_inclusive_days():
    f = parse_filters({"from": "2026-03-02", "to": "2026-03-08", "team": "7"})
    assert (f.start.isoformat(), f.end.isoformat(), f.team_id, f.days) == ("2026-03-02T00:00:00+00:00", "2026-03-09T00:00:00+00:00", 7, 7)


def test_response_and_resolution_times(desk, week):
    # First responses: all [30, 60, 120, 180, 240, 600]; Support [60, 120, 180, 240]; Billing [30, 600].
    # Resolutions: all [60, 300, 600, 900, 1200, 7200]; Support [60, 300, 600, 1200, 7200]; Billing [900].
    # percentile_cont: position p*(n-1), linear between neighbours.
    got = {r["team"]: r for r in rows(report("response-times", week), "times")}
    assert got["All teams"] == {"team": "All teams", "responded": 6, "frt_median": 150.0, "frt_p90": 420.0, "resolved": 6, "res_median": 750.0, "res_p90": 4200.0}
    assert (got["Support"]["frt_median"], got["Support"]["frt_p90"], got["Support"]["res_median"], got["Support"]["res_p90"]) == (150.0, 222.0, 600.0, 4800.0)
    assert (got["Billing"]["frt_median"], got["Billing"]["frt_p90"], got["Billing"]["res_median"], got["Billing"]["res_p90"]) == (315.0, 543.0, 900.0, 900.0)
    assert list(got) == ["All teams", "Billing", "Support"]


def test_response_times_for_one_team(desk, week):
    got = rows(report("response-times", {**week, "team": str(desk.billing.pk)}), "times")
    assert [(r["team"], r["responded"], r["frt_median"], r["resolved"]) for r in got] == [("All teams", 2, 315.0, 1), ("Billing", 2, 315.0, 1)]


def test_chats_per_agent_per_hour(desk, week):
    # alice: T1, T2, T3 (Mon 09h) and T11 (Thu 16h) = 4 chats in 2 hours; carol: T6, T12 (Wed 10h) = 2 in 1.
    got = rows(report("chats-per-agent", week), "agents")
    assert got == [
        {"agent": "Alice A", "chats": 4, "hours": 2, "per_hour": 2.0},
        {"agent": "Carol C", "chats": 2, "hours": 1, "per_hour": 2.0},
    ]


def test_concurrent_chats(desk, week):
    # Mon: T1 09:00–09:10 and T2 09:05–09:10 overlap (2). Wed: T6 10:00–10:15 and T12 10:05–10:20 (unresolved:
    # open until its last message) overlap (2). T3 and T11 are alone.
    got = rows(report("concurrent-chats", week), "concurrency")
    assert got == [
        {"agent": "All agents", "chats": 6, "peak": 2},
        {"agent": "Alice A", "chats": 4, "peak": 2},
        {"agent": "Carol C", "chats": 2, "peak": 2},
    ]


def test_a_lone_chat_peaks_at_one(desk):
    # Thursday holds only T11.
    got = rows(report("concurrent-chats", {"from": "2026-03-05", "to": "2026-03-05"}), "concurrency")
    assert got == [{"agent": "All agents", "chats": 1, "peak": 1}, {"agent": "Alice A", "chats": 1, "peak": 1}]


def test_csat_by_agent_team_and_channel(desk, week):
    # In range: T1 5 (alice, chat), T2 3 (alice, chat), T4 4 (alice, email), T6 2 (carol, chat).
    result = report("csat", week)
    overall = {"name": "All", "answers": 4, "avg": 3.5, "satisfied_pct": 50.0}
    assert rows(result, "agent") == [overall, {"name": "Alice A", "answers": 3, "avg": 4.0, "satisfied_pct": 66.7}, {"name": "Carol C", "answers": 1, "avg": 2.0, "satisfied_pct": 0.0}]
    assert rows(result, "team") == [overall, {"name": "Support", "answers": 3, "avg": 4.0, "satisfied_pct": 66.7}, {"name": "Billing", "answers": 1, "avg": 2.0, "satisfied_pct": 0.0}]
    assert rows(result, "channel") == [overall, {"name": "Email", "answers": 1, "avg": 4.0, "satisfied_pct": 100.0}, {"name": "Chat", "answers": 3, "avg": 3.33, "satisfied_pct": 33.3}]


def test_csat_for_one_team(desk, week):
    got = rows(report("csat", {**week, "team": str(desk.billing.pk)}), "agent")
    assert got == [{"name": "All", "answers": 1, "avg": 2.0, "satisfied_pct": 0.0}, {"name": "Carol C", "answers": 1, "avg": 2.0, "satisfied_pct": 0.0}]


def test_volume_by_channel_per_day(desk, week):
    got = [{k: v for k, v in r.items() if v} for r in rows(report("volume", week), "volume")]
    assert got == [
        {"period": "2026-03-02", "chat": 3, "total": 3},
        {"period": "2026-03-03", "email": 2, "total": 2},
        {"period": "2026-03-04", "chat": 2, "sms": 1, "total": 3},
        {"period": "2026-03-05", "chat": 1, "total": 1},
        {"period": "2026-03-06"},  # days without tickets are listed with zeros
        {"period": "2026-03-07"},
        {"period": "2026-03-08"},
    ]


def test_volume_switches_to_weeks_for_long_ranges(desk):
    got = [(r["period"], r["total"]) for r in rows(report("volume", {"from": "2026-01-01", "to": "2026-06-30"}), "volume")]
    # Week of Mon 23 Feb holds the 1 March ticket; week of 2 March the 9 (the merged one excluded); 9 March one.
    assert got[0] == ("2025-12-29", 0) and got[-1] == ("2026-06-29", 0) and len(got) == 27
    assert [g for g in got if g[1]] == [("2026-02-23", 1), ("2026-03-02", 9), ("2026-03-09", 1)]


def test_sla_breaches(desk, week):
    result = report("sla-breaches", week)
    assert rows(result, "team") == [{"name": "All teams", "n": 3}, {"name": "Support", "n": 2}, {"name": "Billing", "n": 1}]
    assert rows(result, "target") == [{"name": "first_response", "n": 2}, {"name": "resolution", "n": 1}]
    billing = report("sla-breaches", {**week, "team": str(desk.billing.pk)})
    assert rows(billing, "team") == [{"name": "All teams", "n": 1}, {"name": "Billing", "n": 1}]


def test_kb_deflections(desk, week):
    from django.apps import apps

    try:
        Article = apps.get_model("knowledge", "Article")
        Deflection = apps.get_model("knowledge", "Deflection")
    except LookupError:
        assert rows(report("deflections", week), "total") == [{"name": "Total", "n": 0}]
        return
    from tests.reports.conftest import at

    article = Article.objects.create(title="Reset your password", slug="reset-password")
    for when in (at(2, 8), at(2, 9), at(6, 12), at(9, 0)):
        Deflection.objects.create(article=article, widget_key="demo", created_at=when, team=desk.support)
    result = report("deflections", week)
    assert rows(result, "total") == [{"name": "Total", "n": 3}]
    assert rows(result, "daily") == [{"day": "2026-03-02", "n": 2}, {"day": "2026-03-06", "n": 1}]
    assert rows(report("deflections", {**week, "team": str(desk.billing.pk)}), "total") == [{"name": "Total", "n": 0}]


def test_busiest_hours(desk, week):
    got = {r["hour"]: r for r in rows(report("busiest-hours", week), "hours")}
    assert len(got) == 24
    nonzero = {(hour, day): n for hour, r in got.items() for day, n in r.items() if day.startswith("d") and n}
    assert nonzero == {("09:00", "d1"): 3, ("14:00", "d2"): 2, ("10:00", "d3"): 3, ("16:00", "d4"): 1}
    assert got["10:00"]["total"] == 3 and got["00:00"]["total"] == 0


def test_empty_range_gives_empty_tables_not_errors(db):
    for slug in REPORTS:
        result = report(slug, {"from": "2001-01-01", "to": "2001-01-02"})
        assert result.tables and result.charts


def test_busiest_hours_use_the_desk_time_zone(desk, week):
    from django.utils import timezone

    with timezone.override("Europe/Helsinki"):  # UTC+2 in early March
        got = {r["hour"]: r for r in rows(report("busiest-hours", week), "hours")}
    nonzero = {(hour, day): n for hour, r in got.items() for day, n in r.items() if day.startswith("d") and n}
    # The range is local days too: Sun 1 March 23:59:59 UTC is Mon 2 March 01:59 in Helsinki.
    assert nonzero == {("01:00", "d1"): 1, ("11:00", "d1"): 3, ("16:00", "d2"): 2, ("12:00", "d3"): 3, ("18:00", "d4"): 1}
