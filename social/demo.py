"""Demo data for `manage.py seed_demo`: a connected Facebook page and a Messenger conversation (no network)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tickets.models import Team
from tickets.services import ingest

from .models import MessengerPage
from .parsing import IncomingMessage

PAGE_ID = "152846578697265"


def seed(stdout) -> None:
    team = Team.objects.filter(name="Support").first()
    page, _created = MessengerPage.objects.get_or_create(
        page_id=PAGE_ID, defaults={"name": "Example Garden Shop", "team": team, "access_token": "demo-page-token"}
    )
    now = timezone.now()
    for minutes, mid, text in (
        (30, "m_demo_1", "Hi! Do you ship to Finland? I'd like to order the CP-40 planter."),
        (28, "m_demo_2", "And is there a discount for two?"),
    ):
        event = IncomingMessage(page_id=PAGE_ID, sender_id="2600795529520225", mid=mid, text=text, received_at=now - timedelta(minutes=minutes))
        ingest(event.inbound(team_id=page.team_id, sender_name="Emma Virtanen"))
    stdout.write(f"Messenger: page {page.name} ({PAGE_ID}) for Support, with a conversation inside the 24-hour window.")
