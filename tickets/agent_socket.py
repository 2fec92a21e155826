"""Synchronous operations behind `/ws/agent/` frames (run via database_sync_to_async).

Each takes the acting user and ids from the frame, checks access through the selectors, and calls a service.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.utils.crypto import constant_time_compare

from . import events, selectors, services
from .models import AgentProfile, Availability, Ticket
from .representations import message_dict

HISTORY_LIMIT = 200


class Forbidden(Exception):
    """The ticket does not exist for this agent."""


@dataclass(frozen=True)
class Access:
    groups: tuple[str, ...]


def load_access(user) -> Access | None:
    if user is None or not selectors.is_agent(user):
        return None
    user = get_user_model().objects.get(pk=user.pk)
    if not selectors.is_agent(user):
        return None
    groups = [f"agent.{user.pk}"]
    if selectors.sees_everything(user):
        groups.append("admins")
    groups += [events.team_group(team_id) for team_id in selectors.team_ids(user)]
    return Access(groups=tuple(groups))


def _ticket(user, ticket_id: int) -> Ticket:
    try:
        return selectors.ticket_for_agent(agent=user, ticket_id=ticket_id)
    except Ticket.DoesNotExist:
        raise Forbidden from None


def send_message(user, ticket_id: int, text: str, internal: bool, client_id: str) -> int:
    ticket = _ticket(user, ticket_id)
    return services.reply(ticket=ticket, agent=user, text=text, internal=internal, client_id=client_id).pk


def agent_typing(user, ticket_id: int, active: bool) -> None:
    _ticket(user, ticket_id)
    name = user.get_full_name() or user.get_username()
    # Colleagues watching the ticket see who is typing; the customer's side sees only that someone is.
    events.send_to_groups([f"ticket.{ticket_id}"], {"type": "agent_typing", "ticket": ticket_id, "agent": {"id": user.pk, "name": name}, "active": active})
    events.send_to_groups([f"customer.{ticket_id}"], {"type": "agent_typing", "active": active})


def watch(user, ticket_id: int) -> list[dict[str, Any]]:
    ticket = _ticket(user, ticket_id)
    services.mark_read(ticket=ticket)
    messages = list(selectors.timeline(ticket=ticket))[-HISTORY_LIMIT:]
    return [message_dict(m) for m in messages]


def resume(user, after: int, watching: list[int]) -> list[dict[str, Any]]:
    assigned = list(
        selectors.visible_tickets(agent=user).filter(assignee_id=user.pk, status__in=("new", "open", "pending")).values_list("pk", flat=True)[:200]
    )
    ticket_ids = sorted(set(watching) | set(assigned))
    return [message_dict(m) for m in selectors.messages_after(agent=user, after=after, ticket_ids=ticket_ids)]


def still_visible(user, ticket_ids: list[int]) -> list[int]:
    return list(selectors.visible_tickets(agent=user).filter(pk__in=ticket_ids).values_list("pk", flat=True))


def set_availability(user, status: str) -> str:
    if status not in Availability.values:
        raise ValueError("availability")
    AgentProfile.objects.filter(user=user).update(availability=status)
    events.publish("agent.availability", groups=[f"agent.{user.pk}"], frame=None, data={"agent_id": user.pk, "status": status})
    return status


def session_valid(user_id: int, session_key: str) -> bool:
    """The session still exists, belongs to this active user, and predates no password change."""
    store = SessionStore(session_key=session_key)
    data = store.load()
    if str(data.get(SESSION_KEY)) != str(user_id):
        return False
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    return constant_time_compare(data.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash())
