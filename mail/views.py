"""Inline (cid:) images of received mail, resolved to the stored attachment for agents who may see it."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from tickets import selectors
from tickets.models import Attachment
from tickets.views import agent_required


@agent_required
def inline_image(request: HttpRequest) -> HttpResponse:
    external_id = request.GET.get("m", "")[:255]
    content_id = request.GET.get("cid", "")[:255]
    if not external_id or not content_id:
        raise Http404
    attachment = (
        Attachment.objects.filter(
            message__channel="email",
            message__external_id=external_id,
            content_id=content_id,
            message__ticket__in=selectors.visible_tickets(agent=request.user).values("pk"),
        )
        .only("pk")
        .first()
    )
    if attachment is None:
        raise Http404
    return HttpResponseRedirect(reverse("tickets:attachment", args=[attachment.pk]) + "?inline=1")
