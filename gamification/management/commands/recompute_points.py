"""Audit and rebuild point totals from the stored awards; optionally replay ticket awards that are missing."""

from __future__ import annotations

from datetime import datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date

from gamification.services import recompute_totals, replay_tickets


class Command(BaseCommand):
    help = "Recompute every agent's total from the awards (and with --replay-since DATE, add missing ticket awards first)."

    def add_arguments(self, parser):
        parser.add_argument("--replay-since", help="YYYY-MM-DD: re-apply first-response and resolved rules to tickets since then")

    def handle(self, *args, replay_since: str | None = None, **options):
        if replay_since:
            day = parse_date(replay_since)
            if day is None:
                raise CommandError("--replay-since expects YYYY-MM-DD")
            since = timezone.make_aware(datetime.combine(day, time.min))
            created = replay_tickets(since=since)
            self.stdout.write(f"{created} missing awards created.")
        changed = recompute_totals()
        for agent_id, (old, new) in sorted(changed.items()):
            self.stdout.write(f"agent {agent_id}: {old} -> {new}")
        self.stdout.write(self.style.SUCCESS(f"{len(changed)} totals corrected."))
