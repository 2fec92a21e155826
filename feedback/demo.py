"""Demo data: a few suggestions with votes and comments, and answered surveys on resolved demo tickets."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from tickets.models import Status, Ticket

from .models import Suggestion, SuggestionComment, SuggestionStatus, SuggestionVote, Survey

IDEAS = [
    ("alice", "Snooze a ticket until a date", "Pending tickets could come back by themselves on a chosen day.", SuggestionStatus.PLANNED, ["bob", "carol"]),
    ("carol", "Invoice lookup in the ticket sidebar", "Billing questions always need the latest invoice.", SuggestionStatus.NEW, ["dave"]),
    ("bob", "Keyboard shortcut for canned responses", "", SuggestionStatus.DONE, ["alice", "carol", "dave"]),
]


def seed(stdout) -> None:
    users = {u.username: u for u in get_user_model().objects.filter(username__in=["alice", "bob", "carol", "dave"])}
    if len(users) < 4 or Suggestion.objects.exists():
        return
    now = timezone.now()
    for author, title, body, status, voters in IDEAS:
        suggestion = Suggestion.objects.create(
            author=users[author], title=title, body=body, status=status,
            accepted_at=now if status in (SuggestionStatus.PLANNED, SuggestionStatus.DONE) else None,
        )
        SuggestionVote.objects.bulk_create([SuggestionVote(suggestion=suggestion, agent=users[v]) for v in [author, *voters]])
    first = Suggestion.objects.order_by("pk").first()
    SuggestionComment.objects.create(suggestion=first, author=users["dave"], body="Yes please, with a reminder note.")
    resolved = Ticket.objects.filter(status=Status.RESOLVED, assignee__isnull=False)[:4]
    for i, ticket in enumerate(resolved):
        answered = (ticket.resolved_at or now) + timedelta(minutes=10)
        Survey.objects.get_or_create(
            ticket=ticket, trigger="demo",
            defaults={"agent": ticket.assignee, "channel": ticket.channel, "rating": 5 - i % 3, "comment": "", "answered_at": answered, "expires_at": answered + timedelta(days=7)},
        )
    stdout.write("Feedback: demo suggestions and surveys.")
