"""Surveys: offered when a chat ends or an email ticket is resolved, answered once through the token link.
Suggestions: posted, voted and commented by agents; managers set the status."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.events import publish
from tickets.models import Ticket, TicketEvent

from .models import ACCEPTED_STATUSES, Suggestion, SuggestionComment, SuggestionStatus, SuggestionVote, Survey

log = logging.getLogger(__name__)

SURVEY_LIFETIME = timedelta(days=7)


class SurveyClosed(Exception):
    """The survey was already answered or has expired."""


def offer_survey(*, ticket: Ticket, trigger: str, agent_id: int | None = None) -> tuple[Survey, bool]:
    """Create the survey for this (ticket, trigger) once. Returns (survey, created)."""
    now = timezone.now()
    try:
        with transaction.atomic():
            survey = Survey.objects.create(
                ticket=ticket, agent_id=agent_id or ticket.assignee_id, channel=ticket.channel, trigger=trigger[:64],
                sent_at=now, expires_at=now + SURVEY_LIFETIME,
            )
            return survey, True
    except IntegrityError:
        return Survey.objects.get(ticket=ticket, trigger=trigger[:64]), False


def answer_survey(*, token: str, rating: int, comment: str = "") -> Survey:
    """Record the answer once. Raises Survey.DoesNotExist for an unknown token, SurveyClosed when it was
    already answered or has expired, ValueError for a rating outside 1-5."""
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        raise ValueError(_("Choose a rating from 1 to 5."))
    comment = (comment or "").strip()[:5000]
    now = timezone.now()
    with transaction.atomic():
        survey = Survey.objects.select_for_update().select_related("ticket").get(token=token)
        if survey.answered_at is not None or survey.expires_at <= now:
            raise SurveyClosed
        survey.rating, survey.comment, survey.answered_at = rating, comment, now
        survey.save(update_fields=["rating", "comment", "answered_at"])
        TicketEvent.objects.create(ticket=survey.ticket, kind="survey_answered", data={"survey": survey.pk, "rating": rating, "agent": survey.agent_id})
        publish(
            "survey.answered",
            groups=[f"ticket.{survey.ticket_id}"],
            frame={"type": "survey_answered", "ticket": survey.ticket_id, "rating": rating},
            data={"survey_id": survey.pk, "ticket_id": survey.ticket_id, "team_id": survey.ticket.team_id, "agent_id": survey.agent_id, "rating": rating},
        )
    return survey


def survey_link(survey: Survey) -> str:
    base = settings.PUBLIC_BASE_URL or "http://127.0.0.1:8000"
    return f"{base}{survey.url}"


# ---------------------------------------------------------------- suggestions


def post_suggestion(*, author, title: str, body: str = "") -> Suggestion:
    title = title.strip()
    if not title:
        raise ValueError(_("A suggestion needs a title."))
    return Suggestion.objects.create(author=author, title=title[:200], body=body.strip()[:10000])


def vote(*, suggestion: Suggestion, agent, up: bool = True) -> int:
    """Add (or with up=False remove) the agent's vote; idempotent. Returns the vote count."""
    if up:
        SuggestionVote.objects.bulk_create([SuggestionVote(suggestion=suggestion, agent=agent)], ignore_conflicts=True)
    else:
        SuggestionVote.objects.filter(suggestion=suggestion, agent=agent).delete()
    return SuggestionVote.objects.filter(suggestion=suggestion).count()


def comment(*, suggestion: Suggestion, author, body: str) -> SuggestionComment:
    body = body.strip()
    if not body:
        raise ValueError(_("The comment is empty."))
    return SuggestionComment.objects.create(suggestion=suggestion, author=author, body=body[:10000])


def set_suggestion_status(*, suggestion: Suggestion, actor, status: str) -> Suggestion:
    """Managers only (checked by the caller). The first move to planned/done counts as accepted: the author
    gets the suggestion points once (gamification listens to `suggestion.accepted`)."""
    if status not in SuggestionStatus.values:
        raise ValueError(_("Unknown status."))
    with transaction.atomic():
        suggestion = Suggestion.objects.select_for_update().get(pk=suggestion.pk)
        suggestion.status = status
        suggestion.updated_at = timezone.now()
        accepted_now = status in ACCEPTED_STATUSES and suggestion.accepted_at is None
        if accepted_now:
            suggestion.accepted_at = suggestion.updated_at
        suggestion.save(update_fields=["status", "updated_at", "accepted_at"])
        if accepted_now:
            publish("suggestion.accepted", groups=(), frame=None, data={"suggestion_id": suggestion.pk, "author_id": suggestion.author_id, "actor_id": getattr(actor, "pk", None)})
    return suggestion
