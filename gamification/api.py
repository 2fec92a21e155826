"""`GET /api/v1/leaderboard/?period=day|week|month&team=<id>` (CONTRACT)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tickets.models import Team

from .selectors import PERIODS, leaderboard


def _board_schema():
    agent = inline_serializer("LeaderboardAgent", {"id": serializers.IntegerField(), "name": serializers.CharField()})
    badges = inline_serializer("LeaderboardBadge", {"slug": serializers.CharField(), "name": serializers.CharField()}, many=True)
    row = inline_serializer(
        "LeaderboardRow",
        {"rank": serializers.IntegerField(), "agent": agent, "points": serializers.IntegerField(), "total": serializers.IntegerField(), "level": serializers.CharField(), "badges": badges},
        many=True,
    )
    return inline_serializer("Leaderboard", {"period": serializers.CharField(), "team": serializers.IntegerField(allow_null=True), "results": row})


class LeaderboardView(APIView):
    """Agents ranked by points in the period. Equal points share a rank (1, 2, 2, 4), listed by name."""

    @extend_schema(
        parameters=[
            OpenApiParameter("period", str, enum=list(PERIODS), description="day, week (from Monday) or month; default week"),
            OpenApiParameter("team", int, description="only members of this team"),
        ],
        responses=_board_schema(),
    )
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
