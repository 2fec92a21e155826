"""Writes of the visitor side: sessions, messages through `tickets.ingest`, identity, ending, transcripts.

Every function is synchronous (consumers call them through `database_sync_to_async`), takes ids or plain
values, and announces changes after commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tickets import counters, events, services
from tickets.inbound import InboundMessage, ThreadHints
from tickets.models import AgentProfile, Availability, Direction, IdentityKind, Message, Status
from tickets.rows import get_by_pk

from . import conf, frames
from .hooks import consumed_by_flow
from .models import ChatSession, SessionStatus, Widget
from .tokens import new_token, token_hash, valid_token_shape, verify_identity

log = logging.getLogger(__name__)


class UnknownVisitor(Exception):
    """The token was not issued by this server for this widget."""


class ChatRefused(Exception):
    """The request cannot be done now; the message says why (shown to the user)."""


@dataclass(frozen=True)
class Welcome:
    session: ChatSession
    token: str
    history: list[dict[str, Any]]


# ---------------------------------------------------------------- sessions


def open_session(*, widget: Widget, token: Any, page_url: str = "", referrer: str = "", user_agent: str = "", locale: str = "") -> Welcome:
    """Start a visitor (token None) or resume their open conversation. Raises UnknownVisitor for a token
    this server did not issue for this widget. A visitor whose last chat ended gets a fresh session."""
    if token is None:
        token = new_token()
        session = ChatSession.objects.create(
            token_hash=token_hash(token), widget=widget, team_id=widget.team_id,
            page_url=_url(page_url), referrer=_url(referrer), user_agent=user_agent[:300], locale=locale[:16],
        )  # fmt: skip
        return Welcome(session, token, [])
    if not valid_token_shape(token):
        raise UnknownVisitor
    digest = token_hash(token)
    session = ChatSession.objects.filter(token_hash=digest, widget=widget).select_related("ticket").order_by("-id").first()
    if session is None:
        raise UnknownVisitor
    if not session.is_open:
        previous = session
        session = ChatSession.objects.create(
            token_hash=digest, widget=widget, team_id=widget.team_id, contact=previous.contact, identified=previous.identified,
            name=previous.name, email=previous.email, page_url=_url(page_url), referrer=_url(referrer),
            user_agent=user_agent[:300], locale=locale[:16] or previous.locale,
        )  # fmt: skip
        return Welcome(session, token, [])
    if page_url:
        ChatSession.objects.filter(pk=session.pk).update(page_url=_url(page_url))
    return Welcome(session, token, history(session_id=session.pk))


def history(*, session_id: int, after: int = 0) -> list[dict[str, Any]]:
    """What the visitor may read of their own conversation: never internal notes, never other tickets."""
    session = ChatSession.objects.get(pk=session_id)
    if session.ticket_id is None:
        return []
    messages = (
        Message.objects.filter(ticket_id=session.ticket_id, pk__gt=after)
        .exclude(direction=Direction.NOTE)
        .select_related("author_agent")
        .order_by("id")
    )
    # A reconnect replays what was missed (bounded); a fresh welcome shows the latest page.
    messages = messages[:500] if after else list(messages.reverse()[: conf.HISTORY_LIMIT])[::-1]
    return [f for m in messages if (f := frames.visitor_message(m)) is not None]


def save_prechat(*, session_id: int, name: str, email: str) -> None:
    name, email = " ".join(str(name or "").split())[:200], str(email or "").strip()[:254]
    if email and ("@" not in email or " " in email):
        raise ChatRefused(_("Please enter a valid email address."))
    ChatSession.objects.filter(pk=session_id).update(name=name, email=email)


def identify(*, session_id: int, payload: Any, signature: Any) -> bool:
    """Link the session to the contact the site vouches for (HMAC with the widget secret).

    Without a valid signature nothing changes: the visitor stays anonymous and is never merged."""
    session = ChatSession.objects.select_related("widget").get(pk=session_id)
    claims = verify_identity(session.widget.secret, payload, signature)
    if claims is None:
        return False
    with transaction.atomic():
        contact = services.resolve_contact(kind=IdentityKind.EMAIL, address=claims["email"], name=claims["name"])
        if claims["attributes"]:
            contact.attributes = {**(contact.attributes or {}), **claims["attributes"]}
            contact.save(update_fields=["attributes"])
        ChatSession.objects.filter(pk=session.pk).update(
            contact=contact, identified=True, email=claims["email"], name=claims["name"] or session.name
        )
    return True


# ---------------------------------------------------------------- messages


@dataclass(frozen=True)
class Posted:
    message_id: int
    ticket_id: int
    new_ticket: bool
    frame: dict[str, Any]


def post_message(*, session_id: int, client_id: str, text: str) -> Posted:
    """Store a visitor message through `tickets.ingest` (idempotent per visitor and client id), then let a
    chat flow take it or route the chat to an agent. Returns after commit."""
    # Every visitor message reads its session: a prepared statement (tickets.rows), no join to the widget (a
    # steady chat never needs it; a chat flow reading it loads it once).
    session = get_by_pk(ChatSession, session_id)
    if not session.is_open:
        raise ChatRefused(_("This chat has ended."))
    if session.identified and session.email:
        sender_kind, sender_address, extra_email = IdentityKind.EMAIL, session.email, ""
    else:
        # Anonymous: the contact is keyed by the token hash; a typed email is attached only if nobody owns it.
        sender_kind, sender_address, extra_email = IdentityKind.VISITOR, session.token_hash, session.email
    inbound = InboundMessage(
        channel="chat",
        external_id=f"v:{session.token_hash[:32]}:{client_id}",
        sender_kind=sender_kind,
        sender_address=sender_address,
        sender_name=session.name,
        text=text,
        thread=ThreadHints(ticket_id=session.ticket_id, continue_latest=False),
        team_id=session.team_id or session.widget.team_id,
        contact_email=extra_email,
        meta={"chat_session": session.pk},
    )
    stored = services.ingest_grouped(inbound)
    message = stored.message
    new_ticket = False
    if session.ticket_id != message.ticket_id:
        new_ticket = session.ticket_id is None
        ChatSession.objects.filter(pk=session.pk).update(ticket_id=message.ticket_id, contact_id=message.author_contact_id)
        session.ticket_id = message.ticket_id
    # A resend (the widget lost the ack) returns the stored message and must not run a chat flow again: a
    # button answered twice would skip a step or repeat the bot's answer.
    if session.status in (SessionStatus.NEW, SessionStatus.BOT) and not stored.duplicate:
        _after_visitor_message(session, message)
    return Posted(message.pk, message.ticket_id, new_ticket, frames.visitor_message(message) or {})


def _after_visitor_message(session: ChatSession, message: Message) -> None:
    from .assignment import request_agent

    if consumed_by_flow(session, message):
        if session.status == SessionStatus.NEW:
            ChatSession.objects.filter(pk=session.pk, status=SessionStatus.NEW).update(status=SessionStatus.BOT)
        return
    request_agent(session_id=session.pk)


def visitor_allowed(*, token_digest: str) -> bool:
    """Per-visitor message budget across all their tabs and server processes (a Redis counter)."""
    limit, window = conf.visitor_message_limit()
    key = f"chat:rate:{token_digest[:32]}:{int(timezone.now().timestamp()) // window}"
    return counters.hit(key, window=window * 2) <= limit


# ---------------------------------------------------------------- ending


def end_session(*, session_id: int, by: str, agent=None, resolve: bool = False) -> ChatSession:
    """End the chat (either side). The agent may also resolve the ticket. Publishes `chat.ended` once."""
    from .assignment import reroute_team

    with transaction.atomic():
        session = ChatSession.objects.select_for_update().get(pk=session_id)
        was_open = session.is_open
        if was_open:
            session.status = SessionStatus.ENDED
            session.ended_at = timezone.now()
            session.ended_by = by
            session.offered_to = None
            session.save(update_fields=["status", "ended_at", "ended_by", "offered_to"])
        if resolve and session.ticket_id:
            ticket = session.ticket
            if ticket.status in (Status.NEW, Status.OPEN, Status.PENDING):
                services.set_status(ticket=ticket, actor=agent, status=Status.RESOLVED)
        if was_open:
            groups = [frames.visitor_group(session.pk)]
            if session.ticket_id:
                groups.append(f"ticket.{session.ticket_id}")
            if session.assigned_agent_id:
                groups.append(f"agent.{session.assigned_agent_id}")
            frame = {"type": "ended", "session": session.pk, "ticket": session.ticket_id, "by": by}
            transaction.on_commit(partial(events.send_to_groups, groups, frame))
            events.publish(
                "chat.ended",
                groups=[],
                frame=None,
                data={"ticket_id": session.ticket_id, "session_id": session.pk, "agent_id": session.assigned_agent_id},
            )
            if session.team_id:
                transaction.on_commit(partial(reroute_team, session.team_id))
    return session


def send_transcript(*, session_id: int, email: str) -> None:
    """Email the visitor their conversation (no internal notes). At most three per session."""
    email = str(email or "").strip()
    if "@" not in email or len(email) > 254 or any(c in email for c in " \r\n,;<>"):
        raise ChatRefused(_("Please enter a valid email address."))
    updated = ChatSession.objects.filter(pk=session_id, transcripts_sent__lt=3).update(transcripts_sent=F("transcripts_sent") + 1)
    if not updated:
        raise ChatRefused(_("The transcript has already been sent."))
    session = ChatSession.objects.select_related("widget").get(pk=session_id)
    with translation.override(session.locale[:2] if session.locale[:2] in ("en", "fi") else session.widget.language):
        lines = []
        for item in history(session_id=session_id):
            who = {"visitor": _("You"), "bot": _("Bot")}.get(item["author"], item["name"] or _("Agent"))
            lines.append(f"[{item['created_at'][:16].replace('T', ' ')}] {who}: {item['text']}")
        subject = _("Your chat with %(name)s") % {"name": session.widget.name}
        body = "\n\n".join(lines) or _("The conversation is empty.")
    try:
        from mail.connection import email_backend_kwargs

        connection = get_connection(**email_backend_kwargs())
    except ImportError:
        connection = get_connection()
    EmailMessage(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[email], connection=connection).send()


def offline_message(*, widget: Widget, name: str, email: str, text: str, client_id: str, session_id: int | None = None) -> int:
    """The offline form: no agent online, so the visitor's message opens an email ticket.

    A visitor who was already waiting in line (say after a chat flow handed over to a team nobody of which is
    online) leaves the line: their chat ends quietly, and its ticket gets a note pointing to the email ticket."""
    email = str(email or "").strip()
    if "@" not in email or " " in email or len(email) > 254:
        raise ChatRefused(_("Please enter a valid email address."))
    text = str(text or "").strip()
    if not text:
        raise ChatRefused(_("Please write a message."))
    message = services.ingest(
        InboundMessage(
            channel="email",
            external_id=f"chat-offline:{widget.public_key}:{client_id}"[:255],
            sender_kind=IdentityKind.EMAIL,
            sender_address=email,
            sender_name=" ".join(str(name or "").split())[:200],
            subject=_("Chat message from %(widget)s") % {"widget": widget.name},
            text=text,
            thread=ThreadHints(continue_latest=False),
            team_id=widget.team_id,
            meta={"chat_offline": True},
        )
    )
    if session_id is not None:
        _leave_queue_for_email(session_id, message.ticket_id)
    return message.ticket_id


def _leave_queue_for_email(session_id: int, email_ticket_id: int) -> None:
    """No agent ever had this chat, so no `chat.ended` (no survey): it just leaves the line. Idempotent."""
    from .assignment import WAITING_STATUSES, publish_queue_positions

    with transaction.atomic():
        session = ChatSession.objects.select_for_update().filter(pk=session_id, status__in=WAITING_STATUSES, ticket__isnull=False).first()
        if session is None:
            return
        session.status = SessionStatus.ENDED
        session.ended_at = timezone.now()
        session.ended_by = "visitor"
        session.save(update_fields=["status", "ended_at", "ended_by"])
        with translation.override(settings.LANGUAGE_CODE):
            note = _("The visitor left a message by email instead of waiting: ticket #%(ticket)s.") % {"ticket": email_ticket_id}
        services.reply(ticket=session.ticket, agent=None, text=note, internal=True)
        if session.team_id:
            transaction.on_commit(partial(publish_queue_positions, session.team_id))


# ---------------------------------------------------------------- availability and hours


def agents_online(*, team_id: int) -> bool:
    return AgentProfile.objects.filter(
        availability=Availability.ONLINE, user__is_active=True, user__helpdesk_teams__id=team_id
    ).exists()


def within_business_hours(widget: Widget, now: datetime | None = None) -> bool:
    hours = widget.business_hours or {}
    days = hours.get("days") if isinstance(hours, dict) else None
    if not days:
        return True
    try:
        zone = ZoneInfo(str(hours.get("timezone") or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = (now or timezone.now()).astimezone(zone)
    span = days.get(str(local.weekday()))
    if not span or len(span) != 2:
        return False
    clock = local.strftime("%H:%M")
    return str(span[0]) <= clock < str(span[1])


def flow_active(widget: Widget) -> bool:
    """A chat flow (assist app, when installed) answers this widget's visitors before any agent does."""
    from django.apps import apps

    if not apps.is_installed("assist"):
        return False
    try:
        from assist.flows.engine import flow_for_widget
    except ImportError:
        return False
    flow = flow_for_widget(widget.pk)
    return flow is not None and flow.live_version() is not None


def widget_open(widget: Widget) -> bool:
    """Live chat is offered when within business hours and someone of the team is online."""
    return within_business_hours(widget) and agents_online(team_id=widget.team_id)


def _url(value: Any) -> str:
    value = str(value or "")[:1000]
    return value if value.startswith(("http://", "https://")) else ""
