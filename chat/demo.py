"""Demo data: the `demo` widget for team Support (allowed on the desk's own hosts) and canned responses."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from tickets.models import Team

from .models import CannedResponse, Widget

CANNED = [
    # (shortcut, title, body, team name or None, owner username or None)
    ("hello", "Greeting", "Hi {{contact.name}}, this is {{agent.name}}. How can I help you today?", None, None),
    ("thanks", "Thanks for waiting", "Thank you for your patience, {{contact.name}}. I am looking into it now.", None, None),
    ("ticket", "Ticket number", "Your reference is #{{ticket.id}}; mention it if you contact us again.", None, None),
    ("refund", "Refund policy", "Refunds are processed within 5 business days after we receive the returned item.", "Support", None),
    ("invoice", "Invoice copy", "I have sent a copy of the invoice to your email address.", "Billing", None),
    ("bye", "Closing", "Is there anything else I can help you with? Have a great day!", None, "alice"),
]


def seed(stdout) -> None:
    support = Team.objects.filter(name="Support").first() or Team.objects.order_by("id").first()
    if support is None:
        stdout.write("chat: no team yet, skipped")
        return
    widget, created = Widget.objects.get_or_create(
        public_key="demo",
        defaults={
            "name": "Demo shop",
            "team": support,
            "allowed_domains": [],
            "greeting": "Hi! Ask us anything about your order.",
            "colour": "#2f4b3a",
        },
    )
    users = {u.username: u for u in get_user_model().objects.filter(username__in=[c[4] for c in CANNED if c[4]])}
    teams = {t.name: t for t in Team.objects.all()}
    made = 0
    for shortcut, title, body, team_name, owner_name in CANNED:
        team = teams.get(team_name) if team_name else None
        owner = users.get(owner_name) if owner_name else None
        if (team_name and team is None) or (owner_name and owner is None):
            continue
        _obj, was_created = CannedResponse.objects.get_or_create(
            shortcut=shortcut, team=team, owner=owner, defaults={"title": title, "body": body}
        )
        made += was_created
    stdout.write(f"chat: widget '{widget.public_key}' {'created' if created else 'exists'}, {made} canned responses added")
