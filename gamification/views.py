"""Agent pages: the live leaderboard and an agent's profile (points, level, badges, award history)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from tickets.models import Team
from tickets.views import agent_required

from .selectors import PERIODS, leaderboard, profile
from .services import agents


@agent_required
def leaderboard_page(request: HttpRequest) -> HttpResponse:
    period = request.GET.get("period") if request.GET.get("period") in PERIODS else "week"
    team = request.GET.get("team", "")
    team_id = int(team) if team.isdigit() and Team.objects.filter(pk=int(team)).exists() else None
    context = {
        "nav": "leaderboard",
        "period": period,
        "team_id": team_id,
        "teams": Team.objects.all(),
        "periods": PERIODS,
        "results": leaderboard(period=period, team_id=team_id),
    }
    return render(request, "gamification/leaderboard.html", context)


@agent_required
def profile_page(request: HttpRequest, user_id: int | None = None) -> HttpResponse:
    agent = request.user if user_id is None else agents().filter(pk=user_id).first()
    if agent is None:
        raise Http404
    return render(request, "gamification/profile.html", {"agent": agent, **profile(agent=agent)})
