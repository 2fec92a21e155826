"""API shapes of workflows. Writable fields listed explicitly; secrets are write-only."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils.translation import gettext as _
from rest_framework import serializers

from . import automation, hours
from .actions import InvalidAction, validate_actions
from .models import (
    WEEKDAYS,
    AutomationRule,
    BusinessHours,
    Holiday,
    Macro,
    SlaPolicy,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
)
from .webhooks import RefusedDestination, check_destination


class MacroSerializer(serializers.ModelSerializer):
    class Meta:
        model = Macro
        fields = ["id", "name", "actions", "shortcut", "created_by", "created_at"]
        read_only_fields = ["id", "created_by", "created_at"]

    def validate_actions(self, value):
        try:
            return validate_actions(value)
        except InvalidAction as exc:
            raise serializers.ValidationError(str(exc)) from exc


class ApplyMacroSerializer(serializers.Serializer):
    macro = serializers.IntegerField()


class ApplyToManySerializer(serializers.Serializer):
    tickets = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=500)


class MergeSerializer(serializers.Serializer):
    into = serializers.IntegerField()
    allow_other_contact = serializers.BooleanField(default=False)


class SplitSerializer(serializers.Serializer):
    from_message = serializers.IntegerField()


class HolidaySerializer(serializers.ModelSerializer):
    class Meta:
        model = Holiday
        fields = ["date", "name"]


class BusinessHoursSerializer(serializers.ModelSerializer):
    holidays = HolidaySerializer(many=True, required=False)

    class Meta:
        model = BusinessHours
        fields = ["id", "name", "team", "timezone", "schedule", "holidays"]

    def validate_timezone(self, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise serializers.ValidationError(_("Unknown time zone.")) from exc
        return value

    def validate_schedule(self, value):
        if not isinstance(value, dict) or set(value) - set(WEEKDAYS):
            raise serializers.ValidationError(_("An object with keys mon … sun."))
        for day, intervals in value.items():
            if not isinstance(intervals, list):
                raise serializers.ValidationError(_("%(day)s: a list of [start, end] pairs.") % {"day": day})
            for interval in intervals:
                try:
                    hours.parse_interval(interval)
                except (TypeError, ValueError) as exc:
                    raise serializers.ValidationError(_("%(day)s: invalid interval %(interval)s.") % {"day": day, "interval": interval}) from exc
        return value

    def create(self, validated):
        holidays = validated.pop("holidays", [])
        calendar = BusinessHours.objects.create(**validated)
        Holiday.objects.bulk_create([Holiday(calendar=calendar, **h) for h in holidays])
        return calendar

    def update(self, calendar, validated):
        holidays = validated.pop("holidays", None)
        for key, value in validated.items():
            setattr(calendar, key, value)
        calendar.save()
        if holidays is not None:
            calendar.holidays.all().delete()
            Holiday.objects.bulk_create([Holiday(calendar=calendar, **h) for h in holidays])
        return calendar


class SlaPolicySerializer(serializers.ModelSerializer):
    class Meta:
        model = SlaPolicy
        fields = [
            "id", "name", "position", "active", "priority", "channel", "team", "first_response_minutes",
            "next_response_minutes", "resolution_minutes", "business_hours", "warn_minutes", "pause_when_pending",
        ]  # fmt: skip


class AutomationRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = AutomationRule
        fields = ["id", "name", "position", "active", "trigger", "idle_minutes", "conditions", "actions", "stop_processing"]

    def validate_conditions(self, value):
        try:
            return automation.validate_conditions(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def validate_actions(self, value):
        try:
            return automation.validate_rule_actions(value)
        except InvalidAction as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def validate(self, data):
        trigger = data.get("trigger", getattr(self.instance, "trigger", None))
        idle = data.get("idle_minutes", getattr(self.instance, "idle_minutes", None))
        if trigger == "customer.idle" and not idle:
            raise serializers.ValidationError({"idle_minutes": _("Required for this trigger.")})
        return data


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = ["id", "event", "state", "attempts", "response_code", "error", "log", "created_at", "finished_at"]


class WebhookSerializer(serializers.ModelSerializer):
    secret = serializers.CharField(write_only=True, min_length=16, max_length=200, trim_whitespace=False)
    events = serializers.ListField(child=serializers.ChoiceField(choices=WebhookEvent.values), min_length=1)
    allowed_hosts = serializers.ListField(child=serializers.CharField(max_length=253), required=False)
    recent_deliveries = serializers.SerializerMethodField()

    class Meta:
        model = Webhook
        fields = ["id", "url", "events", "secret", "active", "allowed_hosts", "created_at", "recent_deliveries"]
        read_only_fields = ["id", "created_at", "recent_deliveries"]

    def validate(self, data):
        url = data.get("url", getattr(self.instance, "url", ""))
        allowed = data.get("allowed_hosts", getattr(self.instance, "allowed_hosts", []))
        try:
            check_destination(url, allowed)
        except RefusedDestination as exc:
            raise serializers.ValidationError({"url": [_("Refused: %(reason)s. Add the host to allowed_hosts to allow an internal address.") % {"reason": exc}]}) from exc
        return data

    def get_recent_deliveries(self, hook: Webhook) -> list[dict]:
        return DeliverySerializer(hook.deliveries.all()[:10], many=True).data


class _SlaPolicyRef(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class TicketSlaSerializer(serializers.Serializer):
    """The `sla` block of the ticket JSON (CONTRACT), described for the OpenAPI document."""

    policy = _SlaPolicyRef(allow_null=True, help_text="The SLA policy that applies, or null.")
    first_response_due = serializers.DateTimeField(allow_null=True, help_text="While no agent has answered yet.")
    next_response_due = serializers.DateTimeField(allow_null=True, help_text="When the customer is waiting for an answer.")
    resolution_due = serializers.DateTimeField(allow_null=True, help_text="While the ticket is active.")
    breached = serializers.ListField(child=serializers.CharField(), help_text="Targets already missed: first_response, next_response, resolution.")
