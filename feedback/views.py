"""The customer's survey page and the agents' suggestion board."""

from __future__ import annotations

import json

from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tickets.views import agent_required

from . import services
from .models import Suggestion, SuggestionStatus, SuggestionVote, Survey

JSON_CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, POST, OPTIONS", "Access-Control-Allow-Headers": "Content-Type"}


# The token in the URL is the customer's only credential (no session), so a cross-site request cannot forge an
# answer without it; CSRF protection would only break the widget's cross-origin JSON post.
@csrf_exempt
def survey_page(request: HttpRequest, token: str) -> HttpResponse:
    survey = Survey.objects.filter(token=token).select_related("ticket").first()
    wants_json = request.content_type == "application/json" or "application/json" in request.headers.get("Accept", "")
    if request.method == "OPTIONS":
        return HttpResponse(status=204, headers=JSON_CORS)
    if survey is None:
        return _survey_error(request, wants_json, 404, "not_found", _("This survey link is not valid."))
    if request.method == "GET":
        if not survey.is_open:
            return _closed(request, survey, wants_json)
        return render(request, "feedback/survey.html", {"survey": survey, "ratings": range(1, 6)})
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "GET, POST, OPTIONS"})
    rating, comment = _read_answer(request)
    try:
        survey = services.answer_survey(token=token, rating=rating, comment=comment)
    except ValueError as exc:
        if wants_json:
            return JsonResponse({"error": "invalid", "message": str(exc)}, status=400, headers=JSON_CORS)
        return render(request, "feedback/survey.html", {"survey": survey, "ratings": range(1, 6), "error": str(exc), "comment": comment}, status=400)
    except services.SurveyClosed:
        survey.refresh_from_db()
        return _closed(request, survey, wants_json)
    if wants_json:
        return JsonResponse({"ok": True, "message": _("Thank you for your feedback!")}, headers=JSON_CORS)
    return render(request, "feedback/survey_done.html", {"survey": survey, "message": _("Thank you for your feedback!")})


def _read_answer(request: HttpRequest) -> tuple[object, str]:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return None, ""
        if not isinstance(data, dict):
            return None, ""
        rating = data.get("rating")
        if isinstance(rating, str) and rating.isdigit():
            rating = int(rating)
        return rating, str(data.get("comment") or "")
    raw = request.POST.get("rating", "")
    return (int(raw) if raw.isdigit() else None), request.POST.get("comment", "")


def _closed(request: HttpRequest, survey: Survey, wants_json: bool) -> HttpResponse:
    if survey.answered_at is not None:
        return _survey_error(request, wants_json, 410, "answered", _("This survey has already been answered. Thank you!"))
    return _survey_error(request, wants_json, 410, "expired", _("This survey link has expired."))


def _survey_error(request: HttpRequest, wants_json: bool, status: int, code: str, message: str) -> HttpResponse:
    if wants_json:
        return JsonResponse({"error": code, "message": message}, status=status, headers=JSON_CORS)
    return render(request, "feedback/survey_done.html", {"message": message, "code": code}, status=status)


# ---------------------------------------------------------------- suggestion board


def _is_manager(user) -> bool:
    profile = getattr(user, "agent", None)
    return user.is_superuser or (profile is not None and profile.is_manager)


@agent_required
def suggestions(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            suggestion = services.post_suggestion(author=request.user, title=request.POST.get("title", ""), body=request.POST.get("body", ""))
        except ValueError as exc:
            flash.error(request, str(exc))
            return redirect("feedback:suggestions")
        services.vote(suggestion=suggestion, agent=request.user)
        return redirect("feedback:suggestion", suggestion_id=suggestion.pk)
    status = request.GET.get("status", "")
    qs = Suggestion.objects.select_related("author").annotate(
        vote_count=Count("votes", distinct=True), comment_count=Count("comments", distinct=True),
        voted=Exists(SuggestionVote.objects.filter(suggestion=OuterRef("pk"), agent=request.user)),
    )
    if status in SuggestionStatus.values:
        qs = qs.filter(status=status)
    qs = qs.order_by("-vote_count", "-created_at", "-id")[:200]
    return render(request, "feedback/suggestions.html", {"nav": "suggestions", "suggestions": qs, "status": status, "statuses": SuggestionStatus.choices})


@agent_required
def suggestion_detail(request: HttpRequest, suggestion_id: int) -> HttpResponse:
    suggestion = get_object_or_404(Suggestion.objects.select_related("author"), pk=suggestion_id)
    context = {
        "suggestion": suggestion,
        "comments": suggestion.comments.select_related("author"),
        "vote_count": suggestion.votes.count(),
        "voted": suggestion.votes.filter(agent=request.user).exists(),
        "is_manager": _is_manager(request.user),
        "statuses": SuggestionStatus.choices,
    }
    return render(request, "feedback/suggestion.html", context)


@agent_required
@require_POST
def suggestion_vote(request: HttpRequest, suggestion_id: int) -> HttpResponse:
    suggestion = get_object_or_404(Suggestion, pk=suggestion_id)
    services.vote(suggestion=suggestion, agent=request.user, up=request.POST.get("up", "1") == "1")
    back = request.POST.get("next", "")
    if back.startswith("/agent/"):
        return redirect(back)
    return redirect("feedback:suggestion", suggestion_id=suggestion.pk)


@agent_required
@require_POST
def suggestion_comment(request: HttpRequest, suggestion_id: int) -> HttpResponse:
    suggestion = get_object_or_404(Suggestion, pk=suggestion_id)
    try:
        services.comment(suggestion=suggestion, author=request.user, body=request.POST.get("body", ""))
    except ValueError as exc:
        flash.error(request, str(exc))
    return redirect("feedback:suggestion", suggestion_id=suggestion.pk)


@agent_required
@require_POST
def suggestion_status(request: HttpRequest, suggestion_id: int) -> HttpResponse:
    if not _is_manager(request.user):
        raise PermissionDenied
    suggestion = get_object_or_404(Suggestion, pk=suggestion_id)
    try:
        services.set_suggestion_status(suggestion=suggestion, actor=request.user, status=request.POST.get("status", ""))
    except ValueError as exc:
        flash.error(request, str(exc))
    return redirect("feedback:suggestion", suggestion_id=suggestion.pk)
