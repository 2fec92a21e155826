"""`mailboxes/` (CONTRACT): secrets are write-only, never returned."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .models import Mailbox


class MailboxSerializer(serializers.ModelSerializer):
    imap_password = serializers.CharField(write_only=True, required=False, allow_blank=True, style={"input_type": "password"})
    smtp_url = serializers.CharField(write_only=True, required=False, allow_blank=True)
    smtp_url_display = serializers.CharField(read_only=True)
    has_imap_password = serializers.SerializerMethodField()

    class Meta:
        model = Mailbox
        fields = [
            "id", "name", "email_address", "team", "active", "imap_host", "imap_port", "imap_security",
            "imap_username", "imap_password", "has_imap_password", "imap_folder", "processed_folder", "use_idle",
            "poll_interval", "max_message_bytes", "smtp_url", "smtp_url_display", "uidvalidity", "last_uid",
            "last_polled_at", "last_error",
        ]  # fmt: skip
        read_only_fields = ["uidvalidity", "last_uid", "last_polled_at", "last_error"]

    def get_has_imap_password(self, mailbox: Mailbox) -> bool:
        return bool(mailbox.imap_password)

    def validate_smtp_url(self, value: str) -> str:
        if value and value.split("://", 1)[0].lower() not in {"smtp", "smtp+tls", "smtps"}:
            raise serializers.ValidationError(_("Use smtp://, smtp+tls:// or smtps://."))
        return value

    def validate(self, attrs: dict) -> dict:
        folder = attrs.get("imap_folder", getattr(self.instance, "imap_folder", "INBOX"))
        processed = attrs.get("processed_folder", getattr(self.instance, "processed_folder", ""))
        if processed and processed == folder:
            raise serializers.ValidationError({"processed_folder": [_("The processed folder must differ from the folder that is read.")]})
        return attrs

    def update(self, instance: Mailbox, validated_data: dict) -> Mailbox:
        # An omitted or empty secret keeps the stored one (clients never see it, so they cannot echo it).
        for secret in ("imap_password", "smtp_url"):
            if not validated_data.get(secret):
                validated_data.pop(secret, None)
        return super().update(instance, validated_data)
