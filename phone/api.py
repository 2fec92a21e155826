"""`/api/v1/phone-numbers/`: admins configure numbers (CONTRACT field names, plus voice hours)."""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers, viewsets

from tickets.permissions import IsAdmin

from .models import PhoneNumber

E164 = re.compile(r"^\+[1-9]\d{6,14}$")


class PhoneNumberSerializer(serializers.ModelSerializer):
    class Meta:
        model = PhoneNumber
        fields = [
            "id", "number", "team", "sms", "whatsapp", "voice", "greeting", "closed_message", "voicemail_prompt",
            "time_zone", "open_days", "opens_at", "closes_at", "ring_seconds",
        ]  # fmt: skip

    def validate_number(self, value: str) -> str:
        value = value.strip().replace(" ", "")
        if not E164.match(value):
            raise serializers.ValidationError(_("Enter the number in E.164 form, e.g. +12025550143."))
        return value

    def validate(self, attrs: dict) -> dict:
        opens = attrs.get("opens_at", getattr(self.instance, "opens_at", None))
        closes = attrs.get("closes_at", getattr(self.instance, "closes_at", None))
        if (opens is None) != (closes is None):
            raise serializers.ValidationError(_("Set both opening and closing time, or neither (always open)."))
        return attrs


class PhoneNumberViewSet(viewsets.ModelViewSet):
    serializer_class = PhoneNumberSerializer
    permission_classes = [IsAdmin]
    queryset = PhoneNumber.objects.select_related("team").order_by("number")
