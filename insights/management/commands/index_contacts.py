"""Rebuild the contact directory's keyed name tokens (after bulk imports that bypass `Contact.save`, or a key
rotation)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from insights.services import index_contact
from tickets.models import Contact


class Command(BaseCommand):
    help = "Rebuild the contact directory's name-prefix index."

    def handle(self, *args, **options) -> None:
        count = 0
        for contact in Contact.objects.filter(merged_into__isnull=True).iterator(chunk_size=500):
            index_contact(contact)
            count += 1
        self.stdout.write(f"indexed {count} contacts")
