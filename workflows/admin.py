from django.contrib import admin

from .models import (
    AutomationRule,
    BusinessHours,
    Holiday,
    Macro,
    SlaPolicy,
    TicketMove,
    TicketSla,
    Webhook,
    WebhookDelivery,
)


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 1


@admin.register(BusinessHours)
class BusinessHoursAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "timezone"]
    inlines = [HolidayInline]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "active", "priority", "channel", "team", "first_response_minutes", "next_response_minutes", "resolution_minutes"]
    list_editable = ["position", "active"]


@admin.register(TicketSla)
class TicketSlaAdmin(admin.ModelAdmin):
    list_display = ["ticket", "policy", "first_response_due", "next_response_due", "resolution_due", "next_due"]
    raw_id_fields = ["ticket"]
    list_select_related = ["policy"]


@admin.register(AutomationRule)
class AutomationRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "active", "trigger", "stop_processing"]
    list_editable = ["position", "active"]


@admin.register(Macro)
class MacroAdmin(admin.ModelAdmin):
    list_display = ["name", "shortcut", "created_by", "created_at"]


@admin.register(TicketMove)
class TicketMoveAdmin(admin.ModelAdmin):
    list_display = ["kind", "source", "target", "actor", "created_at", "undone_at"]
    raw_id_fields = ["source", "target"]


class DeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    fields = ["event", "state", "attempts", "response_code", "error", "created_at"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    ordering = ["-created_at"]


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ["url", "active", "created_at"]
    inlines = [DeliveryInline]

    def get_form(self, request, obj=None, **kwargs):
        # The secret is write-only: never rendered back into the form.
        form = super().get_form(request, obj, **kwargs)
        from django import forms

        form.base_fields["secret"].widget = forms.PasswordInput(render_value=False)
        form.base_fields["secret"].required = obj is None
        return form

    def save_model(self, request, obj, form, change):
        if change and not form.cleaned_data.get("secret"):
            obj.secret = type(obj).objects.get(pk=obj.pk).secret
        super().save_model(request, obj, form, change)
