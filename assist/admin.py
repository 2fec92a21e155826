from django.contrib import admin

from .models import AssistSettings, ClassifierModel, Flow, FlowVersion, IndexDoc, Prediction, Summary


@admin.register(AssistSettings)
class AssistSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "auto_apply_enabled", "auto_apply_threshold", "good_rating", "summary_min_messages"]

    def has_add_permission(self, request) -> bool:
        return not AssistSettings.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ClassifierModel)
class ClassifierModelAdmin(admin.ModelAdmin):
    list_display = ["kind", "samples", "trained_at"]
    exclude = ["blob"]
    readonly_fields = ["kind", "samples", "labels", "trained_at"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(IndexDoc)
class IndexDocAdmin(admin.ModelAdmin):
    list_display = ["title", "source", "ref", "language", "team_id", "updated_at"]
    list_filter = ["source", "language"]
    search_fields = ["title"]
    readonly_fields = ["tokens"]


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    list_display = ["ticket", "kind", "label", "confidence", "applied", "accepted"]
    list_filter = ["kind", "applied", "accepted"]
    raw_id_fields = ["ticket"]


@admin.register(Summary)
class SummaryAdmin(admin.ModelAdmin):
    list_display = ["ticket", "created_at"]
    raw_id_fields = ["ticket", "note"]


class FlowVersionInline(admin.TabularInline):
    model = FlowVersion
    extra = 0
    fields = ["number", "created_by", "created_at"]
    readonly_fields = fields
    can_delete = False


@admin.register(Flow)
class FlowAdmin(admin.ModelAdmin):
    list_display = ["name", "widget_id", "active"]
    inlines = [FlowVersionInline]
