"""REST API of workflows (CONTRACT): macros, merge/split (+ undo), SLA lookups, admin resources."""

from __future__ import annotations

from datetime import datetime

from django.shortcuts import get_object_or_404
from django.utils.timesince import timeuntil
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action, api_view
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from tickets import selectors
from tickets.api import get_ticket_or_404
from tickets.models import Message, Ticket
from tickets.permissions import IsAdmin, IsManagerOrReadOnly
from tickets.serializers import TicketSerializer

from . import merge as merging
from . import panels, sla
from .macros import apply_macro, apply_to_many
from .models import AutomationRule, BusinessHours, Macro, SlaPolicy, TicketMove, Webhook
from .serializers import (
    ApplyMacroSerializer,
    ApplyToManySerializer,
    AutomationRuleSerializer,
    BusinessHoursSerializer,
    DeliverySerializer,
    MacroSerializer,
    MergeSerializer,
    SlaPolicySerializer,
    SplitSerializer,
    WebhookSerializer,
)


class MacroViewSet(viewsets.ModelViewSet):
    """Agents list macros and apply them; supervisors and admins create and edit."""

    serializer_class = MacroSerializer
    permission_classes = [IsManagerOrReadOnly]
    queryset = Macro.objects.all()

    def perform_create(self, serializer) -> None:
        serializer.save(created_by=self.request.user)

    def list(self, request: Request, *args, **kwargs) -> Response:
        response = super().list(request, *args, **kwargs)
        response.data["labels"] = {"choose": _("Apply macro…"), "apply": _("Apply")}
        return response

    @extend_schema(request=ApplyToManySerializer)
    @action(detail=True, methods=["post"], permission_classes=[])
    def apply(self, request: Request, pk=None) -> Response:
        """Apply to many tickets: `{"tickets": [ids]}`; tickets the caller may not see are reported."""
        if not selectors.is_agent(request.user):
            raise NotFound
        macro = self.get_object()
        data = ApplyToManySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ids = list(dict.fromkeys(data.validated_data["tickets"]))
        tickets = {t.pk: t for t in selectors.visible_tickets(agent=request.user).filter(pk__in=ids, merged_into__isnull=True)}
        results = apply_to_many(tickets=[tickets[i] for i in ids if i in tickets], macro=macro, actor=request.user)
        results += [{"ticket": i, "ok": False, "errors": ["not found"]} for i in ids if i not in tickets]
        return Response({"results": results})


@extend_schema(request=ApplyMacroSerializer, responses=TicketSerializer)
@api_view(["POST"])
def apply_macro_view(request: Request, pk: int) -> Response:
    ticket = get_ticket_or_404(request, pk)
    data = ApplyMacroSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    if ticket.merged_into_id:
        raise ValidationError({"detail": _("This ticket was merged into #%(id)d; apply the macro there.") % {"id": ticket.merged_into_id}})
    macro = Macro.objects.filter(pk=data.validated_data["macro"]).first()
    if macro is None:
        raise ValidationError({"macro": ["Unknown macro."]})
    ticket, errors = apply_macro(ticket=ticket, macro=macro, actor=request.user)
    return Response({**_ticket_json(request, ticket.pk), "errors": errors})


@extend_schema(request=MergeSerializer, responses=TicketSerializer)
@api_view(["POST"])
def merge_view(request: Request, pk: int) -> Response:
    """Merge this ticket into `into`; answers with the target ticket (and how to undo)."""
    source = get_ticket_or_404(request, pk)
    data = MergeSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    target = selectors.visible_tickets(agent=request.user).filter(pk=data.validated_data["into"]).first()
    if target is None:
        raise ValidationError({"into": ["Unknown ticket."]})
    try:
        move = merging.merge(source=source, target=target, actor=request.user, allow_other_contact=data.validated_data["allow_other_contact"])
    except merging.MergeError as exc:
        raise ValidationError({"detail": str(exc)}) from exc
    return Response({**_ticket_json(request, target.pk), "undo": _undo(move)})


@extend_schema(request=SplitSerializer, responses=TicketSerializer)
@api_view(["POST"])
def split_view(request: Request, pk: int) -> Response:
    """Split `from_message` and what follows into a new ticket; answers with the new ticket."""
    ticket = get_ticket_or_404(request, pk)
    data = SplitSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    message = Message.objects.filter(pk=data.validated_data["from_message"], ticket=ticket).first()
    if message is None:
        raise ValidationError({"from_message": ["That message is not on this ticket."]})
    try:
        move = merging.split(ticket=ticket, from_message=message, actor=request.user)
    except merging.MergeError as exc:
        raise ValidationError({"detail": str(exc)}) from exc
    return Response({**_ticket_json(request, move.target_id), "undo": _undo(move)}, status=status.HTTP_201_CREATED)


@extend_schema(request=None, responses={200: OpenApiTypes.OBJECT})
@api_view(["POST"])
def undo_move_view(request: Request, pk: int) -> Response:
    move = get_object_or_404(TicketMove, pk=pk)
    visible = selectors.visible_tickets(agent=request.user)
    if not visible.filter(pk__in=[move.source_id, move.target_id]).count() == 2:
        raise NotFound
    try:
        merging.undo(move=move, actor=request.user)
    except merging.MergeError as exc:
        raise ValidationError({"detail": str(exc)}) from exc
    return Response({"source": _ticket_json(request, move.source_id), "target": _ticket_json(request, move.target_id)})


@extend_schema(parameters=[OpenApiParameter("tickets", str, description="comma-separated ticket ids")], responses={200: OpenApiTypes.OBJECT})
@api_view(["GET"])
def sla_lookup_view(request: Request) -> Response:
    """`?tickets=1,2,3` → the `sla` block of each visible ticket (for the queue's SLA column)."""
    ids = [int(i) for i in request.query_params.get("tickets", "").split(",") if i.strip().isdigit()][:200]
    tickets = list(selectors.visible_tickets(agent=request.user).filter(pk__in=ids).select_related("sla_state__policy"))
    return Response({str(t.pk): {**sla.sla_json(t), "badge": _badge(t)} for t in tickets})


def _badge(ticket: Ticket) -> dict | None:
    state = ticket._state.fields_cache.get("sla_state")
    badge = panels.queue_badge(ticket, state)
    if badge is None:
        return None
    if badge["level"] == "breached":
        badge["text"] = _("%(target)s overdue") % {"target": badge["label"]}
    else:
        left = timeuntil(datetime.fromisoformat(badge["due"]))
        badge["text"] = _("%(target)s in %(left)s") % {"target": badge["label"], "left": left}
    return badge


class AdminViewSet(viewsets.ModelViewSet):
    permission_classes = [IsAdmin]


class SlaPolicyViewSet(AdminViewSet):
    serializer_class = SlaPolicySerializer
    queryset = SlaPolicy.objects.all()


class BusinessHoursViewSet(AdminViewSet):
    serializer_class = BusinessHoursSerializer
    queryset = BusinessHours.objects.prefetch_related("holidays").order_by("id")


class AutomationRuleViewSet(AdminViewSet):
    serializer_class = AutomationRuleSerializer
    queryset = AutomationRule.objects.all()


class WebhookViewSet(AdminViewSet):
    serializer_class = WebhookSerializer
    queryset = Webhook.objects.all()

    @action(detail=True, methods=["get"])
    def deliveries(self, request: Request, pk=None) -> Response:
        hook = self.get_object()
        page = self.paginate_queryset(hook.deliveries.all())
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)


def _ticket_json(request: Request, ticket_id: int) -> dict:
    ticket = (
        Ticket.objects.select_related("contact", "team", "assignee", "sla_state__policy").prefetch_related("tags").get(pk=ticket_id)
    )
    return dict(TicketSerializer(ticket, context={"request": request}).data)


def _undo(move: TicketMove) -> dict:
    return {"move": move.pk, "url": f"/api/v1/moves/{move.pk}/undo/", "until": merging.undo_deadline(move).isoformat()}
