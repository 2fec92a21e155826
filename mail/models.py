"""Mailboxes: where customer mail is fetched (IMAP) and how replies leave (SMTP)."""

from __future__ import annotations

from urllib.parse import urlparse

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.crypto import EncryptedTextField
from tickets.models import Team

DEFAULT_MAX_MESSAGE_BYTES = 10 * 1024 * 1024


class Security(models.TextChoices):
    NONE = "none", _("None (plain text, loopback or trusted network only)")
    STARTTLS = "starttls", _("STARTTLS")
    SSL = "ssl", _("SSL/TLS")


class Mailbox(models.Model):
    """One IMAP folder the desk reads, and the address its replies come from.

    `uidvalidity` and `last_uid` are the poller's position: messages with a UID above `last_uid` are new.
    When the server reports another UIDVALIDITY the position is reset; already stored messages are
    recognised by Message-ID (or a content hash) and never stored twice.
    """

    name = models.CharField(_("name"), max_length=100)
    email_address = models.EmailField(_("email address"), unique=True, help_text=_("Replies are sent from this address."))
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="mailboxes", verbose_name=_("team"))
    active = models.BooleanField(_("polling enabled"), default=True)

    imap_host = models.CharField(_("IMAP host"), max_length=255)
    imap_port = models.PositiveIntegerField(_("IMAP port"), default=993)
    imap_security = models.CharField(_("IMAP security"), max_length=8, choices=Security.choices, default=Security.SSL)
    imap_username = models.CharField(_("IMAP user name"), max_length=255)
    imap_password = EncryptedTextField(_("IMAP password"), blank=True)
    imap_folder = models.CharField(_("IMAP folder"), max_length=255, default="INBOX")
    processed_folder = models.CharField(
        _("move processed mail to"),
        max_length=255,
        blank=True,
        help_text=_("Leave empty to keep processed mail in the folder and mark it as read."),
    )
    use_idle = models.BooleanField(_("use IMAP IDLE"), default=True, help_text=_("Pick up new mail within seconds when the server supports IDLE."))
    poll_interval = models.PositiveIntegerField(_("poll interval (seconds)"), default=60)
    max_message_bytes = models.PositiveIntegerField(
        _("maximum message size (bytes)"),
        default=DEFAULT_MAX_MESSAGE_BYTES,
        help_text=_("Larger messages are stored truncated and flagged, never dropped."),
    )
    smtp_url = EncryptedTextField(
        _("SMTP URL"),
        blank=True,
        help_text=_("smtp://user:password@host:port, smtp+tls:// for STARTTLS, smtps:// for TLS. Empty: the server default (EMAIL_URL)."),
    )

    uidvalidity = models.BigIntegerField(_("UIDVALIDITY"), null=True, blank=True, editable=False)
    last_uid = models.BigIntegerField(_("last fetched UID"), default=0, editable=False)
    last_polled_at = models.DateTimeField(_("last polled"), null=True, blank=True, editable=False)
    last_error = models.TextField(_("last error"), blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")

    def __str__(self) -> str:
        return f"{self.name} <{self.email_address}>"

    def clean(self) -> None:
        if self.smtp_url:
            scheme = urlparse(self.smtp_url).scheme.lower()
            if scheme not in {"smtp", "smtp+tls", "smtps"}:
                raise ValidationError({"smtp_url": _("Use smtp://, smtp+tls:// or smtps://.")})
        if self.processed_folder and self.processed_folder == self.imap_folder:
            raise ValidationError({"processed_folder": _("The processed folder must differ from the folder that is read.")})

    @property
    def smtp_url_display(self) -> str:
        """The SMTP URL with its password hidden (secrets are write-only)."""
        if not self.smtp_url:
            return ""
        parsed = urlparse(self.smtp_url)
        if parsed.password is None:
            return self.smtp_url
        netloc = f"{parsed.username}:***@{parsed.hostname}" + (f":{parsed.port}" if parsed.port else "")
        return parsed._replace(netloc=netloc).geturl()


class AutoMailLog(models.Model):
    """Automatic mail sent to a sender (acknowledgements, surveys): at most a few per sender per hour."""

    address_hash = models.CharField(max_length=64, db_index=True)
    sent_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("automatic mail")
        verbose_name_plural = _("automatic mails")

    def __str__(self) -> str:
        return f"{self.address_hash[:8]} at {self.sent_at:%Y-%m-%d %H:%M}"
