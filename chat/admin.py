from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import CannedResponse, ChatSession, InternalMessage, Room, Widget


class WidgetForm(forms.ModelForm):
    secret = forms.CharField(
        label=_("identity secret"), required=False, widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the current secret. Sites sign identities with HMAC-SHA256 of this secret."),
    )  # fmt: skip

    class Meta:
        model = Widget
        fields = [
            "public_key", "name", "team", "allowed_domains", "colour", "text_colour", "greeting", "prechat_fields",
            "language", "business_hours", "secret",
        ]  # fmt: skip

    def clean_secret(self):
        value = self.cleaned_data.get("secret")
        if not value and self.instance.pk:
            return self.instance.secret
        return value or Widget._meta.get_field("secret").get_default()


@admin.register(Widget)
class WidgetAdmin(admin.ModelAdmin):
    form = WidgetForm
    list_display = ("name", "public_key", "team", "prechat_fields", "language")
    list_select_related = ("team",)
    search_fields = ("name", "public_key")


@admin.register(ChatSession)
class ChatSessionAdmin(admin.ModelAdmin):
    list_display = ("id", "widget", "status", "ticket", "assigned_agent", "started_at", "ended_at")
    list_filter = ("status", "widget")
    list_select_related = ("widget", "ticket", "assigned_agent")
    readonly_fields = [f.name for f in ChatSession._meta.fields if f.name not in ("id", "token_hash")]
    exclude = ("token_hash",)

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):
    list_display = ("shortcut", "title", "team", "owner", "usage_count")
    list_filter = ("team",)
    list_select_related = ("team", "owner")
    search_fields = ("shortcut", "title", "body")
    readonly_fields = ("usage_count",)


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ("key", "kind", "team")
    list_select_related = ("team",)


@admin.register(InternalMessage)
class InternalMessageAdmin(admin.ModelAdmin):
    list_display = ("id", "room", "author", "created_at")
    list_select_related = ("room", "author")
    search_fields = ("text",)
