"""The reports. Every number comes from one SQL aggregation; Python only labels the few result rows."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Avg, Count, Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay, TruncDate, TruncHour, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tickets.models import Channel, Team, Ticket, TicketEvent

from . import charts
from .base import Column, Filters, Result, Table
from .sql import concurrency_sql, fetch, is_postgres, percentiles_by_team, seconds_between

ALL = "__all__"


def response_times(f: Filters) -> Result:
    """First response and resolution time (median, p90) for tickets created in the range, per team and overall."""
    where, params = f.ticket_where()
    stats = percentiles_by_team(
        metrics={"frt": seconds_between("t.first_response_at", "t.created_at"), "res": seconds_between("t.resolved_at", "t.created_at")},
        from_where_sql=f"FROM tickets_ticket t WHERE {where}", params=params,
    )
    names = _team_names()
    rows = []
    for key in [ALL, *sorted(set(stats) - {ALL}, key=lambda k: (k is None, names.get(k, "")))]:
        a, b = stats.get(key, {}).get("frt", {}), stats.get(key, {}).get("res", {})
        rows.append({
            "team": _("All teams") if key == ALL else names.get(key, _("No team")),
            "responded": a.get("n", 0), "frt_median": a.get("p50"), "frt_p90": a.get("p90"),
            "resolved": b.get("n", 0), "res_median": b.get("p50"), "res_p90": b.get("p90"),
        })
    table = Table("times", _("Response and resolution times"), [
        Column("team", _("Team")), Column("responded", _("Tickets with a first response"), "int"),
        Column("frt_median", _("First response, median"), "duration"), Column("frt_p90", _("First response, p90"), "duration"),
        Column("resolved", _("Resolved tickets"), "int"), Column("res_median", _("Resolution, median"), "duration"), Column("res_p90", _("Resolution, p90"), "duration"),
    ], rows)
    chart_rows = [r for r in rows if r["team"] != _("All teams")]
    chart = charts.bar_chart([r["team"] for r in chart_rows], [(r["frt_median"] or 0) / 60 for r in chart_rows], title=_("Median first response (minutes)"))
    return Result([table], [chart])


def chats_per_agent(f: Filters) -> Result:
    """Chats per agent, the hours in which each agent took chats, and chats per such hour."""
    qs = _tickets(f).filter(channel=Channel.CHAT, assignee__isnull=False)
    data = list(
        qs.values("assignee").annotate(chats=Count("id"), hours=Count(TruncHour("created_at"), distinct=True)).order_by("-chats", "assignee")
    )
    names = _agent_names([d["assignee"] for d in data])
    rows = [{"agent": names.get(d["assignee"], "?"), "chats": d["chats"], "hours": d["hours"], "per_hour": round(d["chats"] / d["hours"], 2) if d["hours"] else 0} for d in data]
    table = Table("agents", _("Chats per agent per hour"), [
        Column("agent", _("Agent")), Column("chats", _("Chats"), "int"), Column("hours", _("Hours with chats"), "int"), Column("per_hour", _("Chats per hour"), "number"),
    ], rows)
    return Result([table], [charts.bar_chart([r["agent"] for r in rows], [r["per_hour"] for r in rows], title=_("Chats per hour"))])


def concurrent_chats(f: Filters) -> Result:
    """Peak number of chats open at the same moment, overall and per agent (chats started in the range; an
    unresolved chat counts as open until its last message)."""
    where, params = f.ticket_where()
    sql, params = concurrency_sql(f"FROM tickets_ticket t WHERE {where} AND t.channel = 'chat'", params)
    data = fetch(sql, params)
    names = _agent_names([a for a, *_rest in data if a is not None])
    overall = data[0][3] if data else 0
    rows = [{"agent": _("All agents"), "chats": sum(r[1] for r in data), "peak": overall or 0}]
    rows += sorted(({"agent": names.get(a, "?") if a is not None else _("Unassigned"), "chats": n, "peak": peak} for a, n, peak, _all in data), key=lambda r: (-r["peak"], r["agent"]))
    table = Table("concurrency", _("Concurrent chats"), [Column("agent", _("Agent")), Column("chats", _("Chats"), "int"), Column("peak", _("Peak concurrent chats"), "int")], rows)
    return Result([table], [charts.bar_chart([r["agent"] for r in rows[1:]], [r["peak"] for r in rows[1:]], title=_("Peak concurrent chats"))])


def csat(f: Filters) -> Result:
    """Average survey rating (1–5) and share of satisfied (4–5) answers, by agent, team and channel."""
    Survey = apps.get_model("feedback", "Survey")
    qs = Survey.objects.filter(answered_at__gte=f.start, answered_at__lt=f.end, rating__isnull=False)
    if f.team_id is not None:
        qs = qs.filter(ticket__team_id=f.team_id)
    stats = {"answers": Count("id"), "avg": Avg("rating"), "satisfied": Count("id", filter=Q(rating__gte=4))}
    total = qs.aggregate(**stats)
    names = _team_names()
    by_agent = list(qs.values("agent").annotate(**stats).order_by("-avg", "agent"))
    agents = _agent_names([r["agent"] for r in by_agent if r["agent"]])
    by_team = list(qs.values("ticket__team").annotate(**stats).order_by("-avg", "ticket__team"))
    by_channel = list(qs.values("channel").annotate(**stats).order_by("-avg", "channel"))
    cols = [Column("answers", _("Answers"), "int"), Column("avg", _("Average rating"), "number"), Column("satisfied_pct", _("Satisfied (4–5)"), "percent")]
    overall = _csat_row(_("All"), total)
    tables = [
        Table("agent", _("CSAT by agent"), [Column("name", _("Agent")), *cols], [overall, *(_csat_row(agents.get(r["agent"], _("No agent")), r) for r in by_agent)]),
        Table("team", _("CSAT by team"), [Column("name", _("Team")), *cols], [overall, *(_csat_row(names.get(r["ticket__team"], _("No team")), r) for r in by_team)]),
        Table("channel", _("CSAT by channel"), [Column("name", _("Channel")), *cols], [overall, *(_csat_row(_channel_label(r["channel"]), r) for r in by_channel)]),
    ]
    chart = charts.bar_chart([r["name"] for r in tables[0].rows[1:]], [r["avg"] or 0 for r in tables[0].rows[1:]], title=_("Average rating by agent"), max_value=5)
    return Result(tables, [chart])


def volume(f: Filters) -> Result:
    """New tickets per channel per day (per week when the range is longer than 92 days)."""
    weekly = f.days > 92
    bucket = TruncWeek("created_at") if weekly else TruncDate("created_at")
    counts = {ch: Count("id", filter=Q(channel=ch)) for ch in Channel.values}
    data = list(_tickets(f).annotate(bucket=bucket).values("bucket").annotate(total=Count("id"), **counts).order_by("bucket"))
    found = {_as_date(r["bucket"]): r for r in data}
    empty = dict.fromkeys(Channel.values, 0) | {"total": 0}
    rows = [{"period": day.isoformat(), **{k: found.get(day, empty)[k] for k in empty}} for day in _buckets(f, weekly)]
    columns = [Column("period", _("Week starting") if weekly else _("Day")), *(Column(ch, str(label), "int") for ch, label in Channel.choices), Column("total", _("Total"), "int")]
    chart = charts.line_chart([r["period"] for r in rows], {str(label): [r[ch] for r in rows] for ch, label in Channel.choices}, title=_("New tickets by channel"))
    return Result([Table("volume", _("Volume by channel"), columns, rows)], [chart])


def sla_breaches(f: Filters) -> Result:
    """SLA breaches recorded in the range (ticket events of kind `sla_breached`), by team and by target."""
    qs = TicketEvent.objects.filter(kind="sla_breached", created_at__gte=f.start, created_at__lt=f.end)
    if f.team_id is not None:
        qs = qs.filter(ticket__team_id=f.team_id)
    names = _team_names()
    by_team = list(qs.values("ticket__team").annotate(n=Count("id")).order_by("-n", "ticket__team"))
    by_target = list(qs.annotate(target=KeyTextTransform("target", "data")).values("target").annotate(n=Count("id")).order_by("-n", "target"))
    total = sum(r["n"] for r in by_team)
    tables = [
        Table("team", _("SLA breaches by team"), [Column("name", _("Team")), Column("n", _("Breaches"), "int")],
              [{"name": _("All teams"), "n": total}, *({"name": names.get(r["ticket__team"], _("No team")), "n": r["n"]} for r in by_team)]),
        Table("target", _("SLA breaches by target"), [Column("name", _("Target")), Column("n", _("Breaches"), "int")],
              [{"name": r["target"] or _("Unspecified"), "n": r["n"]} for r in by_target]),
    ]
    return Result(tables, [charts.bar_chart([r["name"] for r in tables[0].rows[1:]], [r["n"] for r in tables[0].rows[1:]], title=_("SLA breaches by team"))])


def deflections(f: Filters) -> Result:
    """Knowledge base deflections (a customer found an answer instead of opening a ticket), per day."""
    try:
        Deflection = apps.get_model("knowledge", "Deflection")
    except LookupError:
        Deflection = None
    notes = []
    rows: list[dict] = []
    if Deflection is None:
        notes.append(_("The knowledge base does not record deflections yet: 0."))
    else:
        qs = Deflection.objects.filter(created_at__gte=f.start, created_at__lt=f.end)
        if f.team_id is not None:
            if any(field.name == "team" for field in Deflection._meta.get_fields()):
                qs = qs.filter(team_id=f.team_id)
            else:
                notes.append(_("Deflections happen before a ticket exists, so they are not filtered by team."))
        data = qs.annotate(day=TruncDate("created_at")).values("day").annotate(n=Count("id")).order_by("day")
        rows = [{"day": r["day"].isoformat(), "n": r["n"]} for r in data]
    total = sum(r["n"] for r in rows)
    tables = [
        Table("total", _("KB deflections"), [Column("name", _("Period")), Column("n", _("Deflections"), "int")], [{"name": _("Total"), "n": total}]),
        Table("daily", _("KB deflections per day"), [Column("day", _("Day")), Column("n", _("Deflections"), "int")], rows),
    ]
    chart = charts.line_chart([r["day"] for r in rows], {_("Deflections"): [r["n"] for r in rows]}, title=_("KB deflections per day"))
    return Result(tables, [chart], notes)


def busiest_hours(f: Filters) -> Result:
    """New tickets by weekday and hour of day (desk time zone)."""
    if is_postgres():
        # Count per clock hour first (one date_trunc per row), then fold the ≤ 8,760 hours into the week grid.
        where, params = f.ticket_where()
        tz = timezone.get_current_timezone_name()
        grid = {
            (int(dow), int(hour)): int(n)
            for dow, hour, n in fetch(
                "SELECT EXTRACT(ISODOW FROM h), EXTRACT(HOUR FROM h), SUM(n) FROM "  # noqa: S608 - fixed SQL, values are parameters
                f"(SELECT date_trunc('hour', t.created_at AT TIME ZONE %s) AS h, COUNT(*) AS n FROM tickets_ticket t WHERE {where} GROUP BY 1) x "
                "GROUP BY 1, 2",
                [tz, *params],
            )
        }
    else:
        data = _tickets(f).annotate(dow=ExtractIsoWeekDay("created_at"), hour=ExtractHour("created_at")).values("dow", "hour").annotate(n=Count("id"))
        grid = {(r["dow"], r["hour"]): r["n"] for r in data}
    days = [str(d) for d in WEEKDAYS]
    rows = [{"hour": f"{h:02d}:00", **{f"d{d}": grid.get((d, h), 0) for d in range(1, 8)}, "total": sum(grid.get((d, h), 0) for d in range(1, 8))} for h in range(24)]
    columns = [Column("hour", _("Hour")), *(Column(f"d{d}", days[d - 1], "int") for d in range(1, 8)), Column("total", _("Total"), "int")]
    chart = charts.heatmap([r["hour"] for r in rows], days, [[r[f"d{d}"] for d in range(1, 8)] for r in rows], title=_("New tickets by hour and weekday"))
    return Result([Table("hours", _("Busiest hours"), columns, rows)], [chart])


WEEKDAYS = [gettext_lazy("Mon"), gettext_lazy("Tue"), gettext_lazy("Wed"), gettext_lazy("Thu"), gettext_lazy("Fri"), gettext_lazy("Sat"), gettext_lazy("Sun")]

REPORTS = {
    "response-times": (gettext_lazy("First response and resolution time"), response_times),
    "chats-per-agent": (gettext_lazy("Chats per agent per hour"), chats_per_agent),
    "concurrent-chats": (gettext_lazy("Concurrent chats"), concurrent_chats),
    "csat": (gettext_lazy("Customer satisfaction (CSAT)"), csat),
    "volume": (gettext_lazy("Volume by channel"), volume),
    "sla-breaches": (gettext_lazy("SLA breaches"), sla_breaches),
    "deflections": (gettext_lazy("KB deflections"), deflections),
    "busiest-hours": (gettext_lazy("Busiest hours"), busiest_hours),
}


def run_report(fn, f: Filters) -> Result:
    """Run one report in a read transaction with enough sort memory for the percentile and window sorts of
    a large range (PostgreSQL otherwise spills them to disk) and without JIT (predictable latency)."""
    with transaction.atomic():
        if is_postgres():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL work_mem = '64MB'")
                cursor.execute("SET LOCAL jit = off")
        return fn(f)


# ---------------------------------------------------------------- helpers


def _tickets(f: Filters):
    qs = Ticket.objects.filter(created_at__gte=f.start, created_at__lt=f.end, merged_into__isnull=True)
    return qs.filter(team_id=f.team_id) if f.team_id is not None else qs


def _as_date(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def _buckets(f: Filters, weekly: bool) -> list[date]:
    """Every day (or Monday) of the range, so days without tickets show as 0, not as a gap."""
    first = timezone.localtime(f.start).date()
    last = timezone.localtime(f.end).date() - timedelta(days=1)
    if weekly:
        first -= timedelta(days=first.weekday())
    step = timedelta(days=7 if weekly else 1)
    return [first + i * step for i in range((last - first) // step + 1)]


def _team_names() -> dict:
    return dict(Team.objects.values_list("id", "name"))


def _agent_names(ids: list[int]) -> dict:
    users = get_user_model().objects.filter(pk__in=ids).values("id", "username", "first_name", "last_name")
    return {u["id"]: f"{u['first_name']} {u['last_name']}".strip() or u["username"] for u in users}


def _csat_row(name: str, r: dict) -> dict:
    answers = r.get("answers") or 0
    avg = r.get("avg")
    return {"name": name, "answers": answers, "avg": round(float(avg), 2) if avg is not None else None, "satisfied_pct": round(100.0 * (r.get("satisfied") or 0) / answers, 1) if answers else None}


def _channel_label(value: str) -> str:
    try:
        return str(Channel(value).label)
    except ValueError:
        return value
