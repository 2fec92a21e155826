"""`python -m bench queue [--tickets N] [--runs R]`: the unified queue API at scale on PostgreSQL.

Loads `seed_demo --tickets N` (default 1,000,000) into the benchmark database once, then measures over R
requests (default 50) the API latency of: the first page of the queue (default filters, newest activity
first) and a filtered page (team + status + channel), as an agent of one team and as an admin.
In-process Django test client: the timing covers middleware, auth, DRF, the SQL and serialization.
"""

from __future__ import annotations

import argparse
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
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    total = Ticket.objects.count()
    support = Team.objects.get(name="Support")
    users = get_user_model().objects
    results = {}
    for who in ("alice", "admin"):
        client = Client()
        client.force_login(users.get(username=who))
        pages = {
            "first page (default filters)": "/api/v1/tickets/",
            "filtered (team+status+channel)": f"/api/v1/tickets/?team={support.pk}&status=open&channel=email",
        }
        for label, url in pages.items():
            def request(url: str = url, client: Client = client) -> None:
                response = client.get(url)
                assert response.status_code == 200, response.content[:200]

            timings = timed(request, args.runs)
            results[(who, label)] = timings
            print(f"{who:6} {label:32} {summary(timings)}", flush=True)
    print(f"\n{total} tickets in the database; {args.runs} requests per line; target p95 < 25 ms.")
    return 0
