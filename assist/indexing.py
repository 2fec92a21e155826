"""Keeping the suggestion index current, one source row at a time.

- canned responses (chat app): on save/delete;
- knowledge-base articles (knowledge app): on `article.published` and on save/delete; only published, public
  or internal articles are indexed (agents may paste internal ones, they link only public ones);
- past replies: when a ticket is resolved or closed, or its survey is answered (`survey.answered`), the last agent reply is indexed
  against the customer's question if the survey rated it well.

Other apps are read lazily (`apps.get_model`): nothing breaks while they have not landed.
"""

from __future__ import annotations

import logging

from django.apps import apps
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from . import text as textlib
from .models import AssistSettings, IndexDoc, IndexState, Source

log = logging.getLogger(__name__)

CLOSED_STATUSES = {"resolved", "closed"}
MAX_MATCH_CHARS = 4000


def optional_model(label: str):
    """`app_label.Model` or None while that app has not landed."""
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


# ---------------------------------------------------------------- per source


def index_canned(canned_id: int) -> IndexDoc | None:
    CannedResponse = optional_model("chat.CannedResponse")
    canned = CannedResponse.objects.filter(pk=canned_id).first() if CannedResponse else None
    if canned is None or not (canned.body or "").strip():
        return remove_doc(Source.CANNED, canned_id)
    title = canned.title or canned.shortcut
    match = f"{title}\n{title}\n{canned.shortcut}\n{canned.body}"
    return upsert_doc(
        Source.CANNED, canned.pk, title=title, match=match, answer=canned.body,
        team_id=getattr(canned, "team_id", None), owner_id=getattr(canned, "owner_id", None),
    )  # fmt: skip


def index_article(article_id: int) -> IndexDoc | None:
    Article = optional_model("knowledge.Article")
    article = Article.objects.filter(pk=article_id).first() if Article else None
    if article is None or getattr(article, "status", "published") != "published":
        return remove_doc(Source.ARTICLE, article_id)
    body = _article_text(article)
    url = f"/kb/{article.slug}/" if getattr(article, "visibility", "public") == "public" else ""
    answer = textlib.snippet(body, 300) + (f"\n\n{url}" if url else "")
    tags = " ".join(str(t) for t in _tag_names(article))
    return upsert_doc(
        Source.ARTICLE, article.pk, title=article.title, match=f"{article.title}\n{article.title}\n{tags}\n{body}",
        answer=answer, url=url, language=getattr(article, "language", "") or None,
    )  # fmt: skip


def index_ticket(ticket_id: int) -> IndexDoc | None:
    """Index the reply that closed a ticket, if it was well rated; otherwise make sure it is not indexed."""
    from tickets.models import Message, Ticket

    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if ticket is None or ticket.status not in CLOSED_STATUSES or ticket.merged_into_id:
        return remove_doc(Source.REPLY, ticket_id)
    rating = survey_rating(ticket_id)
    if rating is None or rating < AssistSettings.current().good_rating:
        return remove_doc(Source.REPLY, ticket_id)
    messages = list(
        Message.objects.filter(ticket_id=ticket_id, direction__in=["inbound", "outbound"]).order_by("created_at", "id").values("direction", "is_bot", "author_agent_id", "text")
    )
    answer = next((m["text"] for m in reversed(messages) if m["direction"] == "outbound" and m["author_agent_id"] and not m["is_bot"]), "")
    question = "\n".join(m["text"] for m in messages if m["direction"] == "inbound")
    if not answer.strip() or not question.strip():
        return remove_doc(Source.REPLY, ticket_id)
    return upsert_doc(
        # The question is what a new customer will resemble; the answer's words help too (same topic).
        Source.REPLY, ticket_id, title=ticket.subject or f"#{ticket_id}", match=f"{ticket.subject}\n{question}\n{answer}",
        answer=answer, team_id=ticket.team_id,
    )  # fmt: skip


def survey_rating(ticket_id: int) -> int | None:
    Survey = optional_model("feedback.Survey")
    if Survey is None:
        return None
    return (
        Survey.objects.filter(ticket_id=ticket_id, rating__isnull=False)
        .order_by("-answered_at", "-pk")
        .values_list("rating", flat=True)
        .first()
    )


def rebuild(stdout=None) -> dict[str, int]:
    """Re-index everything from the sources (the `assist_reindex` command)."""
    from tickets.models import Ticket

    counts = {"canned": 0, "article": 0, "reply": 0}
    with transaction.atomic():
        IndexDoc.objects.all().delete()
        CannedResponse = optional_model("chat.CannedResponse")
        for pk in CannedResponse.objects.values_list("pk", flat=True) if CannedResponse else ():
            counts["canned"] += index_canned(pk) is not None
        Article = optional_model("knowledge.Article")
        for pk in Article.objects.values_list("pk", flat=True) if Article else ():
            counts["article"] += index_article(pk) is not None
        for pk in Ticket.objects.filter(status__in=CLOSED_STATUSES).values_list("pk", flat=True).iterator():
            counts["reply"] += index_ticket(pk) is not None
    if stdout is not None:
        stdout.write(f"indexed {counts['canned']} canned responses, {counts['article']} articles, {counts['reply']} past replies\n")
    return counts


# ---------------------------------------------------------------- listeners (connected in apps.py)


def on_ticket_updated(kind: str, data: dict) -> None:
    if data.get("ticket_id") and data.get("status") in CLOSED_STATUSES:
        index_ticket(data["ticket_id"])


def on_article_event(kind: str, data: dict) -> None:
    article_id = data.get("article_id") or data.get("id")
    if article_id:
        index_article(int(article_id))


def on_canned_saved(sender, instance, **kwargs) -> None:
    transaction.on_commit(lambda pk=instance.pk: index_canned(pk))


def on_canned_deleted(sender, instance, **kwargs) -> None:
    transaction.on_commit(lambda pk=instance.pk: remove_doc(Source.CANNED, pk))


def on_article_saved(sender, instance, **kwargs) -> None:
    transaction.on_commit(lambda pk=instance.pk: index_article(pk))


def on_article_deleted(sender, instance, **kwargs) -> None:
    transaction.on_commit(lambda pk=instance.pk: remove_doc(Source.ARTICLE, pk))


def on_ticket_event(kind: str, data: dict) -> None:
    """A survey was answered: the ticket's reply may now qualify (or no longer)."""
    if data.get("ticket_id"):
        index_ticket(int(data["ticket_id"]))


# ---------------------------------------------------------------- helpers


def upsert_doc(source: str, ref: int, *, title: str, match: str, answer: str, team_id=None, owner_id=None, url: str = "", language: str | None = None) -> IndexDoc:
    match = match[:MAX_MATCH_CHARS]
    language = language if language in textlib.LANGUAGES else textlib.detect_language(match)
    values = {
        "title": (title or "")[:255],
        "match_text": match,
        "answer": answer,
        "url": url[:500],
        "team_id": team_id,
        "owner_id": owner_id,
        "language": language,
        "tokens": " ".join(textlib.tokens(match, language)),
        "updated_at": timezone.now(),
    }
    with transaction.atomic():
        doc, _created = IndexDoc.objects.update_or_create(source=source, ref=ref, defaults=values)
        _bump()
    return doc


def remove_doc(source: str, ref: int) -> None:
    with transaction.atomic():
        deleted, _ = IndexDoc.objects.filter(source=source, ref=ref).delete()
        if deleted:
            _bump()
    return None


def _bump() -> None:
    updated = IndexState.objects.filter(pk=1).update(generation=F("generation") + 1)
    if not updated:
        IndexState.objects.get_or_create(pk=1, defaults={"generation": 1})


def _article_text(article) -> str:
    from tickets.sanitize import html_to_text

    plain = getattr(article, "text", "") or ""
    if plain.strip():
        return plain
    html = getattr(article, "html", "") or ""
    return html_to_text(html) if html.strip() else (getattr(article, "body", "") or "")


def _tag_names(article) -> list[str]:
    tags = getattr(article, "tags", None)
    if tags is None:
        return []
    if isinstance(tags, list | tuple):
        return list(tags)
    if hasattr(tags, "all"):
        return [str(t) for t in tags.all()]
    return [str(tags)]
