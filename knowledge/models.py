"""Knowledge base: categories (collections with landing pages), articles, revisions, votes, deflections.

The search index is not a model field: PostgreSQL keeps a generated, weighted `search_vector` column with a
GIN index, SQLite keeps an FTS5 table in sync by triggers (both created in migrations; see `search.py`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public")
    INTERNAL = "internal", _("Internal (agents only)")


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class Category(models.Model):
    """A collection of articles (a product, an industry, a topic) with its own landing page."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children", verbose_name=_("parent")
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    # Internal collections hold internal articles only and never appear on the portal.
    visibility = models.CharField(_("visibility"), max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("knowledge:category", args=[self.slug])


class Article(models.Model):
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200, unique=True, blank=True, help_text=_("Made from the title when left empty."))
    body = models.TextField(_("body (Markdown)"), blank=True)
    html = models.TextField(_("HTML (rendered, sanitized)"), blank=True, editable=False)
    # Plain text of the rendered body: what is indexed and what snippets are cut from.
    text = models.TextField(_("plain text"), blank=True, editable=False)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="articles", verbose_name=_("category")
    )
    tags = models.JSONField(_("tags"), default=list, blank=True)
    tags_text = models.CharField(max_length=1000, blank=True, editable=False)
    visibility = models.CharField(_("visibility"), max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC)
    status = models.CharField(_("status"), max_length=10, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="en")
    # Per-language versions point at the original; the original points at nothing.
    translation_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="translations",
        verbose_name=_("translation of"),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("author")
    )
    views = models.PositiveIntegerField(_("views"), default=0)
    helpful_yes = models.PositiveIntegerField(_("helpful"), default=0)
    helpful_no = models.PositiveIntegerField(_("not helpful"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        constraints = [
            models.UniqueConstraint(
                fields=["translation_of", "language"], condition=Q(translation_of__isnull=False), name="article_one_version_per_language"
            )
        ]
        indexes = [
            models.Index(fields=["status", "visibility", "language"], name="article_listing"),
            models.Index(fields=["category", "status", "visibility"], name="article_category"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("knowledge:article", args=[self.slug])

    @property
    def is_public(self) -> bool:
        return self.status == ArticleStatus.PUBLISHED and self.visibility == Visibility.PUBLIC


class Revision(models.Model):
    """One saved version of an article, with who saved it."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField(_("number"))
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body (Markdown)"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ArticleStatus.choices)
    visibility = models.CharField(_("visibility"), max_length=10, choices=Visibility.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("author")
    )
    note = models.CharField(_("change note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-number"]
        verbose_name = _("revision")
        verbose_name_plural = _("revisions")
        constraints = [models.UniqueConstraint(fields=["article", "number"], name="revision_unique_number")]

    def __str__(self) -> str:
        return f"{self.article_id} r{self.number}"


class Vote(models.Model):
    """'Was this helpful?': one vote per voter (a cookie token or an agent) per article; changing it replaces it."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="votes")
    voter = models.CharField(max_length=64)
    helpful = models.BooleanField(_("helpful"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("vote")
        verbose_name_plural = _("votes")
        constraints = [models.UniqueConstraint(fields=["article", "voter"], name="vote_one_per_voter")]

    def __str__(self) -> str:
        return f"{self.article_id}: {'+' if self.helpful else '-'}"


class Deflection(models.Model):
    """A widget visitor read a suggested article and left without starting a chat (counted by reports)."""

    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="deflections", verbose_name=_("article"))
    widget_key = models.CharField(_("widget key"), max_length=64)
    team = models.ForeignKey(
        "tickets.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("team")
    )
    # Optional visitor token from the widget: a retried POST for the same visitor and article counts once.
    visitor = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("deflection")
        verbose_name_plural = _("deflections")
        constraints = [
            models.UniqueConstraint(
                fields=["article", "widget_key", "visitor"], condition=~Q(visitor=""), name="deflection_once_per_visitor"
            )
        ]

    def __str__(self) -> str:
        return f"{self.article_id} via {self.widget_key}"


class Word(models.Model):
    """Vocabulary of the published articles, for typo-tolerant suggestions (trigram index on PostgreSQL)."""

    word = models.CharField(max_length=60, unique=True)

    class Meta:
        verbose_name = _("word")
        verbose_name_plural = _("words")

    def __str__(self) -> str:
        return self.word
