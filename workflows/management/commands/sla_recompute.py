"""Recompute SLA due times of active tickets (after changing policies or loading tickets in bulk)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from tickets.models import ACTIVE_STATUSES, Ticket
from workflows.sla import recompute


class Command(BaseCommand):
    help = "Recompute SLA due times of active tickets."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=0, help="at most this many tickets (0: all)")

    def handle(self, *args, limit: int = 0, **options):
        ids = Ticket.objects.filter(status__in=ACTIVE_STATUSES, merged_into__isnull=True).order_by("-last_message_at").values_list("pk", flat=True)
        if limit:
            ids = ids[:limit]
        count = 0
        for ticket_id in ids.iterator():
            recompute(ticket_id)
            count += 1
        self.stdout.write(f"SLA recomputed for {count} tickets.")
