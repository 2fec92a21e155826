"""The public help center and the widget's deflection endpoints, as a customer's browser or widget uses them.
Also runs on SQLite (see test_sqlite.py)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from knowledge.models import Article, Deflection
from tests.factories import TeamFactory
from tests.knowledge.factories import ArticleFactory, CategoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    _clear_limits()
    yield


def make_widget(key: str, team=None) -> None:
    """A chat widget with this public key, when the chat app has widgets (deflections are checked against them)."""
    from django.apps import apps

    try:
        widget_model = apps.get_model("chat", "Widget")
    except LookupError:
        return
    widget_model.objects.create(public_key=key, name=key, team=team or TeamFactory())


def _clear_limits():
    import redis
    from django.conf import settings

    if not settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        return
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(f"{settings.CACHES['default']['KEY_PREFIX']}:*kb-rate*"):
        client.delete(key)
    client.close()


@pytest.fixture
def kb():
    topic = CategoryFactory(name="Accounts", slug="accounts", description="Sign-in and profile help")
    secret_topic = CategoryFactory(name="Agent playbooks", slug="playbooks", visibility="internal")
    return {
        "topic": topic,
        "public": ArticleFactory(title="Reset your password", body="## Steps\n\nClick **Forgot password**.", category=topic, tags=["login"]),
        "internal": ArticleFactory(title="Password override", body="Internal password procedure.", visibility="internal", category=secret_topic),
        "draft": ArticleFactory(title="Password draft", body="Unpublished password text.", status="draft", category=topic),
    }


def test_home_lists_public_articles_and_topics_only(client: Client, kb):
    page = client.get("/kb/").content.decode()
    assert "Reset your password" in page and "Accounts" in page
    assert "Password override" not in page and "Agent playbooks" not in page and "Password draft" not in page


def test_article_page_renders_sanitized_markdown_and_is_indexable(client: Client, kb):
    ArticleFactory(title="Tricky", slug="tricky", body='Hello <script>alert(1)</script><a href="javascript:x()">x</a> **bold**')
    response = client.get("/kb/tricky/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<strong>bold</strong>" in body and "<script>alert" not in body and "javascript:" not in body
    assert '<link rel="canonical"' in body and '<meta name="description"' in body
    assert "public" in response["Cache-Control"]
    assert "Set-Cookie" not in response  # cacheable for everyone
    page = client.get(kb["public"].get_absolute_url()).content.decode()
    assert "<h2>Steps</h2>" in page


def test_internal_and_draft_articles_are_404_on_the_portal_even_for_agents(client: Client, kb, agent):
    client.force_login(agent)
    assert client.get(kb["internal"].get_absolute_url()).status_code == 404
    assert client.get(kb["draft"].get_absolute_url()).status_code == 404
    assert client.get("/kb/c/playbooks/").status_code == 404
    assert client.post(f"/kb/{kb['internal'].slug}/vote/", {"helpful": "yes"}).status_code == 404
    sitemap = client.get("/kb/sitemap.xml").content.decode()
    assert kb["public"].slug in sitemap and kb["internal"].slug not in sitemap and kb["draft"].slug not in sitemap


def test_portal_search_highlights_and_suggests(client: Client, kb):
    page = client.get("/kb/", {"q": "password"}).content.decode()
    assert "<mark>password</mark>" in page.lower()
    assert "Password override" not in page and "Password draft" not in page
    typo = client.get("/kb/", {"q": "pasword"}).content.decode()
    assert "Did you mean" in typo and 'id="kb-suggestion">password</a>' in typo


def test_category_landing_page(client: Client, kb):
    page = client.get("/kb/c/accounts/").content.decode()
    assert "Sign-in and profile help" in page and "Reset your password" in page and "Password draft" not in page


def test_reading_counts_a_view(client: Client, kb):
    client.get(kb["public"].get_absolute_url())
    client.get(kb["public"].get_absolute_url())
    assert Article.objects.get(pk=kb["public"].pk).views == 2


def test_votes_count_once_per_visitor_and_can_change(kb):
    visitor, other = Client(), Client()
    url = f"/kb/{kb['public'].slug}/vote/"
    response = visitor.post(url, {"helpful": "yes"})
    assert response.status_code == 302 and "voted=yes" in response["Location"]
    visitor.post(url, {"helpful": "yes"})
    other.post(url, {"helpful": "yes"})
    article = Article.objects.get(pk=kb["public"].pk)
    assert (article.helpful_yes, article.helpful_no) == (2, 0)
    visitor.post(url, {"helpful": "no"})
    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no) == (1, 1)
    assert visitor.post(url, {"helpful": "maybe"}).status_code == 400
    assert "Thanks for your feedback" in visitor.get(response["Location"]).content.decode()


def test_widget_suggest_returns_public_articles_with_cors(client: Client, kb):
    response = client.get("/kb/suggest/", {"q": "I forgot my password", "lang": "en-US"}, HTTP_ORIGIN="https://shop.example.net")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    results = response.json()["results"]
    assert [r["title"] for r in results] == ["Reset your password"]
    assert set(results[0]) == {"id", "title", "url", "snippet"}
    assert results[0]["url"].endswith("/kb/reset-your-password/")
    preflight = client.options("/kb/suggest/", HTTP_ORIGIN="https://shop.example.net", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET")
    assert preflight.status_code == 204 and preflight["Access-Control-Allow-Origin"] == "*"
    assert client.get("/kb/suggest/", {"q": "override procedure"}).json() == {"results": []}


def test_widget_suggest_is_rate_limited(client: Client, kb):
    statuses = [client.get("/kb/suggest/", {"q": "password"}).status_code for _ in range(65)]
    assert statuses[0] == 200 and statuses[-1] == 429


def test_deflection_is_recorded_once_per_visitor(client: Client, kb):
    make_widget("demo")
    payload = {"article": kb["public"].pk, "widget": "demo", "visitor": "v-123"}
    first = client.post("/kb/deflected/", json.dumps(payload), content_type="application/json")
    again = client.post("/kb/deflected/", json.dumps(payload), content_type="application/json")
    assert first.status_code == 201 and again.status_code == 201 and first.json() == again.json()
    assert first["Access-Control-Allow-Origin"] == "*"
    row = Deflection.objects.get()
    assert (row.article_id, row.widget_key) == (kb["public"].pk, "demo")
    client.post("/kb/deflected/", json.dumps({"article": kb["public"].pk, "widget": "demo"}), content_type="application/json")
    assert Deflection.objects.count() == 2


def test_deflection_rejects_internal_articles_and_bad_input(client: Client, kb):
    make_widget("demo")
    internal = client.post("/kb/deflected/", json.dumps({"article": kb["internal"].pk, "widget": "demo"}), content_type="application/json")
    assert internal.status_code == 404
    assert client.post("/kb/deflected/", "not json", content_type="application/json").status_code == 400
    assert client.post("/kb/deflected/", json.dumps({"article": kb["public"].pk}), content_type="application/json").status_code == 400
    assert not Deflection.objects.exists()


def test_deflection_records_the_widgets_team(client: Client, kb):
    from django.apps import apps

    if not apps.is_installed("chat") or "Widget" not in {m.__name__ for m in apps.get_app_config("chat").get_models()}:
        pytest.skip("the chat app has no Widget model")
    team = TeamFactory()
    make_widget("shop-widget", team)
    client.post("/kb/deflected/", json.dumps({"article": kb["public"].pk, "widget": "shop-widget"}), content_type="application/json")
    assert Deflection.objects.get().team == team
    unknown = client.post("/kb/deflected/", json.dumps({"article": kb["public"].pk, "widget": "nope"}), content_type="application/json")
    assert unknown.status_code == 400


def test_agents_read_internal_articles_in_the_workspace(client: Client, kb, agent):
    assert client.get("/agent/kb/").status_code == 302  # login first
    client.force_login(agent)
    listing = client.get("/agent/kb/").content.decode()
    assert "Password override" in listing and "Password draft" not in listing
    found = client.get("/agent/kb/", {"q": "procedure"}).content.decode()
    assert "Password override" in found and "Internal" in found
    page = client.get(f"/agent/kb/{kb['internal'].pk}/").content.decode()
    assert "Internal password procedure." in page and "r1" in page
    assert client.get(f"/agent/kb/{kb['draft'].pk}/").status_code == 404
