"""API shapes (CONTRACT field names). Writable fields are listed explicitly: no mass assignment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import serializers

from .models import AgentProfile, Availability, Contact, Message, Role, Team, Ticket
from .representations import agent_name, attachment_dict, author_dict


class TicketSerializer(serializers.ModelSerializer):
    tags = serializers.SerializerMethodField()
    contact_name = serializers.SerializerMethodField()
    assignee_name = serializers.SerializerMethodField()

    class Meta:
        model = Ticket
        fields = [
            "id", "subject", "status", "priority", "channel", "team", "assignee", "assignee_name", "contact",
            "contact_name", "tags", "unread", "created_at", "updated_at", "last_message_at",
            "first_response_at", "resolved_at", "merged_into",
        ]  # fmt: skip
        read_only_fields = fields

    def get_tags(self, ticket: Ticket) -> list[str]:
        return [t.name for t in ticket.tags.all()]

    def get_contact_name(self, ticket: Ticket) -> str:
        return str(ticket.contact)

    def get_assignee_name(self, ticket: Ticket) -> str:
        return agent_name(ticket.assignee) if ticket.assignee_id else ""

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for name, field in _extra_ticket_fields.items():
            fields[name] = field()
        return fields


class _RegisteredField(serializers.Field):
    """A read-only block a feature app adds to the ticket JSON; its value is `compute(ticket, serializer)`."""

    compute: Callable[[Ticket, serializers.Serializer], Any]

    def __init__(self) -> None:
        super().__init__(read_only=True, source="*")

    def to_representation(self, ticket: Ticket) -> Any:
        return type(self).compute(ticket, self.parent)


# Feature apps add read-only blocks to the ticket JSON (e.g. workflows' `sla`) without tickets importing them.
_extra_ticket_fields: dict[str, type[_RegisteredField]] = {}


def register_ticket_field(
    name: str, field: Callable[[Ticket, serializers.Serializer], Any], *, schema: type[serializers.Serializer] | None = None
) -> None:
    """`field(ticket, serializer)` returns the value of `name`; in a list it may batch via `serializer.parent`.
    `schema` (a serializer describing the value) is what the OpenAPI document shows for it."""
    from drf_spectacular.utils import extend_schema_field

    cls = type(f"{name.title().replace('_', '')}TicketField", (_RegisteredField,), {"compute": staticmethod(field)})
    if schema is not None:
        cls = extend_schema_field(schema)(cls)
    _extra_ticket_fields[name] = cls


class TicketUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Ticket._meta.get_field("status").choices, required=False)
    priority = serializers.ChoiceField(choices=Ticket._meta.get_field("priority").choices, required=False)
    assignee = serializers.IntegerField(required=False, allow_null=True)
    team = serializers.IntegerField(required=False, allow_null=True)
    add_tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False)
    remove_tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False)


class MessageSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField()
    ticket = serializers.IntegerField(source="ticket_id", read_only=True)

    class Meta:
        model = Message
        fields = ["id", "ticket", "direction", "channel", "author", "text", "html", "attachments", "delivery_status", "error", "created_at"]
        read_only_fields = fields

    def get_author(self, message: Message) -> dict:
        return author_dict(message)

    def get_attachments(self, message: Message) -> list[dict]:
        return [attachment_dict(a) for a in message.attachments.all()]


class MessageCreateSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=10_000, trim_whitespace=True)
    internal = serializers.BooleanField(default=False)
    client_id = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class IdentitySerializer(serializers.Serializer):
    channel = serializers.CharField(source="kind")
    address = serializers.CharField()


class ContactSerializer(serializers.ModelSerializer):
    identities = IdentitySerializer(many=True, read_only=True)

    class Meta:
        model = Contact
        fields = ["id", "name", "email", "phone", "identities", "attributes", "created_at"]
        read_only_fields = ["id", "email", "phone", "identities", "created_at"]


class ContactDetailSerializer(ContactSerializer):
    tickets = serializers.SerializerMethodField()

    class Meta(ContactSerializer.Meta):
        fields = [*ContactSerializer.Meta.fields, "tickets"]

    def get_tickets(self, contact: Contact) -> list[dict]:
        return TicketSerializer(self.context["tickets"], many=True).data


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name"]


class AgentSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="get_full_name", read_only=True)
    teams = serializers.PrimaryKeyRelatedField(source="helpdesk_teams", many=True, queryset=Team.objects.all(), required=False)
    role = serializers.ChoiceField(choices=Role.choices, source="agent.role", required=False)
    max_chats = serializers.IntegerField(source="agent.max_chats", required=False, min_value=0, max_value=50)
    availability = serializers.ChoiceField(choices=Availability.choices, source="agent.availability", required=False)
    password = serializers.CharField(write_only=True, required=False, min_length=8)

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "name", "first_name", "last_name", "email", "teams", "role", "max_chats", "availability", "password"]

    def create(self, validated):
        profile = validated.pop("agent", {})
        teams = validated.pop("helpdesk_teams", [])
        password = validated.pop("password", None)
        user = get_user_model()(**validated)
        user.set_password(password) if password else user.set_unusable_password()
        user.save()
        AgentProfile.objects.create(user=user, **profile)
        user.helpdesk_teams.set(teams)
        return user

    def update(self, user, validated):
        profile_data = validated.pop("agent", {})
        teams = validated.pop("helpdesk_teams", None)
        password = validated.pop("password", None)
        for key, value in validated.items():
            setattr(user, key, value)
        if password:
            user.set_password(password)
        user.save()
        profile, _created = AgentProfile.objects.get_or_create(user=user)
        for key, value in profile_data.items():
            setattr(profile, key, value)
        profile.save()
        if teams is not None:
            user.helpdesk_teams.set(teams)
        return user


class AvailabilitySerializer(serializers.Serializer):
    availability = serializers.ChoiceField(choices=Availability.choices)
