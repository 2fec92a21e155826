"""The one ticket stream: contacts and their identities, teams, tickets, messages, attachments."""

from __future__ import annotations

import secrets
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .crypto import EncryptedTextField, blind_index


class Channel(models.TextChoices):
    CHAT = "chat", _("Chat")
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")
    VOICE = "voice", _("Voice")
    MESSENGER = "messenger", _("Messenger")


class Role(models.TextChoices):
    AGENT = "agent", _("Agent")
    SUPERVISOR = "supervisor", _("Supervisor")
    ADMIN = "admin", _("Admin")


class Availability(models.TextChoices):
    ONLINE = "online", _("Online")
    AWAY = "away", _("Away")
    OFFLINE = "offline", _("Offline")


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="helpdesk_teams", blank=True, verbose_name=_("members")
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class AgentProfile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent")
    role = models.CharField(_("role"), max_length=12, choices=Role.choices, default=Role.AGENT)
    max_chats = models.PositiveSmallIntegerField(_("maximum concurrent chats"), default=4)
    availability = models.CharField(
        _("availability"), max_length=8, choices=Availability.choices, default=Availability.OFFLINE
    )
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, blank=True)
    phone = models.CharField(_("phone for calls"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("agent profile")
        verbose_name_plural = _("agent profiles")

    def __str__(self) -> str:
        return self.user.get_username()

    @property
    def is_manager(self) -> bool:
        return self.role in {Role.SUPERVISOR, Role.ADMIN} or self.user.is_superuser


class Contact(models.Model):
    """A customer. Name, email and phone are encrypted at rest; `*_hash` are blind indexes for lookups."""

    name = EncryptedTextField(_("name"), blank=True)
    email = EncryptedTextField(_("email"), blank=True)
    email_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    phone = EncryptedTextField(_("phone"), blank=True)
    phone_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self) -> str:
        return self.name or self.email or self.phone or f"#{self.pk}"

    def save(self, *args, **kwargs):
        self.set_blind_indexes()
        super().save(*args, **kwargs)

    def set_blind_indexes(self) -> None:
        """What save() does before writing; bulk inserts call it themselves."""
        self.email_hash = blind_index(self.email) if self.email else ""
        self.phone_hash = blind_index(self.phone) if self.phone else ""


class IdentityKind(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    WHATSAPP = "whatsapp", _("WhatsApp")
    MESSENGER = "messenger", _("Messenger id")
    VISITOR = "visitor", _("Chat visitor")


class ContactIdentity(models.Model):
    """One address by which a contact reaches us. One person can have several."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(_("kind"), max_length=12, choices=IdentityKind.choices)
    address = EncryptedTextField(_("address"))
    address_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "address_hash"], name="identity_unique_address")]
        verbose_name = _("contact identity")
        verbose_name_plural = _("contact identities")

    def __str__(self) -> str:
        return f"{self.kind}: {self.address}"

    def save(self, *args, **kwargs):
        self.set_blind_indexes()
        super().save(*args, **kwargs)

    def set_blind_indexes(self) -> None:
        self.address_hash = blind_index(self.address)


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class Status(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


ACTIVE_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING)


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class Ticket(models.Model):
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.NEW)
    priority = models.CharField(_("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("contact"))
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets", verbose_name=_("team")
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
        verbose_name=_("assignee"),
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets", verbose_name=_("tags"))
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    last_message_at = models.DateTimeField(_("last activity"), default=timezone.now)
    last_customer_message_at = models.DateTimeField(_("last customer message"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("first response"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    # Set when the customer wrote after the last agent reply; agents see an unread marker.
    unread = models.BooleanField(_("unread"), default=True)

    class Meta:
        ordering = ["-last_message_at", "-id"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            # The unified queue: team-scoped, newest activity first, optionally narrowed by status/channel.
            models.Index(fields=["team", "-last_message_at", "-id"], name="ticket_team_activity"),
            models.Index(fields=["team", "status", "channel", "-last_message_at", "-id"], name="ticket_team_filters"),
            models.Index(
                fields=["team", "-last_message_at", "-id"],
                name="ticket_active_queue",
                condition=Q(status__in=["new", "open", "pending"]),
            ),
            # The default queue across the agent's teams (team IN (...) OR assignee = me): walked in order,
            # it stops after one page instead of sorting every active ticket.
            models.Index(
                fields=["-last_message_at", "-id"],
                name="ticket_active_recent",
                condition=Q(status__in=["new", "open", "pending"], merged_into__isnull=True),
            ),
            # Reports filter on a creation-date range; the covering columns spare a heap visit per row.
            models.Index(
                fields=["created_at"],
                name="ticket_created_report",
                include=["team", "channel", "assignee", "first_response_at", "resolved_at", "last_message_at", "merged_into"],
            ),
            models.Index(fields=["assignee", "status", "-last_message_at"], name="ticket_assignee"),
            models.Index(fields=["contact", "-last_message_at"], name="ticket_contact"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class Direction(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")
    NOTE = "note", _("Internal note")


class DeliveryStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    READ = "read", _("Read")
    FAILED = "failed", _("Failed")


class Message(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    author_contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    author_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    is_bot = models.BooleanField(default=False)
    text = models.TextField(_("text"), blank=True)
    html = models.TextField(_("HTML (sanitized)"), blank=True)
    # The whole original when `text` shows a stripped view (email quotes and signatures).
    full_text = models.TextField(_("full original"), blank=True)
    external_id = models.CharField(_("external id"), max_length=255, blank=True)
    client_id = models.CharField(max_length=64, blank=True)
    delivery_status = models.CharField(
        _("delivery status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.RECEIVED
    )
    error = models.CharField(_("delivery error"), max_length=255, blank=True)
    meta = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"], condition=~Q(external_id=""), name="message_unique_external_id"
            ),
            models.UniqueConstraint(
                fields=["author_agent", "client_id"], condition=~Q(client_id=""), name="message_unique_agent_client_id"
            ),
        ]
        indexes = [models.Index(fields=["ticket", "created_at", "id"], name="message_timeline")]

    def __str__(self) -> str:
        return f"{self.direction} #{self.pk} on ticket {self.ticket_id}"

    @property
    def author_type(self) -> str:
        if self.is_bot:
            return "bot"
        return "agent" if self.author_agent_id else "contact"


def _attachment_path(instance: Attachment, filename: str) -> str:
    # Random names: a customer's filename never becomes a path on disk.
    suffix = PurePath(filename).suffix[:10].lower() if filename else ""
    suffix = suffix if suffix[1:].isalnum() else ""
    return f"attachments/{timezone.now():%Y/%m}/{secrets.token_hex(16)}{suffix}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=_attachment_path, max_length=255)
    filename = models.CharField(_("filename"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    content_id = models.CharField(max_length=255, blank=True)
    inline = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename


class TicketEvent(models.Model):
    """The ticket's audit trail and timeline: one row per change (status, assignment, tags, notes...)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=40)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="ticketevent_timeline"), models.Index(fields=["kind", "created_at"], name="ticketevent_kind")]
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")

    def __str__(self) -> str:
        return f"{self.kind} on #{self.ticket_id}"
