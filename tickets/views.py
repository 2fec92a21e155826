"""The agent workspace (server-rendered) and attachment downloads. Thin: selectors read, services write."""

from __future__ import annotations

import mimetypes
from urllib.parse import urlencode

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import EmptyPage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import selectors, services, ui
from .adapters import ReplyRefused
from .api import queue_filters
from .forms import ReplyForm
from .models import Attachment, Channel, Priority, Status, Team, Ticket
from .pagination import COUNT_CAP, CappedPaginator

PAGE_SIZE = 25


def agent_required(view):
    """Logged-in agents only; others are sent to the login page (or get a 404 when logged in)."""

    @login_required
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not selectors.is_agent(request.user):
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


@agent_required
def queue_page(request: HttpRequest) -> HttpResponse:
    filters = queue_filters(request.GET)
    tickets = selectors.queue(agent=request.user, filters=filters)
    paginator = CappedPaginator(tickets, PAGE_SIZE)
    try:
        page = paginator.page(request.GET.get("page") or 1)
    except (EmptyPage, ValueError):
        page = paginator.page(1)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "tickets/queue.html",
        {
            "page": page,
            "tickets": list(page.object_list),
            "count": min(paginator.count, COUNT_CAP),
            "count_capped": paginator.capped,
            "filters": filters,
            "status_param": request.GET.get("status", ""),
            "query": query.urlencode(),
            "statuses": Status.choices,
            "channels": Channel.choices,
            "teams": Team.objects.filter(pk__in=selectors.team_ids(request.user)) if not selectors.sees_everything(request.user) else Team.objects.all(),
            "agents": _agents(),
            "sidebar_counts": _counts(request.user),
            "labels": _labels(),
        },
    )


@agent_required
def ticket_page(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _ticket_or_404(request, ticket_id)
    if ticket.merged_into_id:
        return redirect("tickets:ticket", ticket_id=ticket.merged_into_id)
    services.mark_read(ticket=ticket)
    timeline = list(selectors.timeline(ticket=ticket))
    return render(
        request,
        "tickets/ticket.html",
        {
            "ticket": ticket,
            "timeline": timeline,
            "events": list(ticket.events.select_related("actor").order_by("created_at")[:200]),
            "other_tickets": list(selectors.contact_tickets(agent=request.user, contact=ticket.contact).exclude(pk=ticket.pk)[:20]),
            "identities": list(ticket.contact.identities.all()),
            "form": ReplyForm(),
            "statuses": Status.choices,
            "priorities": Priority.choices,
            "agents": _agents(),
            "teams": Team.objects.all(),
            "last_message_id": timeline[-1].pk if timeline else 0,
            "side_panels": ui.ticket_panels(request, ticket, "side"),
            "composer_panels": ui.ticket_panels(request, ticket, "composer"),
        },
    )


@agent_required
@require_POST
def ticket_reply(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _ticket_or_404(request, ticket_id)
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            services.reply(
                ticket=ticket,
                agent=request.user,
                text=form.cleaned_data["text"],
                internal=form.cleaned_data["internal"],
                client_id=form.cleaned_data["client_id"],
            )
        except (ReplyRefused, services.InvalidMessage) as exc:
            flash.error(request, str(exc))
    else:
        flash.error(request, _("The reply is empty or too long."))
    return redirect("tickets:ticket", ticket_id=ticket.pk)


@agent_required
@require_POST
def ticket_update(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = _ticket_or_404(request, ticket_id)
    _apply_changes(request, ticket, request.POST)
    return redirect(request.POST.get("next") if request.POST.get("next", "").startswith("/agent/") else reverse("tickets:ticket", args=[ticket.pk]))


@agent_required
@require_POST
def bulk_update(request: HttpRequest) -> HttpResponse:
    ids = [int(i) for i in request.POST.getlist("ticket") if i.isdigit()]
    tickets = list(selectors.visible_tickets(agent=request.user).filter(pk__in=ids))
    for ticket in tickets:
        _apply_changes(request, ticket, request.POST)
    flash.success(request, _("%(count)d tickets updated.") % {"count": len(tickets)})
    back = request.POST.get("next", "")
    return HttpResponseRedirect(back if back.startswith("/agent/") else reverse("tickets:queue"))


def _apply_changes(request: HttpRequest, ticket: Ticket, data) -> None:
    user = request.user
    if data.get("status") in Status.values:
        services.set_status(ticket=ticket, actor=user, status=data["status"])
    if data.get("priority") in Priority.values:
        services.set_priority(ticket=ticket, actor=user, priority=data["priority"])
    if "assignee" in data:
        value = data["assignee"]
        assignee = user if value == "me" else _agents().filter(pk=value).first() if value.isdigit() else None
        if value in ("", "none") or assignee is not None:
            services.assign(ticket=ticket, actor=user, assignee=assignee)
    if data.get("team", "").isdigit():
        services.set_team(ticket=ticket, actor=user, team=Team.objects.filter(pk=data["team"]).first())
    add = [t for t in data.get("add_tags", "").split(",") if t.strip()]
    remove = [t for t in data.getlist("remove_tag") if t.strip()]
    if add or remove:
        services.set_tags(ticket=ticket, actor=user, add=add, remove=remove)


@agent_required
def full_original(request: HttpRequest, ticket_id: int, message_id: int) -> HttpResponse:
    ticket = _ticket_or_404(request, ticket_id)
    message = ticket.messages.filter(pk=message_id).first()
    if message is None:
        raise Http404
    return render(request, "tickets/original.html", {"ticket": ticket, "message": message})


@agent_required
def download_attachment(request: HttpRequest, attachment_id: int) -> HttpResponse:
    attachment = (
        Attachment.objects.filter(pk=attachment_id, message__ticket__in=selectors.visible_tickets(agent=request.user).values("pk"))
        .first()
    )
    if attachment is None:
        raise Http404
    inline = request.GET.get("inline") == "1" and attachment.content_type in {"image/png", "image/jpeg", "image/gif"}
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=not inline,
        filename=attachment.filename,
        content_type=attachment.content_type or mimetypes.types_map.get(".bin", "application/octet-stream"),
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


def _ticket_or_404(request: HttpRequest, ticket_id: int) -> Ticket:
    try:
        return selectors.ticket_for_agent(agent=request.user, ticket_id=ticket_id)
    except Ticket.DoesNotExist:
        raise Http404 from None


def _agents():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(agent__isnull=False, is_active=True).order_by("username")


def _labels() -> dict:
    """Display names the live queue needs when it renders a row pushed over the socket."""
    return {
        "status": {k: str(v) for k, v in Status.choices},
        "priority": {k: str(v) for k, v in Priority.choices},
        "channel": {k: str(v) for k, v in Channel.choices},
        "no_subject": _("(no subject)"),
        "just_now": _("just now"),
    }


def _counts(user) -> dict[str, str]:
    base = reverse("tickets:queue")
    return {
        "mine": base + "?" + urlencode({"assignee": "me"}),
        "unassigned": base + "?" + urlencode({"assignee": "none"}),
    }
