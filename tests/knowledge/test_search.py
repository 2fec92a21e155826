"""Search behaviour that must hold on PostgreSQL and on the embedded SQLite default alike.

The main run executes these on PostgreSQL; `test_sqlite.py` runs this same file again on SQLite (FTS5).
"""

from __future__ import annotations

import pytest
from django.db import connection

from knowledge.search import search_articles
from tests.knowledge.factories import ArticleFactory

pytestmark = pytest.mark.django_db


FILLER = ["Shipping times", "Gift cards", "Store opening hours", "Returns by post", "Mobile app", "Loyalty points",
          "Delivery tracking", "Product warranty", "Size guide", "Newsletter"]


@pytest.fixture
def library():
    # A realistic corpus: most articles are about something else (ranking statistics depend on it).
    for title in FILLER:
        ArticleFactory(title=title, body=f"All about {title.lower()} in our shop.")
    return {
        "title": ArticleFactory(title="Reset your password", body="Open the sign-in page and follow the link we email you.", tags=["account"]),
        "body": ArticleFactory(title="Security overview", body="We store every password hashed. To reset it, see the sign-in help."),
        "invoice": ArticleFactory(title="Download invoices", body="Invoices are PDF files under Billing.", tags=["billing"]),
        "internal": ArticleFactory(title="Password override tool", body="Agents reset a password with the admin console.", visibility="internal"),
        "draft": ArticleFactory(title="Password draft notes", body="Unfinished password text.", status="draft"),
        "finnish": ArticleFactory(title="Salasanan vaihtaminen", body="Avaa kirjautumissivu ja valitse unohtuiko salasana.", language="fi"),
    }


def titles(result):
    return [hit.article.title for hit in result.hits]


def test_a_title_match_ranks_above_a_body_match(library):
    result = search_articles("password reset")
    assert titles(result) == ["Reset your password", "Security overview"]
    assert result.total == 2
    assert result.hits[0].rank > result.hits[1].rank


def test_the_last_word_matches_as_a_prefix_while_typing(library):
    assert titles(search_articles("invoi"))[:1] == ["Download invoices"]
    assert "Reset your password" in titles(search_articles("reset passw"))


def test_matches_are_highlighted_and_escaped(library):
    ArticleFactory(title="Cookies <b>& you</b>", body="A cookie is a small <script>x</script> file.")
    hit = search_articles("cookie")
    assert hit.hits[0].title_html.startswith("<mark>Cookies</mark> &lt;b&gt;&amp;")
    assert "<mark>" in hit.hits[0].snippet_html
    assert "<script>" not in hit.hits[0].snippet_html
    top = search_articles("invoices").hits[0]
    assert "<mark>Invoices</mark>" in top.snippet_html


def test_internal_articles_and_drafts_never_reach_the_public(library):
    public = titles(search_articles("password", audience="public"))
    assert "Password override tool" not in public
    assert "Password draft notes" not in public
    agent = titles(search_articles("password", audience="agent"))
    assert "Password override tool" in agent
    assert "Password draft notes" not in agent


def test_a_typo_gets_a_suggestion_that_finds_something(library):
    result = search_articles("pasword")
    assert result.hits == []
    assert result.suggestion == "password"
    assert search_articles("invoces").suggestion == "invoices"


def test_no_suggestion_leaks_words_of_internal_articles():
    ArticleFactory(title="Zanzibar escalation matrix", body="Only for agents.", visibility="internal")
    assert search_articles("zanzibr", audience="public").suggestion == ""
    assert search_articles("zanzibr", audience="agent").suggestion == "zanzibar"


def test_any_word_matching_ranks_articles_for_a_customer_message(library):
    message = "Hi! I forgot my password and cannot sign in, how do I reset it?"
    assert search_articles(message).hits == []  # not every word is in one article
    assert titles(search_articles(message, match="any"))[0] == "Reset your password"


def test_language_filter_and_stemming(library):
    assert titles(search_articles("salasana", language="fi")) == ["Salasanan vaihtaminen"]
    assert titles(search_articles("password", language="fi")) == []
    assert "Download invoices" in titles(search_articles("invoice"))  # singular finds the plural


def test_edits_are_searchable_immediately(library):
    from knowledge.services import save_article

    save_article(author=None, article=library["invoice"], title="Download receipts", body="Receipts are PDF files.")
    assert titles(search_articles("receipts")) == ["Download receipts"]
    assert titles(search_articles("invoices")) == []
    library["title"].delete()
    assert "Reset your password" not in titles(search_articles("password"))


def test_query_syntax_characters_are_just_text(library):
    for q in ["password & | !", "'reset' :*", '"unbalanced', "-- ; DROP TABLE", "*", "NEAR(", "title:password"]:
        search_articles(q)  # no error
    assert titles(search_articles("password!!!"))[:1] == ["Reset your password"]
    assert search_articles("   ").hits == []


def test_pagination_counts_every_match():
    for n in range(7):
        ArticleFactory(title=f"Printer setup {n}", body="Connect the printer.")
    first = search_articles("printer", limit=5)
    second = search_articles("printer", limit=5, offset=5)
    assert first.total == 7 and len(first.hits) == 5 and len(second.hits) == 2
    assert not {h.article.pk for h in first.hits} & {h.article.pk for h in second.hits}


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite index maintenance")
def test_sqlite_index_is_rebuilt_when_its_triggers_are_gone(library):
    from knowledge.search import ensure_sqlite_index

    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER knowledge_article_fts_ai")
    ArticleFactory(title="Parcel lockers", body="Parcels arrive in three days.")
    ensure_sqlite_index()
    assert titles(search_articles("lockers")) == ["Parcel lockers"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="bounded ranking is PostgreSQL's")
def test_a_very_broad_query_ranks_a_bounded_sample_and_says_so(library, monkeypatch):
    from knowledge import search

    for n in range(6):
        ArticleFactory(title=f"Printer model {n}", body="Printer manual.")
    for n in range(6):
        ArticleFactory(title=f"Scanner {n}", body="Works next to any printer.")
    monkeypatch.setattr(search, "TITLE_CANDIDATES", 4)
    monkeypatch.setattr(search, "BODY_CANDIDATES", 3)
    result = search_articles("printer", limit=20)
    assert result.capped
    assert 4 <= result.total <= 7 and len(result.hits) == result.total
    assert titles(result)[0].startswith("Printer model")  # title matches still come first
    monkeypatch.setattr(search, "TITLE_CANDIDATES", 300)
    monkeypatch.setattr(search, "BODY_CANDIDATES", 150)
    exact = search_articles("printer", limit=20)
    assert not exact.capped and exact.total == 12


def test_snippets_show_the_passage_with_the_query_words():
    from knowledge.search import make_snippet

    text = ("Intro words. " * 40) + "To download invoices open Billing and pick the month. " + ("Outro words. " * 40)
    snippet = make_snippet(text, ["invoice", "month"])
    assert "<mark>invoices</mark>" in snippet and "<mark>month</mark>" in snippet
    assert snippet.startswith("… ") and snippet.endswith(" …")
    assert make_snippet("A <b>tag</b> & more", ["tag"]) == "A &lt;b&gt;<mark>tag</mark>&lt;/b&gt; &amp; more"
