"""`/api/v1/articles/` per CONTRACT: agents read, supervisors and admins write; `?q=` ranks; revisions; events."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from knowledge.models import Article, Revision
from tests.factories import AgentFactory, TeamFactory
from tests.knowledge.factories import ArticleFactory
from tickets import events

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    team = TeamFactory()
    return {
        "agent": AgentFactory(teams=[team]),
        "supervisor": AgentFactory(teams=[team], profile={"role": "supervisor"}),
    }


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_agents_read_public_and_internal_articles_but_not_drafts(people):
    ArticleFactory(title="Public one")
    ArticleFactory(title="Internal one", visibility="internal")
    ArticleFactory(title="Draft one", status="draft")
    response = api(people["agent"]).get("/api/v1/articles/")
    assert response.status_code == 200
    assert {a["title"] for a in response.json()["results"]} == {"Public one", "Internal one"}
    item = next(a for a in response.json()["results"] if a["title"] == "Internal one")
    assert set(item) >= {"id", "title", "slug", "body", "html", "category", "tags", "visibility", "status", "language", "url"}
    assert item["url"] == ""  # internal articles have no public address
    supervisor_view = api(people["supervisor"]).get("/api/v1/articles/").json()["results"]
    assert "Draft one" in {a["title"] for a in supervisor_view}


def test_customers_and_anonymous_callers_get_nothing(people):
    ArticleFactory(title="Internal one", visibility="internal")
    assert api().get("/api/v1/articles/").status_code in (401, 403)
    assert api().get("/api/v1/articles/?q=internal").status_code in (401, 403)


def test_search_ranks_and_suggests(people):
    ArticleFactory(title="Reset your password", body="Use the link.")
    ArticleFactory(title="Account security", body="Never share your password.")
    ArticleFactory(title="Agents: password override", body="Internal steps.", visibility="internal")
    client = api(people["agent"])
    data = client.get("/api/v1/articles/", {"q": "password"}).json()
    assert data["count"] == 3
    assert data["results"][0]["title"] in {"Reset your password", "Agents: password override"}
    assert data["results"][-1]["title"] == "Account security"
    assert data["results"][0]["score"] >= data["results"][-1]["score"]
    assert "<mark>" in data["results"][0]["title_html"]
    empty = client.get("/api/v1/articles/", {"q": "passwrod"}).json()
    assert empty["count"] == 0 and empty["results"] == [] and empty["suggestion"] == "password"
    nothing = client.get("/api/v1/articles/", {"q": "xylophone"}).json()
    assert nothing["suggestion"] is None


def test_only_supervisors_and_admins_create_and_edit(people):
    body = {"title": "New article", "body": "Hello **world** <script>x()</script>", "visibility": "public", "status": "draft"}
    assert api(people["agent"]).post("/api/v1/articles/", body, format="json").status_code == 403
    response = api(people["supervisor"]).post("/api/v1/articles/", {**body, "tags": ["Greeting", "greeting"]}, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["slug"] == "new-article"
    assert "<strong>world</strong>" in created["html"] and "<script>" not in created["html"]
    assert created["tags"] == ["greeting"]
    article_id = created["id"]
    assert api(people["agent"]).get(f"/api/v1/articles/{article_id}/").status_code == 404  # a draft
    edited = api(people["supervisor"]).patch(f"/api/v1/articles/{article_id}/", {"title": "Renamed", "status": "published"}, format="json")
    assert edited.status_code == 200 and edited.json()["title"] == "Renamed"
    assert edited.json()["url"].endswith("/kb/new-article/")
    assert api(people["agent"]).patch(f"/api/v1/articles/{article_id}/", {"title": "x"}, format="json").status_code == 403


def test_bad_input_is_a_clear_400(people):
    client = api(people["supervisor"])
    assert client.post("/api/v1/articles/", {"title": "", "body": "x"}, format="json").status_code == 400
    assert client.post("/api/v1/articles/", {"title": "A", "visibility": "secret"}, format="json").status_code == 400
    client.post("/api/v1/articles/", {"title": "Same", "slug": "same"}, format="json")
    duplicate = client.post("/api/v1/articles/", {"title": "Same again", "slug": "same"}, format="json")
    assert duplicate.status_code == 400 and "slug" in duplicate.content.decode()
    assert Article.objects.count() == 1


def test_every_edit_keeps_a_revision_with_its_author_and_can_be_restored(people):
    supervisor, other = people["supervisor"], AgentFactory(profile={"role": "admin"})
    client = api(supervisor)
    article_id = client.post("/api/v1/articles/", {"title": "Shipping", "body": "Two days."}, format="json").json()["id"]
    api(other).patch(f"/api/v1/articles/{article_id}/", {"body": "Three days."}, format="json")
    api(other).patch(f"/api/v1/articles/{article_id}/", {"body": "Three days."}, format="json")  # retry: no new revision
    revisions = client.get(f"/api/v1/articles/{article_id}/revisions/").json()
    assert [(r["number"], r["body"], r["author"]["id"]) for r in revisions] == [(2, "Three days.", other.pk), (1, "Two days.", supervisor.pk)]
    restored = client.post(f"/api/v1/articles/{article_id}/revisions/1/restore/").json()
    assert restored["body"] == "Two days."
    assert Revision.objects.filter(article_id=article_id).count() == 3


def test_publishing_announces_article_published_once_after_commit(people, django_capture_on_commit_callbacks):
    seen = []

    def listener(kind, data):
        seen.append(data)

    events.subscribe("article.published", listener)
    try:
        client = api(people["supervisor"])
        with django_capture_on_commit_callbacks(execute=True):
            article_id = client.post("/api/v1/articles/", {"title": "Draft first"}, format="json").json()["id"]
        assert seen == []
        with django_capture_on_commit_callbacks(execute=True):
            client.patch(f"/api/v1/articles/{article_id}/", {"status": "published"}, format="json")
        with django_capture_on_commit_callbacks(execute=True):
            client.patch(f"/api/v1/articles/{article_id}/", {"body": "Edited later"}, format="json")
        assert seen == [{"article_id": article_id, "author_id": people["supervisor"].pk}]
    finally:
        events.unsubscribe("article.published", listener)


def test_agents_vote_once_each(people):
    article = ArticleFactory(title="Useful")
    client = api(people["agent"])
    client.post(f"/api/v1/articles/{article.pk}/vote/", {"helpful": True}, format="json")
    data = client.post(f"/api/v1/articles/{article.pk}/vote/", {"helpful": False}, format="json").json()
    assert (data["helpful_yes"], data["helpful_no"]) == (0, 1)
    assert client.post(f"/api/v1/articles/{article.pk}/vote/", {"helpful": "yes"}, format="json").status_code == 400


def test_per_language_versions(people):
    original = ArticleFactory(title="Download invoices")
    client = api(people["supervisor"])
    fi = client.post("/api/v1/articles/", {"title": "Laskujen lataaminen", "language": "fi", "translation_of": original.pk, "status": "published"}, format="json")
    assert fi.status_code == 201 and fi.json()["slug"] == "laskujen-lataaminen-fi"
    second = client.post("/api/v1/articles/", {"title": "Toinen", "language": "fi", "translation_of": original.pk}, format="json")
    assert second.status_code == 400
    assert [a["title"] for a in client.get("/api/v1/articles/", {"language": "fi"}).json()["results"]] == ["Laskujen lataaminen"]


def test_listing_and_searching_have_no_n_plus_one(people, django_assert_max_num_queries):
    from tests.knowledge.factories import CategoryFactory

    topic = CategoryFactory()
    for n in range(15):
        ArticleFactory(title=f"Printer guide {n}", body="Printer setup steps.", category=topic, author=people["supervisor"])
    client = api(people["agent"])
    with django_assert_max_num_queries(8):
        listed = client.get("/api/v1/articles/?page_size=50")
    assert len(listed.json()["results"]) == 15
    with django_assert_max_num_queries(8):
        found = client.get("/api/v1/articles/", {"q": "printer", "page_size": 50})
    assert found.json()["count"] == 15


def test_editors_write_in_the_admin_and_every_save_is_a_revision(client):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("editor", "editor@example.com", "pw")
    client.force_login(admin)
    form = {"title": "Opening hours", "slug": "", "summary": "", "body": "We are open **9–17**.", "tags": '["hours"]',
            "visibility": "public", "status": "published", "language": "en", "category": "", "translation_of": "",
            "revisions-TOTAL_FORMS": "0", "revisions-INITIAL_FORMS": "0"}  # fmt: skip
    response = client.post("/admin/knowledge/article/add/", form)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response.status_code
    article = Article.objects.get(slug="opening-hours")
    assert "<strong>9–17</strong>" in article.html and article.tags == ["hours"]
    form.update({"slug": "opening-hours", "body": "We are open 8–16.", "revisions-TOTAL_FORMS": "1", "revisions-INITIAL_FORMS": "1",
                 "revisions-0-id": str(article.revisions.get().pk), "revisions-0-article": str(article.pk)})
    assert client.post(f"/admin/knowledge/article/{article.pk}/change/", form).status_code == 302
    assert list(article.revisions.values_list("number", "author_id")) == [(2, admin.pk), (1, admin.pk)]
