"""REST resources: `widgets/` (admins), `canned-responses/` (agents), `chat/spellcheck/`."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action, api_view
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from tickets import selectors
from tickets.models import Ticket
from tickets.permissions import IsAdmin, IsAgent

from . import canned as canned_rules
from . import spelling
from .models import CannedResponse, Widget
from .serializers import CannedResponseSerializer, WidgetSerializer


class WidgetViewSet(viewsets.ModelViewSet):
    serializer_class = WidgetSerializer
    permission_classes = [IsAdmin]
    queryset = Widget.objects.all().order_by("id")


class CannedResponseViewSet(viewsets.ModelViewSet):
    """Agents list what they may use and manage their own; supervisors manage their teams', admins all."""

    serializer_class = CannedResponseSerializer
    permission_classes = [IsAgent]
    queryset = CannedResponse.objects.none()  # for the schema; requests use get_queryset (the agent's own)

    def get_queryset(self):
        qs = canned_rules.visible_canned(agent=self.request.user)
        q = self.request.query_params.get("q", "").strip().lstrip("/")
        if q:
            qs = qs.filter(shortcut__istartswith=q) | qs.filter(title__icontains=q)
        return qs.order_by("shortcut", "id")

    def perform_create(self, serializer):
        data = serializer.validated_data
        team, owner_given = data.get("team"), "owner" in self.request.data
        owner = None if (team is not None or (owner_given and self.request.data.get("owner") is None)) else self.request.user
        candidate = CannedResponse(team=team, owner=owner)
        if not canned_rules.can_edit(agent=self.request.user, canned=candidate):
            raise PermissionDenied(_("You cannot create canned responses for this team."))
        self._save(serializer, team=team, owner=owner)

    def perform_update(self, serializer):
        instance = serializer.instance
        if not canned_rules.can_edit(agent=self.request.user, canned=instance):
            raise PermissionDenied(_("You cannot edit this canned response."))
        team = serializer.validated_data.get("team", instance.team)
        candidate = CannedResponse(team=team, owner=instance.owner)
        if not canned_rules.can_edit(agent=self.request.user, canned=candidate):
            raise PermissionDenied(_("You cannot move it to this team."))
        self._save(serializer, owner=instance.owner)

    def perform_destroy(self, instance):
        if not canned_rules.can_edit(agent=self.request.user, canned=instance):
            raise PermissionDenied(_("You cannot delete this canned response."))
        instance.delete()

    def _save(self, serializer, **fields):
        try:
            with transaction.atomic():
                serializer.save(**fields)
        except IntegrityError:
            raise ValidationError({"shortcut": [_("This shortcut is already in use.")]}) from None

    @action(detail=True, methods=["post"])
    def use(self, request: Request, pk=None) -> Response:
        """Expand the variables for a ticket (optional) and count the use: `{"text": ...}`."""
        canned = self.get_object()
        ticket = None
        ticket_id = request.data.get("ticket")
        if ticket_id not in (None, ""):
            try:
                ticket = selectors.ticket_for_agent(agent=request.user, ticket_id=int(ticket_id))
            except (Ticket.DoesNotExist, TypeError, ValueError):
                return Response({"detail": _("Not found.")}, status=status.HTTP_404_NOT_FOUND)
        return Response({"id": canned.pk, "text": canned_rules.use(agent=request.user, canned=canned, ticket=ticket)})

    @action(detail=False, methods=["get"])
    def phrases(self, request: Request) -> Response:
        return Response({"results": canned_rules.phrases(agent=request.user)})


@extend_schema(
    request={"application/json": {"type": "object", "properties": {"text": {"type": "string"}, "language": {"type": "string"}}}},
    responses={200: OpenApiTypes.OBJECT},
)
@api_view(["POST"])
def spellcheck(request: Request) -> Response:
    """`{"text", "language"}` → misspelled words with suggestions (`available: false` without a dictionary)."""
    text, language = request.data.get("text"), request.data.get("language") or "en"
    if not isinstance(text, str) or not isinstance(language, str):
        raise ValidationError({"text": [_("Text is required.")]})
    if len(text) > 10000:
        raise ValidationError({"text": [_("Text over 10,000 characters.")]})
    return Response(spelling.suggestions(text, language))
