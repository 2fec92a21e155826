"""Context of the assist panels on the agent's ticket page."""

from __future__ import annotations

import logging

from django.http import HttpRequest

from .models import Prediction, Source

log = logging.getLogger(__name__)


def suggestions_context(request: HttpRequest, ticket) -> dict:
    from .suggestions import suggestions_for

    try:
        results = suggestions_for(ticket=ticket, agent=request.user)
    except Exception:  # a broken index must never take the ticket page down
        log.exception("suggestions failed for ticket %s", ticket.pk)
        results = []
    labels = dict(Source.choices)
    for r in results:
        r["source_label"] = labels.get(r["source"], r["source"])
    return {"ticket_id": ticket.pk, "results": results, "source_labels": {k: str(v) for k, v in labels.items()}}


def predictions_context(request: HttpRequest, ticket) -> dict:
    from tickets.models import Team

    predictions = list(Prediction.objects.filter(ticket=ticket))
    teams = dict(Team.objects.filter(pk__in=[int(p.label) for p in predictions if p.kind == "team"]).values_list("pk", "name"))
    current_tags = {t.name for t in ticket.tags.all()}
    rows = []
    for p in predictions:
        if p.kind == "team":
            label = teams.get(int(p.label))
            if label is None:
                continue
            done = ticket.team_id == int(p.label)
        else:
            label, done = p.label, p.label in current_tags
        rows.append({"id": p.pk, "kind": p.kind, "label": label, "percent": round(p.confidence * 100), "applied": p.applied, "done": done})
    return {"ticket_id": ticket.pk, "predictions": rows}
