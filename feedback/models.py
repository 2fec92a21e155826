"""Customer satisfaction surveys (CSAT) and the agents' suggestion board."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Survey(models.Model):
    """One survey offer. `trigger` makes offers idempotent: one per chat session, one per resolved email ticket.

    The token is the customer's only credential: single use (answered_at) and time-limited (expires_at).
    """

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="surveys", verbose_name=_("ticket"))
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="surveys", verbose_name=_("agent")
    )
    channel = models.CharField(_("channel"), max_length=10)
    trigger = models.CharField(_("trigger"), max_length=64)
    token = models.CharField(_("token"), max_length=64, unique=True, default=new_token, editable=False)
    rating = models.PositiveSmallIntegerField(
        _("rating"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(_("comment"), blank=True)
    sent_at = models.DateTimeField(_("offered"), default=timezone.now)
    link_sent_at = models.DateTimeField(_("link sent"), null=True, blank=True)
    link_sent_via = models.CharField(_("link sent via"), max_length=16, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"))

    class Meta:
        ordering = ["-sent_at", "-id"]
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "trigger"], name="survey_once_per_trigger"),
            models.CheckConstraint(condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="survey_rating_1_5"),
        ]
        indexes = [
            models.Index(fields=["answered_at"], name="survey_answered", condition=Q(answered_at__isnull=False)),
            models.Index(fields=["agent", "answered_at"], name="survey_agent_answered"),
        ]

    def __str__(self) -> str:
        return f"survey #{self.pk} on ticket {self.ticket_id}"

    @property
    def url(self) -> str:
        return f"/survey/{self.token}/"

    @property
    def is_open(self) -> bool:
        return self.answered_at is None and self.expires_at > timezone.now()


class SuggestionStatus(models.TextChoices):
    NEW = "new", _("New")
    PLANNED = "planned", _("Planned")
    DONE = "done", _("Done")
    DECLINED = "declined", _("Declined")


ACCEPTED_STATUSES = (SuggestionStatus.PLANNED, SuggestionStatus.DONE)


class Suggestion(models.Model):
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="suggestions", verbose_name=_("author"))
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=SuggestionStatus.choices, default=SuggestionStatus.NEW)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("suggestion")
        verbose_name_plural = _("suggestions")

    def __str__(self) -> str:
        return self.title


class SuggestionVote(models.Model):
    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="votes")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("vote")
        verbose_name_plural = _("votes")
        constraints = [models.UniqueConstraint(fields=["suggestion", "agent"], name="one_vote_per_agent")]

    def __str__(self) -> str:
        return f"vote {self.agent_id} → {self.suggestion_id}"


class SuggestionComment(models.Model):
    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("author"))
    body = models.TextField(_("comment"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("comment")
        verbose_name_plural = _("comments")

    def __str__(self) -> str:
        return f"comment #{self.pk} on {self.suggestion_id}"
