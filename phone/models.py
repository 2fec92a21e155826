"""Twilio numbers (SMS, WhatsApp, voice), SMS opt-outs, calls and the provider ids of outbound parts."""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.crypto import EncryptedTextField, blind_index
from tickets.models import Message, Team

WEEKDAYS = "0,1,2,3,4"  # Monday..Friday (datetime.weekday())


def _validate_days(value: str) -> None:
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if any(not p.isdigit() or int(p) > 6 for p in parts):
        raise ValidationError(_("List weekdays as numbers 0 (Monday) to 6 (Sunday), separated by commas."))


def _validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(_("Unknown time zone: %(tz)s") % {"tz": value}) from exc


class PhoneNumber(models.Model):
    """A Twilio number (or WhatsApp sender) and what it handles. Calls ring the team's online agents."""

    number = models.CharField(_("number"), max_length=32, unique=True, help_text=_("E.164, e.g. +12025550143"))
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("team"), related_name="phone_numbers")
    sms = models.BooleanField(_("SMS"), default=True)
    whatsapp = models.BooleanField(_("WhatsApp"), default=False)
    voice = models.BooleanField(_("voice"), default=False)
    greeting = models.TextField(_("greeting"), blank=True, help_text=_("Said to callers before the call is connected."))
    closed_message = models.TextField(
        _("closed message"), blank=True, help_text=_("Said to callers outside business hours, before voicemail.")
    )
    voicemail_prompt = models.TextField(_("voicemail prompt"), blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC", validators=[_validate_timezone])
    open_days = models.CharField(
        _("open days"), max_length=20, default=WEEKDAYS, blank=True, validators=[_validate_days],
        help_text=_("Weekdays the line is open: 0 = Monday ... 6 = Sunday, comma-separated."),
    )  # fmt: skip
    opens_at = models.TimeField(_("opens at"), null=True, blank=True, help_text=_("Empty: open around the clock."))
    closes_at = models.TimeField(_("closes at"), null=True, blank=True)
    ring_seconds = models.PositiveSmallIntegerField(_("ring each agent for (seconds)"), default=20)

    class Meta:
        ordering = ["number"]
        verbose_name = _("phone number")
        verbose_name_plural = _("phone numbers")

    def __str__(self) -> str:
        return self.number

    def is_open(self, at: datetime | None = None) -> bool:
        """Business hours for voice, in the number's own time zone. No hours set: always open."""
        if self.opens_at is None or self.closes_at is None:
            return True
        local = (at or timezone.now()).astimezone(zoneinfo.ZoneInfo(self.time_zone or "UTC"))
        days = {int(p) for p in self.open_days.split(",") if p.strip().isdigit()}
        if local.weekday() not in days:
            return False
        now = local.time()
        if self.opens_at <= self.closes_at:
            return self.opens_at <= now < self.closes_at
        return now >= self.opens_at or now < self.closes_at  # overnight line, e.g. 22:00-06:00


class OptOut(models.Model):
    """A customer who texted STOP: no outbound on that channel until they text START."""

    kind = models.CharField(_("kind"), max_length=12)  # tickets IdentityKind: phone or whatsapp
    address = EncryptedTextField(_("address"))
    address_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(_("opted out at"), default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "address_hash"], name="phone_optout_unique")]
        verbose_name = _("opt-out")
        verbose_name_plural = _("opt-outs")

    def __str__(self) -> str:
        return f"{self.kind}: {self.address}"

    def save(self, *args, **kwargs):
        self.address_hash = blind_index(self.address)
        super().save(*args, **kwargs)


class CallOutcome(models.TextChoices):
    RINGING = "ringing", _("Ringing")
    ANSWERED = "answered", _("Answered")
    VOICEMAIL = "voicemail", _("Voicemail")
    MISSED = "missed", _("Missed")


class Call(models.Model):
    """One inbound call. Twilio's callbacks (dial result, recording, transcription) arrive in any order and
    each updates this row; the call's ticket message is rebuilt from it (`phone.calls.sync_message`)."""

    call_sid = models.CharField(max_length=64, unique=True)
    phone_number = models.ForeignKey(PhoneNumber, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls")
    caller = EncryptedTextField(_("caller"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=CallOutcome.choices, default=CallOutcome.RINGING)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    duration = models.PositiveIntegerField(_("duration (seconds)"), null=True, blank=True)
    recording_sid = models.CharField(max_length=64, blank=True)
    recording_url = models.URLField(_("recording"), max_length=500, blank=True)
    recording_duration = models.PositiveIntegerField(null=True, blank=True)
    transcription_status = models.CharField(max_length=20, blank=True)
    transcription_text = EncryptedTextField(_("transcription"), blank=True)
    message = models.OneToOneField(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="call")
    created_at = models.DateTimeField(_("started"), default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("call")
        verbose_name_plural = _("calls")

    def __str__(self) -> str:
        return self.call_sid


class OutboundPart(models.Model):
    """A long reply goes out as several Twilio messages; each part's MessageSid leads back to the reply."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="twilio_parts")
    index = models.PositiveSmallIntegerField()
    sid = models.CharField(max_length=64, unique=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "index"], name="phone_part_unique_index")]

    def __str__(self) -> str:
        return self.sid


class EarlyStatus(models.Model):
    """A status callback that arrived before we had stored the SID it is about (Twilio can call back within
    milliseconds of accepting a message). Applied when the part is recorded; stale rows are purged."""

    sid = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=10)
    error = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.sid}: {self.status}"
