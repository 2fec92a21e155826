"""REST API of the ticket stream (CONTRACT: /api/v1/). Team-scoped: what an agent may not see is a 404."""

from __future__ import annotations

from django.contrib.auth import authenticate, get_user_model
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action, api_view, authentication_classes, permission_classes
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from . import selectors, services
from .adapters import ReplyRefused
from .login_limit import client_ip, is_locked, record_failure, record_success
from .models import ACTIVE_STATUSES, Contact, ContactIdentity, Team, Ticket
from .permissions import IsAdmin
from .serializers import (
    AgentSerializer,
    AvailabilitySerializer,
    ContactDetailSerializer,
    ContactSerializer,
    MessageCreateSerializer,
    MessageSerializer,
    TeamSerializer,
    TicketSerializer,
    TicketUpdateSerializer,
)


def queue_filters(params) -> selectors.QueueFilters:
    status_param = params.get("status", "")
    statuses = tuple(s for s in status_param.split(",") if s) if status_param else ACTIVE_STATUSES
    if status_param == "all":
        statuses = ()
    team = params.get("team", "")
    return selectors.QueueFilters(
        status=statuses,
        channel=params.get("channel", ""),
        assignee=params.get("assignee", ""),
        team=int(team) if team.isdigit() else None,
        tag=params.get("tag", ""),
        q=params.get("q", "")[:200],
        ordering=params.get("ordering", "-last_message_at"),
    )


class TicketViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = TicketSerializer

    def get_queryset(self):
        if self.action == "list":
            return selectors.queue(agent=self.request.user, filters=queue_filters(self.request.query_params))
        return (
            selectors.visible_tickets(agent=self.request.user)
            .select_related("contact", "team", "assignee")
            .prefetch_related("tags")
        )

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        ticket = self.get_object()
        if ticket.merged_into_id:
            # A merged ticket answers with its target's id.
            return Response({"id": ticket.id, "merged_into": ticket.merged_into_id, "redirect": ticket.merged_into_id})
        return Response(self.get_serializer(ticket).data)

    @extend_schema(request=TicketUpdateSerializer, responses=TicketSerializer)
    def partial_update(self, request: Request, pk=None) -> Response:
        ticket = self.get_object()
        data = TicketUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = data.validated_data
        user = request.user
        if "status" in changes:
            ticket = services.set_status(ticket=ticket, actor=user, status=changes["status"])
        if "priority" in changes:
            ticket = services.set_priority(ticket=ticket, actor=user, priority=changes["priority"])
        if "team" in changes:
            team = _allowed_team(user, changes["team"])
            ticket = services.set_team(ticket=ticket, actor=user, team=team)
        if "assignee" in changes:
            ticket = services.assign(ticket=ticket, actor=user, assignee=_allowed_assignee(user, ticket, changes["assignee"]))
        if changes.get("add_tags") or changes.get("remove_tags"):
            ticket = services.set_tags(ticket=ticket, actor=user, add=changes.get("add_tags", []), remove=changes.get("remove_tags", []))
        fresh = self.get_queryset().filter(pk=ticket.pk).first()
        return Response(self.get_serializer(fresh).data if fresh else {"id": ticket.pk})

    @extend_schema(request=MessageCreateSerializer, responses=MessageSerializer(many=True))
    @action(detail=True, methods=["get", "post"])
    def messages(self, request: Request, pk=None) -> Response:
        ticket = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(selectors.timeline(ticket=ticket))
            return self.get_paginated_response(MessageSerializer(page, many=True).data)
        data = MessageCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            message = services.reply(
                ticket=ticket,
                agent=request.user,
                text=data.validated_data["text"],
                internal=data.validated_data["internal"],
                client_id=data.validated_data["client_id"],
            )
        except (ReplyRefused, services.InvalidMessage) as exc:
            raise ValidationError({"text": [str(exc)]}) from exc
        message = selectors.timeline(ticket=ticket).get(pk=message.pk)
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


def _allowed_team(user, team_id: int | None) -> Team | None:
    if team_id is None:
        return None
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise ValidationError({"team": ["Unknown team."]})
    return team


def _allowed_assignee(user, ticket: Ticket, assignee_id: int | None):
    if assignee_id is None:
        return None
    assignee = get_user_model().objects.filter(pk=assignee_id, is_active=True).first()
    if assignee is None or not selectors.is_agent(assignee):
        raise ValidationError({"assignee": ["Unknown agent."]})
    return assignee


class ContactViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Contacts who have tickets the agent may see (same isolation as tickets)."""

    serializer_class = ContactSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        visible = selectors.visible_tickets(agent=self.request.user)
        qs = Contact.objects.filter(pk__in=visible.values("contact_id"), merged_into__isnull=True)
        q = self.request.query_params.get("q", "").strip()
        if q:
            from .crypto import blind_indexes

            hashes = blind_indexes(q)
            qs = qs.filter(pk__in=ContactIdentity.objects.filter(address_hash__in=hashes).values("contact_id"))
        return qs.prefetch_related("identities").order_by("-id")

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        contact = self.get_object()
        tickets = selectors.contact_tickets(agent=request.user, contact=contact).select_related("contact", "assignee").prefetch_related("tags")[:100]
        return Response(ContactDetailSerializer(contact, context={"tickets": tickets}).data)


class TeamViewSet(viewsets.ModelViewSet):
    serializer_class = TeamSerializer
    queryset = Team.objects.all()
    permission_classes = [IsAdmin]


class AgentViewSet(viewsets.ModelViewSet):
    serializer_class = AgentSerializer
    permission_classes = [IsAdmin]

    def get_queryset(self):
        return get_user_model().objects.filter(agent__isnull=False).select_related("agent").prefetch_related("helpdesk_teams").order_by("id")

    def get_permissions(self):
        if self.action == "me":
            return []
        return super().get_permissions()

    @extend_schema(request=AvailabilitySerializer, responses=AgentSerializer)
    @action(detail=False, methods=["get", "patch"])
    def me(self, request: Request) -> Response:
        if not selectors.is_agent(request.user):
            raise NotFound
        user = self.get_queryset().filter(pk=request.user.pk).first()
        if user is None:
            raise NotFound
        if request.method == "PATCH":
            data = AvailabilitySerializer(data=request.data)
            data.is_valid(raise_exception=True)
            from .agent_socket import set_availability

            set_availability(user, data.validated_data["availability"])
            user = self.get_queryset().get(pk=user.pk)
        return Response(AgentSerializer(user).data)


@extend_schema(request={"application/json": {"type": "object", "properties": {"username": {"type": "string"}, "password": {"type": "string"}}}}, responses={200: {"type": "object", "properties": {"token": {"type": "string"}}}})
@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
def obtain_token(request: Request) -> Response:
    username = str(request.data.get("username", ""))[:150]
    password = str(request.data.get("password", ""))
    ip = client_ip(request)
    if is_locked(username, ip):
        return Response({"detail": "Too many failed attempts. Try again later."}, status=status.HTTP_429_TOO_MANY_REQUESTS)
    user = authenticate(request._request, username=username, password=password)
    if user is None or not selectors.is_agent(user):
        record_failure(username, ip)
        return Response({"detail": "Invalid credentials."}, status=status.HTTP_400_BAD_REQUEST)
    record_success(username)
    token, _created = Token.objects.get_or_create(user=user)
    return Response({"token": token.key})


def get_ticket_or_404(request: Request, ticket_id: int) -> Ticket:
    """For other apps' API views: the ticket if the caller may see it, else 404."""
    return get_object_or_404(selectors.visible_tickets(agent=request.user), pk=ticket_id)


