"""Editors (supervisors, admins) write articles here or through the API; saves go through the service so every
save renders, sanitizes, keeps a revision and announces a first publication."""

from __future__ import annotations

from django.contrib import admin

from . import services
from .models import Article, Category, Deflection, Revision


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "parent", "visibility", "position"]
    prepopulated_fields = {"slug": ["name"]}


class RevisionInline(admin.TabularInline):
    model = Revision
    fields = ["number", "title", "status", "visibility", "author", "note", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-number"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "category", "language", "visibility", "status", "views", "helpful_yes", "helpful_no", "updated_at"]
    list_filter = ["status", "visibility", "language", "category"]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    fields = ["title", "slug", "summary", "body", "category", "tags", "visibility", "status", "language", "translation_of"]
    inlines = [RevisionInline]

    def save_model(self, request, obj, form, change) -> None:
        values = {name: form.cleaned_data[name] for name in services.EDITABLE if name in form.cleaned_data}
        saved = services.save_article(author=request.user, article=Article.objects.get(pk=obj.pk) if change else None, **values)
        obj.pk = saved.pk

    def save_related(self, request, form, formsets, change) -> None:
        # Revisions are written by the service; the inline is read-only, so its formset saves nothing.
        for formset in formsets:
            formset.save(commit=False)


@admin.register(Deflection)
class DeflectionAdmin(admin.ModelAdmin):
    list_display = ["created_at", "article", "widget_key", "team"]
    list_filter = ["team"]
    readonly_fields = ["created_at", "article", "widget_key", "team", "visitor"]
