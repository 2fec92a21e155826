"""Reports as custom admin views: /admin/reports/report/ (index, linked from the admin index) and
/admin/reports/report/<slug>/ (one report; `?format=csv&table=<name>` downloads a table)."""

from __future__ import annotations

import csv
from datetime import timedelta

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from tickets.models import Team

from .base import Result, parse_filters
from .models import Report
from .queries import REPORTS, run_report


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("", view(self.index_view), name="reports_report_changelist"),
            path("<slug:slug>/", view(self.report_view), name="reports_report_show"),
        ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def index_view(self, request: HttpRequest) -> HttpResponse:
        self._check(request)
        query = urlencode({k: v for k, v in request.GET.items() if k in ("from", "to", "team")})
        links = [(title, reverse("admin:reports_report_show", args=[slug]) + (f"?{query}" if query else "")) for slug, (title, _fn) in REPORTS.items()]
        context = {**self.admin_site.each_context(request), "title": _("Reports"), "links": links, **self._filter_context(request), "opts": self.model._meta}
        return TemplateResponse(request, "admin/reports/index.html", context)

    def report_view(self, request: HttpRequest, slug: str) -> HttpResponse:
        self._check(request)
        if slug not in REPORTS:
            raise Http404
        title, fn = REPORTS[slug]
        filters = parse_filters(request.GET)
        result: Result = run_report(fn, filters)
        if request.GET.get("format") == "csv":
            return _csv(result, request.GET.get("table", ""), slug)
        base = {k: v for k, v in request.GET.items() if k in ("from", "to", "team")}
        csv_links = {t.name: "?" + urlencode({**base, "format": "csv", "table": t.name}) for t in result.tables}
        context = {
            **self.admin_site.each_context(request),
            **self._filter_context(request),
            "title": title,
            "result": result,
            "tables": [(t, csv_links[t.name]) for t in result.tables],
            "opts": self.model._meta,
            "reports": [(s, str(t)) for s, (t, _fn) in REPORTS.items()],
            "slug": slug,
        }
        return TemplateResponse(request, "admin/reports/report.html", context)

    def _check(self, request: HttpRequest) -> None:
        if not self.has_view_permission(request):
            raise PermissionDenied

    def _filter_context(self, request: HttpRequest) -> dict:
        filters = parse_filters(request.GET)
        last_day = timezone.localtime(filters.end).date() - timedelta(days=1)
        return {
            "filters": filters,
            "from_value": timezone.localtime(filters.start).date().isoformat(),
            "to_value": last_day.isoformat(),
            "teams": Team.objects.all(),
        }


def _csv(result: Result, name: str, slug: str) -> HttpResponse:
    table = result.table(name) or (result.tables[0] if result.tables else None)
    if table is None:
        raise Http404
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slug}-{table.name}.csv"'
    writer = csv.writer(response)
    writer.writerow([str(c.label) for c in table.columns])
    for row in table.rows:
        writer.writerow([_csv_value(row.get(c.key)) for c in table.columns])
    return response


def _csv_value(value) -> str:
    if value is None:
        return ""
    text = str(value)
    # A cell starting with = + - @ would run as a formula in a spreadsheet (team and agent names are free text).
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
