"""Routing chats to agents: least-loaded online agent of the team, round robin on ties, capacity per agent
(`AgentProfile.max_chats`), offers that time out and move on, a queue with positions, transfers.

State lives in the database (ChatSession), so any web process can route, accept or expire an offer. Routing
for a team is serialised by locking the team's row: two chats never both take an agent's last free slot.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets import events, selectors, services
from tickets.models import AgentProfile, Availability, Team, Ticket
from tickets.representations import agent_name

from . import conf, frames
from .models import AgentChatState, ChatSession, SessionStatus
from .services import ChatRefused

log = logging.getLogger(__name__)

WAITING_STATUSES = (SessionStatus.WAITING, SessionStatus.QUEUED)


def request_agent(*, session_id: int) -> None:
    """The visitor wants a person: put the chat in line and route it."""
    updated = ChatSession.objects.filter(pk=session_id, status__in=(SessionStatus.NEW, SessionStatus.BOT)).update(
        status=SessionStatus.WAITING, queued_at=timezone.now()
    )
    if updated:
        route(session_id=session_id)


def route(*, session_id: int) -> str:
    """Offer a waiting chat to the least-loaded online agent with a free slot; else queue it.
    Returns the session's status afterwards."""
    with transaction.atomic():
        session = ChatSession.objects.select_related("ticket").get(pk=session_id)
        if session.team_id:
            Team.objects.select_for_update().filter(pk=session.team_id).first()
        session = ChatSession.objects.select_for_update().get(pk=session_id)
        if session.status not in WAITING_STATUSES:
            return session.status
        candidates = _candidates(session.team_id)
        fresh = [c for c in candidates if c["user_id"] not in session.passed_by]
        if candidates and not fresh:
            session.passed_by = []  # everyone had their turn: start a new round
            fresh = candidates
        free = [c for c in fresh if c["load"] < c["max_chats"]]
        if not free:
            session.status = SessionStatus.QUEUED
            session.save(update_fields=["status", "passed_by"])
            transaction.on_commit(partial(publish_queue_positions, session.team_id))
            return session.status
        chosen = min(free, key=_fairness)
        now = timezone.now()
        session.status = SessionStatus.OFFERED
        session.offered_to_id = chosen["user_id"]
        session.offered_at = now
        session.save(update_fields=["status", "offered_to", "offered_at", "passed_by"])
        AgentChatState.objects.update_or_create(user_id=chosen["user_id"], defaults={"last_offered_at": now})
        frame = offer_frame(session)
        transaction.on_commit(partial(events.send_to_groups, [f"agent.{chosen['user_id']}"], frame))
        transaction.on_commit(partial(publish_queue_positions, session.team_id))
        return session.status


def _fairness(candidate: dict[str, Any]) -> tuple:
    """Least loaded first; on equal load whoever was offered a chat longest ago (round robin)."""
    last = candidate["last_offered_at"]
    return (candidate["load"], last.timestamp() if last else 0.0, candidate["user_id"])


def offer_frame(session: ChatSession) -> dict[str, Any]:
    ticket = session.ticket
    first = ticket.messages.order_by("id").values_list("text", flat=True).first() if ticket else ""
    return {
        "type": "chat_offer",
        "ticket": session.ticket_id,
        "session": session.pk,
        "contact_name": str(ticket.contact) if ticket else "",
        "subject": ticket.subject if ticket else "",
        "preview": (first or "")[:200],
        "expires_in": conf.offer_timeout(),
    }


def _candidates(team_id: int | None) -> list[dict[str, Any]]:
    """Online agents of the team with their current load (active chats plus pending offers)."""
    if team_id is None:
        return []
    users = (
        get_user_model()
        .objects.filter(is_active=True, helpdesk_teams__id=team_id, agent__availability=Availability.ONLINE)
        .annotate(
            active=Count("chat_sessions", filter=Q(chat_sessions__status=SessionStatus.ACTIVE), distinct=True),
        )
        .values("pk", "active", "agent__max_chats", "chat_state__last_offered_at")
    )
    offers = dict(
        ChatSession.objects.filter(status=SessionStatus.OFFERED, offered_to__isnull=False)
        .values_list("offered_to")
        .annotate(n=Count("id"))
    )
    return [
        {
            "user_id": u["pk"],
            "load": u["active"] + offers.get(u["pk"], 0),
            "max_chats": u["agent__max_chats"],
            "last_offered_at": u["chat_state__last_offered_at"],
        }
        for u in users
    ]


def publish_queue_positions(team_id: int | None) -> None:
    """Tell every waiting visitor of the team their place in line."""
    if team_id is None:
        return
    waiting = list(
        ChatSession.objects.filter(team_id=team_id, status__in=(*WAITING_STATUSES, SessionStatus.OFFERED))
        .order_by("queued_at", "id")
        .values_list("pk", "ticket_id", "status")
    )
    online = AgentProfile.objects.filter(availability=Availability.ONLINE, user__helpdesk_teams__id=team_id).exists()
    for position, (session_id, ticket_id, status) in enumerate(waiting, start=1):
        frame = {"type": "queue", "position": position, "status": status, "online": online}
        groups = [frames.visitor_group(session_id)] + ([frames.customer_group(ticket_id)] if ticket_id else [])
        events.send_to_groups(groups, frame)


def reroute_team(team_id: int) -> None:
    """Capacity was freed or an agent came online: offer waiting chats of the team, oldest first."""
    waiting = list(
        ChatSession.objects.filter(team_id=team_id, status__in=WAITING_STATUSES).order_by("queued_at", "id").values_list("pk", flat=True)[:50]
    )
    for session_id in waiting:
        if route(session_id=session_id) == SessionStatus.QUEUED:
            break


def expire_offers() -> int:
    """Offers not accepted within the timeout move on to the next agent. Safe to run in every process."""
    cutoff = timezone.now() - timedelta(seconds=conf.offer_timeout())
    expired = []
    with transaction.atomic():
        for session in ChatSession.objects.select_for_update(skip_locked=True).filter(
            status=SessionStatus.OFFERED, offered_at__lt=cutoff
        ):
            expired.append(session.pk)
            _withdraw(session)
    for session_id in expired:
        route(session_id=session_id)
    return len(expired)


def _withdraw(session: ChatSession) -> None:
    agent_id = session.offered_to_id
    session.passed_by = [*session.passed_by, agent_id] if agent_id else session.passed_by
    session.status = SessionStatus.WAITING
    session.offered_to = None
    session.save(update_fields=["passed_by", "status", "offered_to"])
    if agent_id:
        frame = {"type": "offer_withdrawn", "ticket": session.ticket_id, "session": session.pk}
        transaction.on_commit(partial(events.send_to_groups, [f"agent.{agent_id}"], frame))


def on_availability(kind: str, data: dict[str, Any]) -> None:
    """Listener for `agent.availability`: route waiting chats when someone comes online; take back offers
    from someone who leaves."""
    agent_id, status = data.get("agent_id"), data.get("status")
    if not agent_id:
        return
    if status != Availability.ONLINE:
        with transaction.atomic():
            offered = list(ChatSession.objects.select_for_update(skip_locked=True).filter(status=SessionStatus.OFFERED, offered_to_id=agent_id))
            for session in offered:
                _withdraw(session)
        for session in offered:
            route(session_id=session.pk)
    for team_id in Team.objects.filter(members__pk=agent_id).values_list("pk", flat=True):
        reroute_team(team_id)
        publish_queue_positions(team_id)


# ---------------------------------------------------------------- agent actions


def session_for_ticket(ticket_id: int) -> ChatSession:
    session = ChatSession.objects.filter(ticket_id=ticket_id).order_by("-id").first()
    if session is None:
        raise ChatRefused(_("This ticket has no chat."))
    return session


def accept(*, agent, ticket: Ticket) -> ChatSession:
    """The agent takes the chat: their own offer, or a waiting chat while they have a free slot."""
    session = session_for_ticket(ticket.pk)
    with transaction.atomic():
        if session.team_id:
            Team.objects.select_for_update().filter(pk=session.team_id).first()
        session = ChatSession.objects.select_for_update().get(pk=session.pk)
        if session.status == SessionStatus.ACTIVE and session.assigned_agent_id == agent.pk:
            return session
        own_offer = session.status == SessionStatus.OFFERED and session.offered_to_id == agent.pk
        if not own_offer:
            # Picking a chat up from the line (or someone else's pending offer) needs a free slot.
            if session.status not in (*WAITING_STATUSES, SessionStatus.OFFERED, SessionStatus.BOT, SessionStatus.NEW):
                raise ChatRefused(_("This chat is no longer waiting."))
            if _load(agent.pk) >= _max_chats(agent):
                raise ChatRefused(_("You already have as many chats as you can take."))
            if session.status == SessionStatus.OFFERED and session.offered_to_id:
                _withdraw(session)
        _assign(session, agent, actor=agent)
    return session


def _assign(session: ChatSession, agent, *, actor) -> None:
    session.status = SessionStatus.ACTIVE
    session.assigned_agent = agent
    session.accepted_at = session.accepted_at or timezone.now()
    session.offered_to = None
    session.passed_by = []
    session.save(update_fields=["status", "assigned_agent", "accepted_at", "offered_to", "passed_by"])
    if session.ticket_id:
        services.assign(ticket=session.ticket, actor=actor, assignee=agent)
        frame = {"type": "assigned", "agent": agent.first_name or agent_name(agent)}
        group = frames.customer_group(session.ticket_id)
        transaction.on_commit(partial(events.send_to_groups, [group], frame, assignee_id=agent.pk))
    transaction.on_commit(partial(publish_queue_positions, session.team_id))


def transfer(*, agent, ticket: Ticket, to_agent_id: int | None = None, to_team_id: int | None = None, note: str = "") -> ChatSession:
    """Hand the chat to another agent (directly) or to a team (routed again), leaving an internal note."""
    session = session_for_ticket(ticket.pk)
    if not session.is_open:
        raise ChatRefused(_("This chat has ended."))
    if session.assigned_agent_id not in (None, agent.pk) and not _is_manager(agent):
        raise ChatRefused(_("Only the agent in the chat or a supervisor can transfer it."))
    User = get_user_model()
    target = team = None
    if to_agent_id:
        target = User.objects.filter(pk=to_agent_id, is_active=True, agent__isnull=False).first()
        if target is None:
            raise ChatRefused(_("Unknown agent."))
        label = agent_name(target)
    elif to_team_id:
        team = Team.objects.filter(pk=to_team_id).first()
        if team is None:
            raise ChatRefused(_("Unknown team."))
        label = team.name
    else:
        raise ChatRefused(_("Choose an agent or a team."))
    previous = session.assigned_agent_id
    text = _("Chat transferred to %(target)s by %(agent)s.") % {"target": label, "agent": agent_name(agent)}
    if note.strip():
        text += "\n" + note.strip()
    with transaction.atomic():
        session = ChatSession.objects.select_for_update().get(pk=session.pk)
        services.reply(ticket=session.ticket, agent=agent, text=text, internal=True)
        if target is not None:
            _assign(session, target, actor=agent)
            frame = {"type": "chat_transferred", "ticket": session.ticket_id, "session": session.pk, "from": agent_name(agent), "note": note.strip()[:2000]}
            transaction.on_commit(partial(events.send_to_groups, [f"agent.{target.pk}"], frame))
        else:
            services.set_team(ticket=session.ticket, actor=agent, team=team)
            services.assign(ticket=session.ticket, actor=agent, assignee=None)
            session.team = team
            session.status = SessionStatus.WAITING
            session.assigned_agent = None
            session.offered_to = None
            session.passed_by = []
            session.queued_at = timezone.now()
            session.save(update_fields=["team", "status", "assigned_agent", "offered_to", "passed_by", "queued_at"])
            group = frames.customer_group(session.ticket_id)
            transaction.on_commit(partial(events.send_to_groups, [group], {"type": "assigned", "agent": None}, assignee_id=None))
            transaction.on_commit(partial(route, session_id=session.pk))
        if previous and previous != (target.pk if target else None):
            frame = {"type": "chat_released", "ticket": session.ticket_id, "session": session.pk}
            transaction.on_commit(partial(events.send_to_groups, [f"agent.{previous}"], frame))
    return session


def active_chats(*, agent) -> list[ChatSession]:
    """The agent's open chats and pending offers, for the workspace."""
    return list(
        ChatSession.objects.filter(
            Q(assigned_agent=agent, status=SessionStatus.ACTIVE) | Q(offered_to=agent, status=SessionStatus.OFFERED)
        )
        .select_related("ticket__contact", "widget")
        .order_by("accepted_at", "id")
    )


def _load(user_id: int) -> int:
    return ChatSession.objects.filter(
        Q(assigned_agent_id=user_id, status=SessionStatus.ACTIVE) | Q(offered_to_id=user_id, status=SessionStatus.OFFERED)
    ).count()


def _max_chats(user) -> int:
    profile = AgentProfile.objects.filter(user=user).values_list("max_chats", flat=True).first()
    return profile if profile is not None else 4


def _is_manager(user) -> bool:
    profile = getattr(user, "agent", None)
    return user.is_superuser or (profile is not None and profile.is_manager) or selectors.sees_everything(user)


def decline(*, agent, ticket_id: int) -> None:
    """The agent passes on an offer: it moves on to the next agent now instead of after the timeout."""
    with transaction.atomic():
        session = ChatSession.objects.select_for_update().filter(ticket_id=ticket_id, status=SessionStatus.OFFERED, offered_to=agent).first()
        if session is None:
            raise ChatRefused(_("There is no offer to decline."))
        _withdraw(session)
    route(session_id=session.pk)
