from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import AgentBadge, Award, Badge, Level, PointRule, Score
from .services import recompute_totals


@admin.register(PointRule)
class PointRuleAdmin(admin.ModelAdmin):
    list_display = ("reason", "points", "target_seconds", "active")
    list_editable = ("points", "target_seconds", "active")


@admin.register(Award)
class AwardAdmin(admin.ModelAdmin):
    """The audit trail: awards are facts; corrections are new `adjustment` awards, not edits."""

    list_display = ("created_at", "agent", "reason", "points", "ticket", "ref")
    list_filter = ("reason",)
    search_fields = ("agent__username", "ref")
    raw_id_fields = ("agent", "ticket")
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Award._meta.fields] if obj else []

    def save_model(self, request, obj, form, change):
        if not change and not obj.ref:
            obj.ref = f"admin:{request.user.pk}"
        super().save_model(request, obj, form, change)
        recompute_totals()


@admin.register(Score)
class ScoreAdmin(admin.ModelAdmin):
    list_display = ("agent", "total")
    readonly_fields = ("agent", "total")
    actions = ["recompute"]

    @admin.action(description=_("Recompute all totals from the awards"))
    def recompute(self, request, queryset):
        changed = recompute_totals()
        self.message_user(
            request,
            ngettext("%(n)d total corrected.", "%(n)d totals corrected.", len(changed)) % {"n": len(changed)},
            messages.SUCCESS,
        )

    def has_add_permission(self, request):
        return False


@admin.register(Level)
class LevelAdmin(admin.ModelAdmin):
    list_display = ("name", "min_points")


@admin.register(Badge)
class BadgeAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "criterion", "threshold", "seconds", "minimum", "active")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(AgentBadge)
class AgentBadgeAdmin(admin.ModelAdmin):
    list_display = ("agent", "badge", "awarded_at")
    list_filter = ("badge",)
    raw_id_fields = ("agent",)
