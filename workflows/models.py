"""Working the queue: business hours, SLA policies and per-ticket due times, automation rules, macros,
merge/split records (for undo) and outbound webhooks."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.crypto import EncryptedTextField
from tickets.models import Channel, Priority, Team, Ticket

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def default_schedule() -> dict:
    return {day: [["09:00", "17:00"]] for day in WEEKDAYS[:5]}


class BusinessHours(models.Model):
    """Opening hours of a team in its own time zone. `schedule` maps weekday → [["HH:MM", "HH:MM"], ...].
    A calendar without a team is the default for teams that have none."""

    name = models.CharField(_("name"), max_length=100)
    team = models.OneToOneField(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="business_hours", verbose_name=_("team")
    )
    timezone = models.CharField(_("time zone"), max_length=64, default="UTC")
    schedule = models.JSONField(_("weekly schedule"), default=default_schedule)

    class Meta:
        verbose_name = _("business hours")
        verbose_name_plural = _("business hours")
        constraints = [
            models.UniqueConstraint(fields=["team"], condition=models.Q(team__isnull=True), name="hours_one_default"),
        ]

    def __str__(self) -> str:
        return self.name


class Holiday(models.Model):
    calendar = models.ForeignKey(BusinessHours, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="holiday_unique_date")]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class SlaPolicy(models.Model):
    """Targets in minutes (business minutes when `business_hours`). The first matching policy by `position`
    applies; an empty priority/channel/team matches any."""

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)
    priority = models.CharField(_("priority"), max_length=8, choices=Priority.choices, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, blank=True)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, verbose_name=_("team"))
    first_response_minutes = models.PositiveIntegerField(_("first response (minutes)"), null=True, blank=True)
    next_response_minutes = models.PositiveIntegerField(_("next response (minutes)"), null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(_("resolution (minutes)"), null=True, blank=True)
    business_hours = models.BooleanField(_("count business hours only"), default=True)
    warn_minutes = models.PositiveIntegerField(_("warn before (minutes)"), default=15)
    # Waiting on the customer (status pending) stops the resolution clock.
    pause_when_pending = models.BooleanField(_("pause resolution while pending"), default=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self) -> str:
        return self.name


class TicketSla(models.Model):
    """The due times of one ticket, recomputed from ticket events. `breaches` and `warnings` are lists of
    {"target", "due"} already recorded (each at most once)."""

    ticket = models.OneToOneField(Ticket, primary_key=True, on_delete=models.CASCADE, related_name="sla_state")
    policy = models.ForeignKey(SlaPolicy, null=True, blank=True, on_delete=models.SET_NULL)
    first_response_due = models.DateTimeField(null=True, blank=True)
    next_response_due = models.DateTimeField(null=True, blank=True)
    resolution_due = models.DateTimeField(null=True, blank=True)
    # The earliest open due time: what the beat task scans and what the queue could sort by.
    next_due = models.DateTimeField(null=True, blank=True)
    # When the beat task must look again (the next warning or breach moment).
    next_check = models.DateTimeField(null=True, blank=True)
    breaches = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    last_status = models.CharField(max_length=10, blank=True)
    # The newest status TicketEvent automation has seen (status.changed fires once per such event).
    last_status_event = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("ticket SLA")
        verbose_name_plural = _("ticket SLAs")
        indexes = [models.Index(fields=["next_check"], name="ticketsla_next_check", condition=models.Q(next_check__isnull=False))]

    def __str__(self) -> str:
        return f"SLA of #{self.ticket_id}"


class Trigger(models.TextChoices):
    TICKET_CREATED = "ticket.created", _("Ticket created")
    MESSAGE_RECEIVED = "message.received", _("Message received")
    STATUS_CHANGED = "status.changed", _("Status changed")
    SLA_WARNING = "sla.warning", _("SLA about to breach")
    CUSTOMER_IDLE = "customer.idle", _("Time since last customer message")


class AutomationRule(models.Model):
    """When `trigger` happens and every condition holds, run `actions` (the macro action format plus
    `notify`). Rules run in `position` order, each at most once per event."""

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)
    trigger = models.CharField(_("trigger"), max_length=20, choices=Trigger.choices)
    idle_minutes = models.PositiveIntegerField(_("minutes since last customer message"), null=True, blank=True)
    conditions = models.JSONField(_("conditions"), default=dict, blank=True)
    actions = models.JSONField(_("actions"), default=list)
    stop_processing = models.BooleanField(_("stop later rules when this one fires"), default=False)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("automation rule")
        verbose_name_plural = _("automation rules")

    def __str__(self) -> str:
        return self.name


class RuleRun(models.Model):
    """One rule fired (or was checked) for one event: the unique key makes it at most once."""

    rule = models.ForeignKey(AutomationRule, on_delete=models.CASCADE, related_name="runs")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    event_key = models.CharField(max_length=120)
    fired = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "ticket", "event_key"], name="rulerun_once")]
        indexes = [models.Index(fields=["ticket", "created_at"], name="rulerun_ticket")]
        verbose_name = _("rule run")
        verbose_name_plural = _("rule runs")

    def __str__(self) -> str:
        return f"{self.rule_id} on #{self.ticket_id}: {self.event_key}"


class Macro(models.Model):
    name = models.CharField(_("name"), max_length=100)
    actions = models.JSONField(_("actions"), default=list)
    shortcut = models.CharField(_("keyboard shortcut"), max_length=1, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("macro")
        verbose_name_plural = _("macros")

    def __str__(self) -> str:
        return self.name


class Operation(models.TextChoices):
    MERGE = "merge", _("Merge")
    SPLIT = "split", _("Split")


class TicketMove(models.Model):
    """A merge or split: which messages and events moved from `source` to `target`, so it can be undone."""

    kind = models.CharField(max_length=5, choices=Operation.choices)
    source = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    target = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    message_ids = models.JSONField(default=list)
    event_ids = models.JSONField(default=list)
    previous = models.JSONField(default=dict)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("merge or split")
        verbose_name_plural = _("merges and splits")

    def __str__(self) -> str:
        return f"{self.kind} #{self.source_id} → #{self.target_id}"


class WebhookEvent(models.TextChoices):
    TICKET_CREATED = "ticket.created", "ticket.created"
    TICKET_UPDATED = "ticket.updated", "ticket.updated"
    MESSAGE_CREATED = "message.created", "message.created"
    SLA_BREACHED = "sla.breached", "sla.breached"


class Webhook(models.Model):
    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(_("events"), default=list)
    secret = EncryptedTextField(_("signing secret"))
    active = models.BooleanField(_("active"), default=True)
    # Hosts an admin explicitly allows even though they resolve to loopback/private addresses.
    allowed_hosts = models.JSONField(_("allowed internal hosts"), default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self) -> str:
        return self.url


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    RETRYING = "retrying", _("Retrying")
    SUCCESS = "success", _("Delivered")
    FAILED = "failed", _("Failed")


class WebhookDelivery(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(_("event"), max_length=20)
    payload = models.JSONField(default=dict)
    state = models.CharField(_("state"), max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    response_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=255, blank=True)
    log = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["webhook", "-created_at"], name="delivery_recent")]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")

    def __str__(self) -> str:
        return f"{self.event} → {self.webhook_id} ({self.state})"
