"""Reads about contacts, on behalf of an agent: a contact exists for an agent only through tickets they may see."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldError
from django.db.models import DurationField, ExpressionWrapper, F, QuerySet, Sum
from django.db.models.functions import Coalesce

from tickets import selectors as ticket_selectors
from tickets.crypto import blind_indexes
from tickets.models import Contact, ContactIdentity, Tag, Ticket

from .models import ContactNote, NameToken

MAX_PAST_TICKETS = 50


def visible_contacts(*, agent) -> QuerySet[Contact]:
    visible = ticket_selectors.visible_tickets(agent=agent)
    return Contact.objects.filter(pk__in=visible.values("contact_id"), merged_into__isnull=True)


def contact_for_agent(*, agent, contact_id: int) -> Contact:
    """The contact, or Contact.DoesNotExist (→ 404) when the agent sees none of its tickets."""
    return visible_contacts(agent=agent).get(pk=contact_id)


def search_contacts(*, agent, q: str) -> QuerySet[Contact]:
    """Contacts by a prefix of any word of their name or email, or by an exact email/phone/identity address.
    Encrypted fields are searched through keyed hashes only."""
    qs = visible_contacts(agent=agent)
    q = q.strip()[:200]
    if not q:
        return qs.order_by("-id")
    exact = blind_indexes(q)
    by_identity = set(ContactIdentity.objects.filter(address_hash__in=exact).values_list("contact_id", flat=True))
    by_identity |= set(Contact.objects.filter(email_hash__in=exact).values_list("pk", flat=True))
    by_identity |= set(Contact.objects.filter(phone_hash__in=exact).values_list("pk", flat=True))
    words = [w[:24] for w in re.findall(r"\w+", q.lower()) if len(w) >= 2][:5]
    token_ids: set[int] | None = None
    for word in words:
        ids = set(NameToken.objects.filter(token_hash__in=_token_hashes(word)).values_list("contact_id", flat=True))
        token_ids = ids if token_ids is None else token_ids & ids
    matches = by_identity | (token_ids or set())
    if q.lstrip("#").isdigit():
        matches.add(int(q.lstrip("#")))
    return qs.filter(pk__in=matches).order_by("-id")


@dataclass
class Insights:
    contact: Contact
    identities: list[ContactIdentity]
    tickets: list[dict[str, Any]]
    ticket_count: int
    tags: list[str]
    time_with_support: timedelta
    notes: list[ContactNote]
    chat: dict[str, str] | None = None
    csat_average: float | None = None
    merged_from: int = 0
    attributes: dict[str, Any] = field(default_factory=dict)


def contact_insights(*, agent, contact: Contact, current: Ticket | None = None) -> Insights:
    """Everything an agent wants beside a conversation, limited to tickets the agent may see."""
    tickets_qs = ticket_selectors.visible_tickets(agent=agent).filter(contact=contact)
    past = list(tickets_qs.select_related("team", "assignee").order_by("-last_message_at", "-id")[:MAX_PAST_TICKETS])
    ratings = survey_ratings([t.pk for t in past])
    rows = [
        {
            "ticket": t,
            "current": current is not None and t.pk == current.pk,
            "outcome": t.get_status_display(),
            "csat": ratings.get(t.pk),
        }
        for t in past
    ]
    answered = [r for r in ratings.values() if r is not None]
    duration = ExpressionWrapper(Coalesce(F("resolved_at"), F("last_message_at")) - F("created_at"), output_field=DurationField())
    total = tickets_qs.aggregate(total=Sum(duration))["total"] or timedelta(0)
    tags = list(Tag.objects.filter(tickets__in=tickets_qs).values_list("name", flat=True).distinct().order_by("name")[:30])
    return Insights(
        contact=contact,
        identities=list(contact.identities.order_by("kind", "id")),
        tickets=rows,
        ticket_count=tickets_qs.count(),
        tags=tags,
        time_with_support=max(total, timedelta(0)),
        notes=list(ContactNote.objects.filter(contact=contact).select_related("author")[:20]),
        chat=chat_details(current) if current is not None and current.channel == "chat" else None,
        csat_average=round(sum(answered) / len(answered), 1) if answered else None,
        merged_from=Contact.objects.filter(merged_into=contact).count(),
        attributes=dict(contact.attributes or {}),
    )


def survey_ratings(ticket_ids: list[int]) -> dict[int, int]:
    """CSAT per ticket from the feedback app's surveys; empty when that app has no Survey model."""
    if not ticket_ids:
        return {}
    try:
        survey = apps.get_model("feedback", "Survey")
        rows = survey.objects.filter(ticket_id__in=ticket_ids, answered_at__isnull=False, rating__isnull=False)
        return dict(rows.order_by("answered_at").values_list("ticket_id", "rating"))
    except (LookupError, FieldError):
        return {}


def chat_details(ticket: Ticket) -> dict[str, str] | None:
    """Page, referrer, browser and locale of the chat behind a ticket (the chat app's ChatSession)."""
    try:
        session_model = apps.get_model("chat", "ChatSession")
        row = (
            session_model.objects.filter(ticket_id=ticket.pk)
            .order_by("-pk")
            .values("page_url", "referrer", "user_agent", "locale")
            .first()
        )
    except (LookupError, FieldError):
        return None
    if row is None:
        return None
    return {**{k: row.get(k) or "" for k in ("page_url", "referrer", "user_agent", "locale")}, "browser": browser_name(row.get("user_agent") or "")}


_BROWSERS = [("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Chromium/", "Chromium"), ("Safari/", "Safari")]
_SYSTEMS = [("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iPadOS"), ("Windows", "Windows"), ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux")]


def browser_name(user_agent: str) -> str:
    """"Firefox 128 on Linux" from a User-Agent string (best effort; the raw string is shown too)."""
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), "")
    version = ""
    if browser:
        marker = next(m for m, n in _BROWSERS if n == browser)
        found = re.search(re.escape(marker) + r"(\d+)", user_agent)
        if browser == "Safari":
            found = re.search(r"Version/(\d+)", user_agent)
        version = found.group(1) if found else ""
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), "")
    label = " ".join(p for p in (browser, version) if p)
    return f"{label} ({system})" if label and system else label or system


def _token_hashes(prefix: str) -> list[str]:
    return blind_indexes("name-token:" + prefix)
