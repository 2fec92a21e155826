"""The ticket page's side panel: the customer's survey answers for this ticket."""

from __future__ import annotations

from django.http import HttpRequest

from .models import Survey


def survey_panel(request: HttpRequest, ticket) -> dict:
    surveys = list(Survey.objects.filter(ticket=ticket).select_related("agent").order_by("-sent_at")[:5])
    return {"surveys": surveys}
