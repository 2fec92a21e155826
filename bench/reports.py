"""`python -m bench reports [--tickets N] [--runs R]`: every admin report page on 1,000,000 tickets (PostgreSQL).

Loads `seed_demo --tickets N` (default 1,000,000) into the benchmark database once, then adds what the bulk
tickets lack for these reports, once, with set-based SQL: assignees (two agents per team), resolution times for
resolved/closed tickets, a CSAT answer on every fifth resolved ticket and an SLA breach event on every 20th
ticket. Then, with an in-process Django test client logged in as a superuser (middleware, admin, SQL, SVG and
template rendering all included), it requests each report page R times (default 5, after one warm-up) for the
default range (last 30 days) and for a whole year, and the CSV export of the first table.

Baseline, measured in the same run: the Django admin index page (`/admin/`), the cheapest admin page.
Target: every report page under 2 s. With `--probe-index` it measures again with the covering index on
`tickets_ticket (created_at)` proposed for the core, created for the run and dropped after.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from datetime import timedelta

from .common import ensure_database, percentile, setup_django, timed

DB = "postgres://postgres@127.0.0.1:5432/helpdesk_bench_reports"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench reports")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--probe-index", action="store_true", help="also measure with the covering index proposed for tickets_ticket")
    args = parser.parse_args(argv)

    setup_django(default_db=DB)
    ensure_database()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from reports.queries import REPORTS
    from tickets.models import Ticket

    if connection.vendor != "postgresql":
        print("The reports benchmark needs PostgreSQL (DATABASE_URL).", file=sys.stderr)
        return 2
    call_command("migrate", verbosity=0)
    have = Ticket.objects.count()
    if have < args.tickets:
        print(f"Loading {args.tickets - have} tickets (once)…", flush=True)
        call_command("seed_demo", tickets=args.tickets - have, stdout=sys.stdout)
    _prepare(connection)
    total = Ticket.objects.count()

    client = Client(HTTP_HOST="127.0.0.1")  # an allowed host outside the test settings
    client.force_login(_superuser())
    today = timezone.localdate()
    ranges = {"30 days": {}, "365 days": {"from": (today - timedelta(days=364)).isoformat(), "to": today.isoformat()}}

    worst = _measure(client, ranges, REPORTS, args.runs, "core schema as it is")
    if args.probe_index:
        # What the index proposed for the core (tickets_ticket) would give; created and dropped in this run.
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {PROBE} ON tickets_ticket (created_at) INCLUDE ({PROBE_COLUMNS})")
            cursor.execute("VACUUM ANALYZE tickets_ticket")
        try:
            _measure(client, ranges, REPORTS, args.runs, f"with the proposed index: tickets_ticket (created_at) INCLUDE ({PROBE_COLUMNS})")
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP INDEX IF EXISTS {PROBE}")
    print(f"\n{total} tickets; {args.runs} requests per line after one warm-up; slowest report p95 on the core schema {worst:.0f} ms (target < 2000 ms).")
    return 0


PROBE = "bench_reports_probe_ticket_created"
PROBE_COLUMNS = "team_id, channel, assignee_id, first_response_at, resolved_at, last_message_at, merged_into_id"


def _measure(client, ranges: dict, reports: dict, runs: int, title: str) -> float:
    def page(url: str, params: dict) -> None:
        response = client.get(url, params)
        assert response.status_code == 200, response.content[:300]

    rows = [("admin index (baseline)", "", timed(lambda: page("/admin/", {}), runs, warmup=1))]
    for slug in reports:
        for label, params in ranges.items():
            url = f"/admin/reports/report/{slug}/"
            rows.append((slug, label, timed(lambda url=url, params=params: page(url, params), runs, warmup=1)))
    for label, params in ranges.items():
        rows.append(("csat CSV export", label, timed(lambda params=params: page("/admin/reports/report/csat/", {**params, "format": "csv", "table": "agent"}), runs, warmup=1)))

    base = statistics.median(rows[0][2])
    print(f"\n## {title}\n{'page':26} {'range':9} {'median ms':>10} {'p95 ms':>8} {'x baseline':>11}", flush=True)
    worst = 0.0
    for name, label, values in rows:
        med = statistics.median(values)
        if label:
            worst = max(worst, percentile(values, 95))
        print(f"{name:26} {label:9} {med:10.0f} {percentile(values, 95):8.0f} {med / base:11.1f}", flush=True)
    return worst


def _superuser():
    from django.contrib.auth import get_user_model

    user, created = get_user_model().objects.get_or_create(username="bench-reports-admin", defaults={"is_staff": True, "is_superuser": True})
    return user


def _prepare(connection) -> None:
    """Assignees, resolution times, surveys and SLA breaches for the bulk tickets, once (set-based SQL)."""
    from django.contrib.auth import get_user_model

    from feedback.models import Survey
    from tickets.models import AgentProfile, Team

    if Survey.objects.filter(trigger="bench").exists():
        return
    print("Adding assignees, resolutions, surveys and SLA breaches to the bulk tickets (once)…", flush=True)
    User = get_user_model()
    pairs = {}
    for team in Team.objects.all():
        agents = []
        for i in range(2):
            user, _ = User.objects.get_or_create(username=f"bench-{team.pk}-{i}", defaults={"first_name": f"{team.name} agent {i + 1}"})
            AgentProfile.objects.get_or_create(user=user)
            team.members.add(user)
            agents.append(user.pk)
        pairs[team.pk] = agents
    with connection.cursor() as cursor:
        for team_id, (a, b) in pairs.items():
            cursor.execute(
                "UPDATE tickets_ticket SET assignee_id = CASE WHEN id %% 2 = 0 THEN %s ELSE %s END, "
                "resolved_at = CASE WHEN status IN ('resolved', 'closed') THEN created_at + (5 + id %% 2880) * interval '1 minute' END "
                "WHERE team_id = %s AND assignee_id IS NULL",
                [a, b, team_id],
            )
        cursor.execute(
            "INSERT INTO feedback_survey (ticket_id, agent_id, channel, trigger, token, rating, comment, link_sent_via, sent_at, answered_at, expires_at) "
            "SELECT id, assignee_id, channel, 'bulk', md5('survey' || id), 1 + (id / 5) % 5, '', '', resolved_at, resolved_at + interval '10 minutes', resolved_at + interval '7 days' "
            "FROM tickets_ticket WHERE resolved_at IS NOT NULL AND id % 5 = 0 ON CONFLICT DO NOTHING"
        )
        cursor.execute(
            "INSERT INTO tickets_ticketevent (ticket_id, kind, data, created_at) "
            "SELECT id, 'sla_breached', jsonb_build_object('target', CASE WHEN id % 40 = 0 THEN 'resolution' ELSE 'first_response' END, 'team_id', team_id), created_at + interval '1 hour' "
            "FROM tickets_ticket WHERE id % 20 = 0"
        )
        cursor.execute("ANALYZE")
    first = Survey.objects.order_by("pk").first()
    Survey.objects.create(ticket_id=first.ticket_id, channel="email", trigger="bench", expires_at=first.expires_at)
