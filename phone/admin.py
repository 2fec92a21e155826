from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Call, OptOut, PhoneNumber


@admin.register(PhoneNumber)
class PhoneNumberAdmin(admin.ModelAdmin):
    list_display = ["number", "team", "sms", "whatsapp", "voice", "opens_at", "closes_at"]
    list_filter = ["sms", "whatsapp", "voice", "team"]
    list_select_related = ["team"]
    search_fields = ["number"]
    fieldsets = [
        (None, {"fields": ["number", "team", "sms", "whatsapp", "voice"]}),
        (_("Voice"), {"fields": ["greeting", "closed_message", "voicemail_prompt", "ring_seconds"]}),
        (_("Business hours"), {"fields": ["time_zone", "open_days", "opens_at", "closes_at"]}),
    ]


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = ["call_sid", "phone_number", "outcome", "duration", "created_at"]
    list_filter = ["outcome"]
    list_select_related = ["phone_number"]
    search_fields = ["call_sid"]
    readonly_fields = [f.name for f in Call._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(OptOut)
class OptOutAdmin(admin.ModelAdmin):
    list_display = ["kind", "created_at"]
    list_filter = ["kind"]
    fields = ["kind", "address"]
