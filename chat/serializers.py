from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .models import CannedResponse, Widget

DOMAIN = re.compile(r"^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


class WidgetSerializer(serializers.ModelSerializer):
    secret = serializers.CharField(write_only=True, required=False, min_length=16, max_length=200)

    class Meta:
        model = Widget
        fields = [
            "id", "public_key", "name", "team", "allowed_domains", "greeting", "colour", "text_colour",
            "prechat_fields", "language", "business_hours", "secret",
        ]  # fmt: skip
        extra_kwargs = {"public_key": {"required": False}}

    def validate_allowed_domains(self, value):
        if not isinstance(value, list) or not all(isinstance(d, str) for d in value):
            raise serializers.ValidationError(_("A list of host names."))
        cleaned = [d.strip().lower() for d in value if d.strip()]
        bad = [d for d in cleaned if not DOMAIN.match(d)]
        if bad:
            raise serializers.ValidationError(_("Not a host name: %(host)s") % {"host": bad[0]})
        return cleaned

    def validate_colour(self, value):
        if not COLOUR.match(value):
            raise serializers.ValidationError(_("A colour like #2563eb."))
        return value

    validate_text_colour = validate_colour

    def validate_business_hours(self, value):
        if value in (None, {}):
            return {}
        days = value.get("days") if isinstance(value, dict) else None
        if not isinstance(days, dict) or not all(
            k in {"0", "1", "2", "3", "4", "5", "6"} and isinstance(v, list) and len(v) == 2 and all(re.match(r"^\d\d:\d\d$", str(t)) for t in v)
            for k, v in days.items()
        ):
            raise serializers.ValidationError(_('Use {"timezone": "Europe/Helsinki", "days": {"0": ["09:00", "17:00"]}} (0 = Monday).'))
        return value


class CannedResponseSerializer(serializers.ModelSerializer):
    shortcut = serializers.CharField(max_length=41)

    class Meta:
        model = CannedResponse
        fields = ["id", "shortcut", "title", "body", "team", "owner", "usage_count"]
        read_only_fields = ["usage_count"]
        validators = []  # the conditional unique constraints are checked in the view

    def validate_shortcut(self, value: str) -> str:
        value = value.strip().lstrip("/").lower()
        if not re.match(r"^[a-z0-9_-]{1,40}$", value):
            raise serializers.ValidationError(_("Letters, digits, - and _ only."))
        return value
