"""Points, levels and badges. Every award is a row (who, why, which ticket): totals are sums of awards and can
be audited and recomputed (`manage.py recompute_points`)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Reason(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response within target")
    TICKET_RESOLVED = "ticket_resolved", _("Ticket resolved")
    CHAT_RESOLVED = "chat_resolved", _("Chat resolved")
    FIVE_STAR_SURVEY = "five_star_survey", _("5-star survey")
    ARTICLE_PUBLISHED = "article_published", _("Knowledge base article published")
    SUGGESTION_ACCEPTED = "suggestion_accepted", _("Suggestion accepted")
    SLA_BREACHED = "sla_breached", _("SLA breached")
    ADJUSTMENT = "adjustment", _("Manual adjustment")


class PointRule(models.Model):
    """How many points an event is worth. Inactive or missing rules award nothing."""

    reason = models.CharField(_("event"), max_length=24, choices=Reason.choices, unique=True)
    points = models.IntegerField(_("points"), help_text=_("Negative values take points away (SLA breaches)."))
    target_seconds = models.PositiveIntegerField(
        _("target time (seconds)"), null=True, blank=True, help_text=_("First response: award only when the first reply came within this time.")
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["reason"]
        verbose_name = _("point rule")
        verbose_name_plural = _("point rules")

    def __str__(self) -> str:
        return f"{self.get_reason_display()}: {self.points:+d}"


class Award(models.Model):
    """One grant (or deduction) of points. `ref` makes each award happen once per cause."""

    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="awards", verbose_name=_("agent"))
    reason = models.CharField(_("reason"), max_length=24, choices=Reason.choices)
    points = models.IntegerField(_("points"))
    ticket = models.ForeignKey("tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("ticket"))
    ref = models.CharField(_("reference"), max_length=64, help_text=_("What caused it, e.g. ticket:12 or article:3."))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("awarded"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("award")
        verbose_name_plural = _("awards")
        constraints = [
            models.UniqueConstraint(fields=["agent", "reason", "ref"], condition=~Q(reason="adjustment"), name="award_once_per_cause"),
        ]
        indexes = [
            models.Index(fields=["agent", "created_at"], name="award_agent_time"),
            models.Index(fields=["created_at", "agent", "points"], name="award_board"),  # leaderboards: period sums
            models.Index(fields=["reason", "ref"], name="award_cause"),  # listeners: "already awarded?"
        ]

    def __str__(self) -> str:
        return f"{self.points:+d} {self.reason} → {self.agent_id}"


class Score(models.Model):
    """Running total per agent (a cache of SUM(awards); `recompute_points` rebuilds it)."""

    agent = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="score", verbose_name=_("agent"))
    total = models.IntegerField(_("total points"), default=0)

    class Meta:
        verbose_name = _("score")
        verbose_name_plural = _("scores")

    def __str__(self) -> str:
        return f"{self.agent_id}: {self.total}"


class Level(models.Model):
    name = models.CharField(_("name"), max_length=50)
    min_points = models.IntegerField(_("minimum points"), unique=True)

    class Meta:
        ordering = ["min_points"]
        verbose_name = _("level")
        verbose_name_plural = _("levels")

    def __str__(self) -> str:
        return self.name


class Criterion(models.TextChoices):
    CHATS_RESOLVED = "chats_resolved", _("Chats resolved (count ≥ threshold)")
    TICKETS_RESOLVED = "tickets_resolved", _("Tickets of any channel resolved (count ≥ threshold)")
    FAST_FIRST_RESPONSES = "fast_first_responses", _("First responses within the time limit (count ≥ threshold)")
    WEEKLY_CSAT = "weekly_csat", _("A week with average CSAT ≥ threshold (and at least the minimum number of surveys)")
    POINTS = "points", _("Total points ≥ threshold")


class Badge(models.Model):
    slug = models.SlugField(_("slug"), unique=True)
    name = models.CharField(_("name"), max_length=80)
    description = models.CharField(_("description"), max_length=200, blank=True)
    criterion = models.CharField(_("criterion"), max_length=24, choices=Criterion.choices)
    threshold = models.DecimalField(_("threshold"), max_digits=8, decimal_places=2)
    seconds = models.PositiveIntegerField(_("time limit (seconds)"), null=True, blank=True, help_text=_("For fast first responses."))
    minimum = models.PositiveIntegerField(_("minimum surveys"), default=1, help_text=_("For weekly CSAT: surveys needed in the week."))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("badge")
        verbose_name_plural = _("badges")

    def __str__(self) -> str:
        return self.name


class AgentBadge(models.Model):
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="badges", verbose_name=_("agent"))
    badge = models.ForeignKey(Badge, on_delete=models.CASCADE, related_name="holders", verbose_name=_("badge"))
    awarded_at = models.DateTimeField(_("awarded"), default=timezone.now)

    class Meta:
        ordering = ["awarded_at", "id"]
        verbose_name = _("agent badge")
        verbose_name_plural = _("agent badges")
        constraints = [models.UniqueConstraint(fields=["agent", "badge"], name="badge_awarded_once")]

    def __str__(self) -> str:
        return f"{self.badge} → {self.agent_id}"
