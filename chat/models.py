"""Live chat: widgets, visitor sessions, canned responses and internal agent chat.

Typing drafts are never stored. A visitor is known only by the hash of the token the server issued them.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.crypto import EncryptedTextField
from tickets.models import Contact, Team, Ticket


def _public_key() -> str:
    return secrets.token_urlsafe(12)


def _secret() -> str:
    return secrets.token_hex(32)


class Widget(models.Model):
    """One embeddable chat widget: which team it reaches, where it may be embedded, how it looks."""

    public_key = models.CharField(_("public key"), max_length=64, unique=True, default=_public_key)
    name = models.CharField(_("name"), max_length=100)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="widgets", verbose_name=_("team"))
    allowed_domains = models.JSONField(
        _("allowed domains"), default=list, blank=True,
        help_text=_("Host names that may embed the widget, e.g. shop.example.com or *.example.com."),
    )  # fmt: skip
    colour = models.CharField(_("colour"), max_length=7, default="#2563eb")
    text_colour = models.CharField(_("text colour"), max_length=7, default="#ffffff")
    greeting = models.TextField(_("greeting"), blank=True)
    prechat_fields = models.BooleanField(_("ask name and email before the chat"), default=False)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="en")
    # {"timezone": "Europe/Helsinki", "days": {"0": ["09:00", "17:00"], ...}} with 0 = Monday; empty = always open.
    business_hours = models.JSONField(_("business hours"), default=dict, blank=True)
    secret = EncryptedTextField(_("identity secret"), default=_secret)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("chat widget")
        verbose_name_plural = _("chat widgets")

    def __str__(self) -> str:
        return self.name


class SessionStatus(models.TextChoices):
    NEW = "new", _("New")
    BOT = "bot", _("With a bot")
    WAITING = "waiting", _("Waiting for an agent")
    OFFERED = "offered", _("Offered to an agent")
    QUEUED = "queued", _("Queued")
    ACTIVE = "active", _("Active")
    ENDED = "ended", _("Ended")


OPEN_SESSION_STATUSES = (SessionStatus.NEW, SessionStatus.BOT, SessionStatus.WAITING, SessionStatus.OFFERED, SessionStatus.QUEUED, SessionStatus.ACTIVE)


class ChatSession(models.Model):
    """One conversation in the widget. The ticket exists from the visitor's first message."""

    token_hash = models.CharField(max_length=64, db_index=True, editable=False)
    widget = models.ForeignKey(Widget, on_delete=models.CASCADE, related_name="sessions", verbose_name=_("widget"))
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("team"))
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="chat_sessions", verbose_name=_("ticket")
    )
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("contact"))
    identified = models.BooleanField(_("identity verified"), default=False)
    name = EncryptedTextField(_("name"), blank=True)
    email = EncryptedTextField(_("email"), blank=True)
    page_url = models.URLField(_("page"), max_length=1000, blank=True)
    referrer = models.URLField(_("referrer"), max_length=1000, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    locale = models.CharField(_("language"), max_length=16, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=SessionStatus.choices, default=SessionStatus.NEW)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    ended_by = models.CharField(_("ended by"), max_length=8, blank=True)  # visitor | agent
    assigned_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="chat_sessions",
        verbose_name=_("assigned agent"),
    )  # fmt: skip
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    offered_to = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    offered_at = models.DateTimeField(null=True, blank=True)
    passed_by = models.JSONField(default=list, blank=True)  # agents whose offer timed out this round
    queued_at = models.DateTimeField(null=True, blank=True)
    transcripts_sent = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("chat session")
        verbose_name_plural = _("chat sessions")
        indexes = [
            models.Index(fields=["status", "team", "queued_at"], name="chatsession_routing"),
            models.Index(fields=["assigned_agent", "status"], name="chatsession_agent_load"),
            models.Index(fields=["offered_to", "status"], name="chatsession_offers"),
        ]

    def __str__(self) -> str:
        return f"chat {self.pk} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_SESSION_STATUSES


class AgentChatState(models.Model):
    """Routing bookkeeping per agent: when they were last offered a chat (round robin on equal load)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_state")
    last_offered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("agent chat state")
        verbose_name_plural = _("agent chat states")

    def __str__(self) -> str:
        return f"chat state of {self.user_id}"


class CannedResponse(models.Model):
    """A saved reply. Personal (owner set), team (team set) or for everyone (neither)."""

    shortcut = models.SlugField(_("shortcut"), max_length=40, help_text=_("Typed after / in a composer."))
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("body"), help_text=_("Variables: {{contact.name}}, {{agent.name}}, {{ticket.id}}"))
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="canned_responses", verbose_name=_("team"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="canned_responses",
        verbose_name=_("owner"),
    )  # fmt: skip
    usage_count = models.PositiveIntegerField(_("times used"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["shortcut", "id"]
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")
        constraints = [
            models.UniqueConstraint(fields=["shortcut", "owner"], condition=Q(owner__isnull=False), name="canned_unique_personal"),
            models.UniqueConstraint(
                fields=["shortcut", "team"], condition=Q(owner__isnull=True, team__isnull=False), name="canned_unique_team"
            ),
            models.UniqueConstraint(fields=["shortcut"], condition=Q(owner__isnull=True, team__isnull=True), name="canned_unique_global"),
        ]

    def __str__(self) -> str:
        return f"/{self.shortcut}"


class RoomKind(models.TextChoices):
    TEAM = "team", _("Team room")
    DIRECT = "direct", _("Direct messages")


class Room(models.Model):
    """Internal chat between agents: one room per team, one per pair of agents."""

    kind = models.CharField(_("kind"), max_length=8, choices=RoomKind.choices)
    key = models.CharField(max_length=64, unique=True)  # "team:<id>" or "dm:<low uid>:<high uid>"
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="chat_rooms")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("internal chat room")
        verbose_name_plural = _("internal chat rooms")

    def __str__(self) -> str:
        return self.key


class InternalMessage(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField(_("text"))
    client_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        verbose_name = _("internal chat message")
        verbose_name_plural = _("internal chat messages")
        indexes = [models.Index(fields=["room", "id"], name="internal_room_id")]
        constraints = [
            models.UniqueConstraint(fields=["author", "client_id"], condition=~Q(client_id=""), name="internal_unique_client_id")
        ]

    def __str__(self) -> str:
        return f"internal {self.pk} in {self.room_id}"


class RoomRead(models.Model):
    """How far an agent has read a room (unread counts)."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    last_read_id = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="roomread_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.room_id} to {self.last_read_id}"
