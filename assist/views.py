"""Assist pages and form actions in the agent workspace."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from tickets import selectors
from tickets.views import agent_required

from . import classifier
from .models import Prediction


@require_POST
@agent_required
def accept_prediction(request: HttpRequest, prediction_id: int) -> HttpResponse:
    prediction = Prediction.objects.select_related("ticket").filter(pk=prediction_id).first()
    if prediction is None or not selectors.can_see_ticket(agent=request.user, ticket_id=prediction.ticket_id):
        raise Http404
    classifier.accept(prediction=prediction, actor=request.user)
    return HttpResponseRedirect(reverse("tickets:ticket", args=[prediction.ticket_id]))
