"""Reads of the knowledge base. The portal sees published public articles only; agents see internal ones too."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q, QuerySet

from tickets.selectors import is_agent

from .models import Article, ArticleStatus, Category, Visibility

LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}


def public_articles(*, language: str = "") -> QuerySet[Article]:
    qs = Article.objects.filter(status=ArticleStatus.PUBLISHED, visibility=Visibility.PUBLIC)
    return qs.filter(language=language) if language else qs


def portal_categories() -> QuerySet[Category]:
    return Category.objects.filter(visibility=Visibility.PUBLIC)


def has_language(language: str) -> bool:
    return public_articles(language=language).exists()


def public_translations(article: Article) -> list[Article]:
    """The other language versions of an article that a customer may read."""
    root_id = article.translation_of_id or article.pk
    return list(
        public_articles().filter(Q(pk=root_id) | Q(translation_of_id=root_id)).exclude(pk=article.pk).only("slug", "language", "title")
    )


def related_articles(article: Article, limit: int = 5) -> list[Article]:
    if not article.category_id:
        return []
    return list(
        public_articles(language=article.language).filter(category_id=article.category_id).exclude(pk=article.pk).order_by("-views")[:limit]
    )


def articles_for_agent(*, agent) -> QuerySet[Article]:
    """Agents read every published article; supervisors and admins also see drafts."""
    if not is_agent(agent):
        return Article.objects.none()
    qs = Article.objects.select_related("category", "author")
    if can_edit(agent):
        return qs
    return qs.filter(status=ArticleStatus.PUBLISHED)


def can_edit(user) -> bool:
    profile = getattr(user, "agent", None)
    return bool(user.is_superuser or (profile is not None and profile.is_manager))
