"""The knowledge base inside the agent workspace: search and read every published article, internal ones
included (supervisors and admins also see drafts); editing happens in the admin or through the API."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from tickets.views import agent_required

from . import selectors
from .search import search_articles

PAGE_SIZE = 20


@agent_required
def agent_home(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:200]
    result = search_articles(q, audience="agent", limit=PAGE_SIZE) if q else None
    articles = [] if q else list(selectors.articles_for_agent(agent=request.user).order_by("-updated_at", "-id")[:50])
    return render(
        request,
        "knowledge/agent_home.html",
        {"q": q, "result": result, "articles": articles, "can_edit": selectors.can_edit(request.user)},
    )


@agent_required
def agent_article(request: HttpRequest, article_id: int) -> HttpResponse:
    article = selectors.articles_for_agent(agent=request.user).filter(pk=article_id).first()
    if article is None:
        raise Http404
    revisions = list(article.revisions.select_related("author")[:20])
    return render(
        request,
        "knowledge/agent_article.html",
        {"article": article, "revisions": revisions, "can_edit": selectors.can_edit(request.user)},
    )
