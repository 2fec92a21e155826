"""`/api/v1/messenger-pages/`: admins connect pages. The access token is write-only (never returned)."""

from __future__ import annotations

from rest_framework import serializers, viewsets

from tickets.permissions import IsAdmin

from .models import MessengerPage


class MessengerPageSerializer(serializers.ModelSerializer):
    access_token = serializers.CharField(write_only=True, required=False, allow_blank=True, trim_whitespace=True)

    class Meta:
        model = MessengerPage
        fields = ["id", "page_id", "name", "team", "access_token"]

    def update(self, instance: MessengerPage, validated_data: dict) -> MessengerPage:
        if not validated_data.get("access_token"):
            validated_data.pop("access_token", None)  # empty keeps the stored token
        return super().update(instance, validated_data)


class MessengerPageViewSet(viewsets.ModelViewSet):
    serializer_class = MessengerPageSerializer
    permission_classes = [IsAdmin]
    queryset = MessengerPage.objects.select_related("team").order_by("name", "page_id")
