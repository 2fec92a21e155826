"""Demo data for customer insights: custom attributes and agents' notes on a few demo customers."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from tickets.models import Contact

from .models import ContactNote
from .services import add_note, update_attributes

PLANS = ["free", "pro", "business"]
NOTES = [
    "Prefers email over phone. Usually replies in the evening.",
    "Long-time customer; had a billing mix-up in March, handled with a goodwill credit.",
    "Runs three shops; ask which store before troubleshooting the POS sync.",
]


def seed(stdout) -> None:
    if ContactNote.objects.exists():
        stdout.write("insights: notes exist, skipped")
        return
    author = get_user_model().objects.filter(username="alice").first()
    contacts = list(Contact.objects.filter(merged_into__isnull=True, tickets__isnull=False).distinct().order_by("id")[:6])
    for n, contact in enumerate(contacts):
        update_attributes(contact=contact, changes={"plan": PLANS[n % 3], "customer_id": f"C-{1000 + contact.pk}", "seats": 1 + n * 4})
        if author is not None and n < len(NOTES):
            add_note(contact=contact, author=author, text=NOTES[n])
    stdout.write(f"insights: attributes on {len(contacts)} contacts, {min(len(contacts), len(NOTES))} notes")
