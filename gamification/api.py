"""`GET /api/v1/leaderboard/?period=day|week|month&team=<id>` (CONTRACT)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tickets.models import Team

from .selectors import PERIODS, leaderboard


class LeaderboardView(APIView):
    def get(self, request: Request) -> Response:
        period, team_id = parse_board_params(request.query_params)
        return Response({"period": period, "team": team_id, "results": leaderboard(period=period, team_id=team_id)})


def parse_board_params(params) -> tuple[str, int | None]:
    period = params.get("period") or "week"
    if period not in PERIODS:
        raise ValidationError({"period": _("Choose day, week or month.")})
    team = params.get("team") or ""
    if not team:
        return period, None
    if not team.isdigit():
        raise ValidationError({"team": _("A team id is a number.")})
    if not Team.objects.filter(pk=int(team)).exists():
        raise NotFound(_("No such team."))
    return period, int(team)
