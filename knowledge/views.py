"""The public knowledge-base portal and the widget's deflection endpoints. No login; internal articles and
drafts do not exist here (404)."""

from __future__ import annotations

import hashlib
import json
import secrets

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from tickets import counters
from tickets.login_limit import client_ip

from . import selectors, services
from .models import Article
from .search import search_articles

PAGE_SIZE = 20
VOTER_COOKIE = "kb_voter"
SUGGEST_LIMIT = (60, 60)  # requests per IP per seconds
DEFLECT_LIMIT = (30, 60)


def home(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()[:200]
    language = _language(request)
    if q:
        return _search_page(request, q, language)
    categories = (
        selectors.portal_categories()
        .annotate(n=Count("articles", filter=Q(articles__in=selectors.public_articles())))
        .filter(n__gt=0)
    )
    context = {
        "categories": categories,
        "popular": selectors.public_articles(language=language).order_by("-views", "-id")[:8],
        "recent": selectors.public_articles(language=language).order_by("-published_at", "-id")[:8],
        "language": language,
    }
    return _cached(render(request, "knowledge/home.html", context))


def category(request: HttpRequest, slug: str) -> HttpResponse:
    cat = get_object_or_404(selectors.portal_categories(), slug=slug)
    language = _language(request)
    articles = selectors.public_articles(language=language).filter(category=cat).order_by("-views", "title")
    page = Paginator(articles, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"category": cat, "page": page, "children": selectors.portal_categories().filter(parent=cat), "language": language}
    return _cached(render(request, "knowledge/category.html", context))


def article(request: HttpRequest, slug: str) -> HttpResponse:
    item = selectors.public_articles().select_related("category", "translation_of").filter(slug=slug).first()
    if item is None:
        raise Http404
    services.record_view(article=item)
    context = {
        "article": item,
        "translations": selectors.public_translations(item),
        "related": selectors.related_articles(item),
        "voted": request.GET.get("voted", ""),
    }
    return _cached(render(request, "knowledge/article.html", context), seconds=30)


# Anonymous and without a session: a forged cross-site vote can do nothing a visitor could not do directly
# (one vote per voter cookie, rate limited), so CSRF protection would only make the pages uncacheable.
@csrf_exempt
@require_POST
def vote(request: HttpRequest, slug: str) -> HttpResponse:
    item = selectors.public_articles().filter(slug=slug).first()
    if item is None:
        raise Http404
    if _limited(request, "vote", (20, 60)):
        return HttpResponse(status=429)
    helpful = request.POST.get("helpful")
    if helpful not in ("yes", "no"):
        return HttpResponse("helpful must be yes or no", status=400, content_type="text/plain")
    voter = request.COOKIES.get(VOTER_COOKIE, "")
    if not (voter.isalnum() and len(voter) == 32):
        voter = secrets.token_hex(16)
    services.vote(article=item, voter="c:" + voter, helpful=helpful == "yes")
    response = redirect(item.get_absolute_url() + f"?voted={helpful}#vote")
    response.set_cookie(VOTER_COOKIE, voter, max_age=365 * 24 * 3600, httponly=True, samesite="Lax", secure=request.is_secure())
    return response


def sitemap(request: HttpRequest) -> HttpResponse:
    articles = selectors.public_articles().order_by("id").values_list("slug", "updated_at")[:50000]
    base = request.build_absolute_uri("/")[:-1]
    context = {"base": base, "articles": articles, "categories": selectors.portal_categories().values_list("slug", flat=True)}
    return _cached(render(request, "knowledge/sitemap.xml", context, content_type="application/xml"), seconds=600)


@require_http_methods(["GET", "OPTIONS"])
def suggest(request: HttpRequest) -> HttpResponse:
    """Widget deflection: public articles for the visitor's first words. JSON, CORS-open (public data only,
    no credentials), rate limited per IP."""
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204))
    if _limited(request, "suggest", SUGGEST_LIMIT):
        return _cors(JsonResponse({"error": "rate_limited"}, status=429))
    q = request.GET.get("q", "")[:500]
    language = request.GET.get("lang", "")[:8].split("-")[0].lower()
    language = language if language in selectors.LANGUAGE_CODES else ""
    result = search_articles(q, audience="public", language=language, match="any", limit=5, suggest=False)
    if not result.hits and language:
        result = search_articles(q, audience="public", match="any", limit=5, suggest=False)
    results = [
        {
            "id": hit.article.pk,
            "title": hit.article.title,
            "url": request.build_absolute_uri(hit.article.get_absolute_url()),
            "snippet": hit.snippet_html,
        }
        for hit in result.hits
    ]
    return _cors(JsonResponse({"results": results}))


@csrf_exempt  # cross-origin from the widget, no cookies used: nothing a forged request could abuse
@require_http_methods(["POST", "OPTIONS"])
def deflected(request: HttpRequest) -> HttpResponse:
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204))
    if _limited(request, "deflected", DEFLECT_LIMIT):
        return _cors(JsonResponse({"error": "rate_limited"}, status=429))
    try:
        payload = json.loads(request.body or b"{}")
        article_id = int(payload.get("article"))
        widget_key = str(payload.get("widget") or "")
        visitor = str(payload.get("visitor") or "")
    except (ValueError, TypeError, AttributeError):
        return _cors(JsonResponse({"error": "invalid", "message": "Expected JSON {\"article\": id, \"widget\": key}."}, status=400))
    try:
        row = services.record_deflection(article_id=article_id, widget_key=widget_key, visitor=visitor)
    except Article.DoesNotExist:
        return _cors(JsonResponse({"error": "not_found", "message": "No such public article."}, status=404))
    except ValueError as exc:
        return _cors(JsonResponse({"error": "invalid", "message": str(exc)}, status=400))
    return _cors(JsonResponse({"id": row.pk}, status=201))


def _search_page(request: HttpRequest, q: str, language: str) -> HttpResponse:
    page_number = max(1, int(request.GET.get("page", "1")) if request.GET.get("page", "1").isdigit() else 1)
    result = search_articles(q, audience="public", language=language, limit=PAGE_SIZE, offset=(page_number - 1) * PAGE_SIZE)
    if not result.hits and language:
        # Nothing in the reader's language: look in every language before giving up.
        result = search_articles(q, audience="public", limit=PAGE_SIZE, offset=(page_number - 1) * PAGE_SIZE)
    context = {
        "q": q,
        "result": result,
        "page_number": page_number,
        "has_next": page_number * PAGE_SIZE < result.total,
        "language": language,
    }
    response = render(request, "knowledge/search.html", context)
    response["X-Robots-Tag"] = "noindex"
    return _cached(response, seconds=30)


def _language(request: HttpRequest) -> str:
    requested = request.GET.get("lang", "")
    if requested in selectors.LANGUAGE_CODES:
        return requested
    current = (get_language() or "en").split("-")[0]
    return current if current in selectors.LANGUAGE_CODES and selectors.has_language(current) else ""


def _cached(response: HttpResponse, seconds: int = 60) -> HttpResponse:
    response.setdefault("Cache-Control", f"public, max-age={seconds}")
    return response


def _cors(response: HttpResponse) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = "Content-Type"
    response["Access-Control-Max-Age"] = "600"
    response["Cache-Control"] = "no-store"
    return response


def _limited(request: HttpRequest, name: str, limit: tuple[int, int]) -> bool:
    count, window = limit
    # Hashed: visitors' addresses are not written to Redis in clear.
    key = f"kb-rate:{name}:{hashlib.sha256(client_ip(request).encode()).hexdigest()[:24]}"
    return counters.hit(key, window=window) > count
