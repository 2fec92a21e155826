from django.contrib import admin

from .models import Suggestion, SuggestionComment, Survey


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ("ticket", "agent", "channel", "rating", "sent_at", "link_sent_via", "answered_at", "expires_at")
    list_filter = ("rating", "channel", "link_sent_via")
    raw_id_fields = ("ticket", "agent")
    readonly_fields = ("token", "answered_at", "link_sent_at", "link_sent_via")
    date_hierarchy = "sent_at"


class CommentInline(admin.TabularInline):
    model = SuggestionComment
    extra = 0
    raw_id_fields = ("author",)


@admin.register(Suggestion)
class SuggestionAdmin(admin.ModelAdmin):
    list_display = ("title", "author", "status", "created_at", "accepted_at")
    list_filter = ("status",)
    inlines = [CommentInline]
    readonly_fields = ("accepted_at",)
