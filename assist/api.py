"""Assist REST endpoints (CONTRACT: `GET tickets/<id>/suggestions/`)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.request import Request
from rest_framework.response import Response

from tickets.api import get_ticket_or_404
from tickets.permissions import IsAgent

from .suggestions import suggestions_for


@extend_schema(responses={200: OpenApiResponse(description="{results: [{source, title, text, ref}]}")})
@api_view(["GET"])
@permission_classes([IsAgent])
def ticket_suggestions(request: Request, ticket_id: int) -> Response:
    """Up to three suggested replies to the customer's latest message; 404 for a ticket the caller may not see."""
    ticket = get_ticket_or_404(request, ticket_id)
    return Response({"results": suggestions_for(ticket=ticket, agent=request.user)})
