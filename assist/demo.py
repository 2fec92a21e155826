"""Demo data for assist: index what the other apps seeded, train the classifiers, and a sample flow
attached (inactive, so live chat behaves as before until an admin switches it on) to the demo widget."""

from __future__ import annotations

from django.utils.translation import gettext as _

from . import classifier, indexing
from .flows.services import save_flow
from .models import Flow


def seed(stdout) -> None:
    counts = indexing.rebuild()
    stdout.write(f"assist: indexed {counts['canned']} canned responses, {counts['article']} articles, {counts['reply']} past replies\n")
    trained = classifier.train()
    stdout.write(f"assist: classifiers trained on {trained['team']} tickets (team), {trained['tags']} (tags)\n")
    if Flow.objects.exists():
        return
    Widget = indexing.optional_model("chat.Widget")
    widget = Widget.objects.filter(public_key="demo").first() if Widget else None
    flow = Flow.objects.create(name=_("Demo assistant"), widget_id=widget.pk if widget else None, active=False)
    team_id = widget.team_id if widget else None
    save_flow(flow=flow, definition=demo_definition(team_id))
    stdout.write("assist: demo chat flow created (inactive; switch it on under Chat flows)\n")


def demo_definition(team_id: int | None) -> dict:
    return {
        "start": "welcome",
        "steps": [
            {"id": "welcome", "type": "buttons", "text": _("Hi! I am the assistant. What can I help you with?"), "variable": "topic",
             "options": [{"label": _("An order"), "next": "order"}, {"label": _("Something else"), "next": "articles"}, {"label": _("Talk to a person"), "next": "human"}]},
            {"id": "order", "type": "ask", "text": _("What is your order number?"), "field": "order_number", "validate": "order", "next": "email"},
            {"id": "email", "type": "ask", "text": _("And your email address, so we can reach you?"), "field": "email", "validate": "email", "next": "hours"},
            {"id": "hours", "type": "branch", "on": "hours", "open": "human", "closed": "closed"},
            {"id": "articles", "type": "kb", "text": _("These articles may answer your question:"), "limit": 3, "resolved": "thanks", "unresolved": "human"},
            {"id": "human", "type": "handoff", "text": _("I am connecting you with a person from our team."), "team": team_id},
            {"id": "closed", "type": "end", "text": _("We are closed right now; we will answer by email as soon as we open.")},
            {"id": "thanks", "type": "end", "text": _("Glad I could help!")},
        ],
    }  # fmt: skip
