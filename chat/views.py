"""Pages: the embeddable widget script, a demo customer site, the agent chat workspace, canned responses."""

from __future__ import annotations

from django.contrib import messages as flash
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tickets import selectors
from tickets.models import Team
from tickets.views import agent_required

from . import assignment, canned, spelling
from .models import CannedResponse, ChatSession
from .workspace import chat_dict

_WIDGET_JS: dict[str, bytes] = {}


def widget_js(request: HttpRequest) -> HttpResponse:
    """The widget script, served from our own host for any site that embeds it."""
    if "body" not in _WIDGET_JS or request.GET.get("fresh"):
        path = finders.find("chat/widget.js")
        if path is None:
            raise Http404
        with open(path, "rb") as fh:
            _WIDGET_JS["body"] = fh.read()
    response = HttpResponse(_WIDGET_JS["body"], content_type="application/javascript; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = "public, max-age=300"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def widget_demo(request: HttpRequest) -> HttpResponse:
    """A sample customer site that embeds the widget exactly like a site owner would."""
    key = request.GET.get("widget") or "demo"
    return render(request, "chat/demo.html", {"widget_key": key[:64]})


@agent_required
def workspace(request: HttpRequest) -> HttpResponse:
    user = request.user
    chats = [chat_dict(s) for s in assignment.active_chats(agent=user)]
    team_ids = selectors.team_ids(user)
    colleagues = (
        get_user_model()
        .objects.filter(is_active=True, agent__isnull=False)
        .exclude(pk=user.pk)
        .filter(helpdesk_teams__in=Team.objects.all())
        .distinct()
        .order_by("first_name", "username")
    )
    profile = getattr(user, "agent", None)
    data = {
        "chats": chats,
        "user": user.pk,
        "max_chats": profile.max_chats if profile else 4,
        "availability": profile.availability if profile else "offline",
        "spelling": {c["language"]: spelling.available(c["language"] or "en") for c in chats},
        "labels": {
            "offer": _("New chat request"),
            "accept": _("Accept"),
            "decline": _("Decline"),
            "new_message": _("New message"),
            "draft": _("Typing (not sent yet):"),
            "ended": _("The visitor ended the chat."),
            "no_chats": _("No chats right now."),
            "you": _("You"),
            "bot": _("Bot"),
            "spelling": _("Spelling:"),
            "note": _("note"),
        },
    }
    return render(
        request,
        "chat/workspace.html",
        {
            "nav": "chats",
            "data": data,
            "teams": Team.objects.all(),
            "my_teams": team_ids,
            "colleagues": [(u.pk, u.get_full_name() or u.username) for u in colleagues],
        },
    )


def composer_panel(request: HttpRequest, ticket) -> dict:
    """Spelling help under the ticket page's composer, in the customer's language when the chat knows it."""
    session = ChatSession.objects.filter(ticket_id=ticket.pk).select_related("widget").order_by("-id").first()
    lang = (session.locale or session.widget.language) if session else ""
    lang = (lang or request.LANGUAGE_CODE or "en")[:2]
    return {"lang": lang, "server_dictionary": spelling.available(lang)}


@agent_required
def canned_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    items = list(canned.visible_canned(agent=user).order_by("shortcut", "id"))
    editing = None
    if request.GET.get("edit"):
        editing = next((c for c in items if str(c.pk) == request.GET["edit"] and canned.can_edit(agent=user, canned=c)), None)
    teams = Team.objects.filter(pk__in=selectors.team_ids(user)) if not selectors.sees_everything(user) else Team.objects.all()
    rows = [(c, canned.can_edit(agent=user, canned=c)) for c in items]
    return render(request, "chat/canned.html", {"rows": rows, "editing": editing, "teams": teams, "nav": "canned"})


@agent_required
@require_POST
def canned_save(request: HttpRequest) -> HttpResponse:
    user = request.user
    shortcut = request.POST.get("shortcut", "").strip().lstrip("/").lower()[:40]
    title, body = request.POST.get("title", "").strip()[:120], request.POST.get("body", "").strip()
    team_id = request.POST.get("team") or None
    if not shortcut or not shortcut.replace("-", "").replace("_", "").isalnum() or not title or not body:
        flash.error(request, _("Shortcut (letters, digits, - or _), title and text are required."))
        return redirect("chat:canned")
    if request.POST.get("id"):
        item = get_object_or_404(canned.visible_canned(agent=user), pk=request.POST["id"])
    else:
        item = CannedResponse(owner=None if team_id else user)
    item.shortcut, item.title, item.body = shortcut, title, body
    if not item.owner_id:
        item.team = Team.objects.filter(pk=team_id).first() if team_id else item.team
    if not canned.can_edit(agent=user, canned=item):
        flash.error(request, _("You cannot edit this canned response."))
        return redirect("chat:canned")
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError:
        flash.error(request, _("This shortcut is already in use."))
        return redirect("chat:canned")
    flash.success(request, _("Saved /%(shortcut)s.") % {"shortcut": shortcut})
    return redirect("chat:canned")


@agent_required
@require_POST
def canned_delete(request: HttpRequest, canned_id: int) -> HttpResponse:
    item = get_object_or_404(canned.visible_canned(agent=request.user), pk=canned_id)
    if not canned.can_edit(agent=request.user, canned=item):
        raise Http404
    item.delete()
    flash.success(request, _("Deleted."))
    return redirect("chat:canned")


