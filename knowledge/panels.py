"""The knowledge-base panel beside a conversation: articles suggested from the customer's latest message."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from tickets.models import Direction, Ticket

from .search import search_articles


def ticket_panel_context(request: HttpRequest, ticket: Ticket) -> dict:
    latest = ticket.messages.filter(direction=Direction.INBOUND).order_by("-created_at", "-id").values_list("text", flat=True).first()
    hits = search_articles(latest or ticket.subject, audience="agent", match="any", limit=5).hits if (latest or ticket.subject) else []
    return {
        "suggestions": [hit_dict(request, hit) for hit in hits],
        "api_url": reverse("kb-article-list"),
    }


def hit_dict(request: HttpRequest, hit) -> dict:
    article = hit.article
    return {
        "id": article.pk,
        "title": article.title,
        "title_html": hit.title_html,
        "snippet_html": hit.snippet_html,
        "url": request.build_absolute_uri(article.get_absolute_url()) if article.is_public else "",
        "public": article.is_public,
        "excerpt": excerpt(article),
    }


def excerpt(article, limit: int = 600) -> str:
    """A snippet an agent can paste into a reply: the summary, else the first paragraphs of the text."""
    if article.summary:
        return article.summary
    text = article.text.strip()
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + "…"
