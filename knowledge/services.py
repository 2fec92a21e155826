"""Writes of the knowledge base: saving articles (with a revision each time), votes, views, deflections."""

from __future__ import annotations

import re
from typing import Any

import markdown
from django.apps import apps
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import FieldError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from tickets import events
from tickets.sanitize import html_to_text, sanitize_html

from .models import Article, ArticleStatus, Deflection, Revision, Visibility, Vote
from .search import forget_languages, index_words

EDITABLE = ("title", "slug", "body", "summary", "category", "tags", "visibility", "status", "language", "translation_of")
MAX_BODY_CHARS = 200_000
MAX_TAGS = 20


class InvalidArticle(ValueError):
    """The article cannot be saved as given; the message says why."""


def render_markdown(body: str) -> str:
    """Markdown to HTML, then sanitized like everything else shown in a browser (raw HTML in Markdown included)."""
    rendered = markdown.markdown(body or "", extensions=["extra", "sane_lists"], output_format="html")
    return sanitize_html(rendered)


def save_article(*, author: AbstractBaseUser | None, article: Article | None = None, note: str = "", **fields: Any) -> Article:
    """Create or update an article: render and sanitize, store a revision, announce a first publication.

    Saving identical content again stores no new revision (a retried request changes nothing).
    """
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise InvalidArticle(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    with transaction.atomic():
        if article is not None:
            article = Article.objects.select_for_update().get(pk=article.pk)
        was_published = article is not None and article.status == ArticleStatus.PUBLISHED
        target = article or Article()
        for name, value in fields.items():
            setattr(target, name, value)
        _clean(target)
        changed = article is None or _content_changed(target)
        now = timezone.now()
        target.updated_at = now
        if target.status == ArticleStatus.PUBLISHED and target.published_at is None:
            target.published_at = now
        if article is None:
            target.author = author
        try:
            with transaction.atomic():
                target.save()
        except IntegrityError as exc:
            raise InvalidArticle(_("An article with this slug, or a version in this language, already exists.")) from exc
        if changed:
            number = (target.revisions.aggregate(n=Max("number"))["n"] or 0) + 1
            Revision.objects.create(
                article=target, number=number, title=target.title, body=target.body, status=target.status,
                visibility=target.visibility, author=author, note=note[:200],
            )  # fmt: skip
        forget_languages()
        if target.status == ArticleStatus.PUBLISHED:
            index_words([target.title, target.tags_text, target.text])
            if not was_published:
                events.publish(
                    "article.published",
                    groups=[],
                    frame=None,
                    data={"article_id": target.pk, "author_id": author.pk if author else None},
                )
    return target


def restore_revision(*, revision: Revision, author: AbstractBaseUser | None) -> Article:
    """Make an old revision current again (as a new revision, so history is never rewritten)."""
    return save_article(
        author=author, article=revision.article, title=revision.title, body=revision.body,
        note=f"restored r{revision.number}",
    )  # fmt: skip


def vote(*, article: Article, voter: str, helpful: bool) -> Article:
    """Record or change one voter's answer; the counters are recounted so retries and changes stay exact."""
    if not voter:
        raise ValueError("voter is required")
    with transaction.atomic():
        Vote.objects.update_or_create(article=article, voter=voter[:64], defaults={"helpful": helpful})
        counts = Vote.objects.filter(article=article).aggregate(yes=Count("id", filter=Q(helpful=True)), no=Count("id", filter=Q(helpful=False)))
        Article.objects.filter(pk=article.pk).update(helpful_yes=counts["yes"], helpful_no=counts["no"])
    article.helpful_yes, article.helpful_no = counts["yes"], counts["no"]
    return article


def record_view(*, article: Article) -> None:
    Article.objects.filter(pk=article.pk).update(views=F("views") + 1)


def record_deflection(*, article_id: int, widget_key: str, visitor: str = "") -> Deflection:
    """Count a deflection for a public article shown by a widget. Raises Article.DoesNotExist / ValueError."""
    article = Article.objects.get(pk=article_id, status=ArticleStatus.PUBLISHED, visibility=Visibility.PUBLIC)
    widget_key = widget_key.strip()[:64]
    if not widget_key:
        raise ValueError("widget is required")
    team_id = widget_team_id(widget_key)
    if team_id is False:
        raise ValueError("unknown widget")
    visitor = visitor.strip()[:64]
    if visitor:
        existing = Deflection.objects.filter(article=article, widget_key=widget_key, visitor=visitor).first()
        if existing:
            return existing
    try:
        with transaction.atomic():
            return Deflection.objects.create(article=article, widget_key=widget_key, team_id=team_id or None, visitor=visitor)
    except IntegrityError:
        return Deflection.objects.get(article=article, widget_key=widget_key, visitor=visitor)


def widget_team_id(widget_key: str) -> int | None | bool:
    """The team of the chat widget with this public key: None when there is no widget model (or no team),
    False when the key is unknown."""
    try:
        widget_model = apps.get_model("chat", "Widget")
        widget = widget_model.objects.filter(public_key=widget_key).first()
    except (LookupError, FieldError):
        return None
    if widget is None:
        return False
    return getattr(widget, "team_id", None)


def _clean(article: Article) -> None:
    article.title = (article.title or "").strip()[:200]
    if not article.title:
        raise InvalidArticle(_("The title is required."))
    if len(article.body or "") > MAX_BODY_CHARS:
        raise InvalidArticle(_("The body is longer than %(max)d characters.") % {"max": MAX_BODY_CHARS})
    if article.visibility not in Visibility.values:
        raise InvalidArticle(_("Visibility must be public or internal."))
    if article.status not in ArticleStatus.values:
        raise InvalidArticle(_("Status must be draft or published."))
    article.slug = slugify(article.slug or "")[:200] or _unique_slug(article)
    tags = article.tags if isinstance(article.tags, list) else []
    cleaned = []
    for tag in tags:
        tag = re.sub(r"\s+", " ", str(tag)).strip().lower()[:50]
        if tag and tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise InvalidArticle(_("At most %(max)d tags.") % {"max": MAX_TAGS})
    article.tags = cleaned
    article.tags_text = " ".join(cleaned)
    article.html = render_markdown(article.body)
    article.text = html_to_text(article.html)
    if article.translation_of_id and article.translation_of_id == article.pk:
        raise InvalidArticle(_("An article cannot be a translation of itself."))


def _unique_slug(article: Article) -> str:
    base = slugify(article.title)[:180] or "article"
    if article.language and article.language != "en":
        base = f"{base}-{article.language}" if not base.endswith(f"-{article.language}") else base
    slug, n = base, 2
    while Article.objects.filter(slug=slug).exclude(pk=article.pk).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _content_changed(article: Article) -> bool:
    latest = article.revisions.order_by("-number").first()
    if latest is None:
        return True
    return (latest.title, latest.body, latest.status, latest.visibility) != (article.title, article.body, article.status, article.visibility)
