"""`python -m bench queue [--tickets N] [--runs R]`: the unified queue at scale on PostgreSQL.

Loads `seed_demo --tickets N` (default 1,000,000) into the benchmark database once, gives every active
ticket an SLA row (as the workflows app keeps them), then measures over R requests (default 50):
- the API's first page of the queue (default filters, newest activity first; the JSON carries `sla`),
- a filtered API page (team + status + channel),
- the queue page in the browser with its SLA column: the HTML page plus the `/api/v1/sla/` request that
  fills the column,
as an agent of one team (alice) and as an admin who sees every team.
In-process Django test client: the timing covers middleware, session auth, DRF, the SQL and rendering.
"""

from __future__ import annotations

import argparse
import re
import sys

from .common import ensure_database, setup_django, summary, timed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench queue")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args(argv)

    setup_django()
    ensure_database()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from tickets.models import Team, Ticket

    call_command("migrate", verbosity=0)
    have = Ticket.objects.count()
    if have < args.tickets:
        print(f"Loading {args.tickets - have} tickets (once)…", flush=True)
        call_command("seed_demo", tickets=args.tickets - have, stdout=sys.stdout)
    _ensure_sla_rows(connection)
    total = Ticket.objects.count()
    support = Team.objects.get(name="Support")
    users = get_user_model().objects
    for who in ("alice", "admin"):
        client = Client()
        client.force_login(users.get(username=who))
        first_ids = ",".join(re.findall(r'data-ticket="(\d+)"', client.get("/agent/").content.decode()))
        pages = {
            "API first page (default filters)": ["/api/v1/tickets/"],
            "API filtered (team+status+channel)": [f"/api/v1/tickets/?team={support.pk}&status=open&channel=email"],
            "queue page + its SLA column": ["/agent/", f"/api/v1/sla/?tickets={first_ids}"],
        }
        for label, urls in pages.items():

            def request(urls: list[str] = urls, client: Client = client) -> None:
                for url in urls:
                    response = client.get(url)
                    assert response.status_code == 200, response.content[:200]

            print(f"{who:6} {label:36} {summary(timed(request, args.runs))}", flush=True)
    print(f"\n{total} tickets in the database; {args.runs} requests per line; target p95 < 25 ms.")
    return 0


def _ensure_sla_rows(connection) -> None:
    """Bulk-loaded tickets have no SLA state; give every active one the row the workflows app would keep."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('workflows_ticketsla')")
        if cursor.fetchone()[0] is None:
            return
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM tickets_ticket t WHERE t.status IN ('new', 'open', 'pending') "
            "AND NOT EXISTS (SELECT 1 FROM workflows_ticketsla s WHERE s.ticket_id = t.id))"
        )
        if not cursor.fetchone()[0]:
            cursor.execute("ANALYZE tickets_ticket, workflows_ticketsla")  # fresh statistics for the planner
            return
        # The demo seed gives its few dozen tickets SLA rows; the bulk-loaded ones get theirs here.
        print("Adding SLA rows for active tickets (once)…", flush=True)
        cursor.execute(
            """
            INSERT INTO workflows_ticketsla (ticket_id, policy_id, first_response_due, next_response_due, resolution_due,
                next_due, next_check, breaches, warnings, last_status, last_status_event, updated_at)
            SELECT id, NULL, created_at + interval '4 hours', NULL, created_at + interval '3 days',
                created_at + interval '4 hours', created_at + interval '225 minutes', '[]'::jsonb, '[]'::jsonb, status, 0, now()
            FROM tickets_ticket WHERE status IN ('new', 'open', 'pending') ON CONFLICT DO NOTHING
            """
        )
        cursor.execute("ANALYZE")
