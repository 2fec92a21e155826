"""The report pages in the admin: linked from the index, filters, SVG charts, CSV for every table, staff only."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from reports.queries import REPORTS
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(desk) -> Client:
    admin = AgentFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    return client


def test_admin_index_links_to_reports(admin_client):
    page = admin_client.get("/admin/").content.decode()
    assert 'href="/admin/reports/report/"' in page
    index = admin_client.get("/admin/reports/report/").content.decode()
    for slug in REPORTS:
        assert f"/admin/reports/report/{slug}/" in index


@pytest.mark.parametrize("slug", list(REPORTS))
def test_every_report_renders_a_chart_and_tables_with_csv(admin_client, week, slug):
    response = admin_client.get(f"/admin/reports/report/{slug}/", week)
    assert response.status_code == 200
    page = response.content.decode()
    assert "<svg" in page and "<script" not in page.split('id="content-main"')[1]
    for table in response.context["result"].tables:
        download = admin_client.get(f"/admin/reports/report/{slug}/", {**week, "format": "csv", "table": table.name})
        assert download["Content-Type"].startswith("text/csv")
        lines = list(csv.reader(io.StringIO(download.content.decode())))
        assert lines[0] == [str(c.label) for c in table.columns]
        assert len(lines) == 1 + len(table.rows)


def test_csv_numbers_match_the_page(admin_client, week):
    download = admin_client.get("/admin/reports/report/response-times/", {**week, "format": "csv", "table": "times"})
    rows = list(csv.DictReader(io.StringIO(download.content.decode())))
    assert rows[0]["Team"] == "All teams" and rows[0]["First response, median"] == "150.0"
    page = admin_client.get("/admin/reports/report/response-times/", week).content.decode()
    assert "2 min 30 s" in page  # the same 150 s, humanized


def test_team_filter_is_kept_in_links(admin_client, desk, week):
    page = admin_client.get("/admin/reports/report/csat/", {**week, "team": desk.billing.pk}).content.decode()
    assert f"team={desk.billing.pk}" in page and "Alice A" not in page


def test_csv_cells_cannot_become_spreadsheet_formulas(admin_client, desk, week):
    desk.support.name = "=HYPERLINK(\"http://evil\")"
    desk.support.save()
    download = admin_client.get("/admin/reports/report/sla-breaches/", {**week, "format": "csv", "table": "team"}).content.decode()
    assert "'=HYPERLINK" in download


def test_reports_are_for_staff_only(desk, week):
    agent = AgentFactory(username="plain")
    client = Client()
    client.force_login(agent)
    response = client.get("/admin/reports/report/csat/", week)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_unknown_report_is_404(admin_client):
    assert admin_client.get("/admin/reports/report/nope/").status_code == 404
