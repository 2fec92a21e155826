"""Reads of the ticket stream, always on behalf of an agent: what they may not see does not exist."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet

from .models import ACTIVE_STATUSES, Contact, Message, Role, Ticket


def is_agent(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and (user.is_superuser or hasattr(user, "agent")))


def sees_everything(user) -> bool:
    if user.is_superuser:
        return True
    profile = getattr(user, "agent", None)
    return profile is not None and profile.role == Role.ADMIN


def team_ids(user) -> list[int]:
    cached = getattr(user, "_helpdesk_team_ids", None)
    if cached is None:
        cached = list(user.helpdesk_teams.values_list("id", flat=True))
        user._helpdesk_team_ids = cached
    return cached


def visible_tickets(*, agent: AbstractBaseUser) -> QuerySet[Ticket]:
    """Tickets of the agent's teams and tickets assigned to them; admins see all. Merged tickets hidden."""
    if not is_agent(agent):
        return Ticket.objects.none()
    qs = Ticket.objects.all()
    if not sees_everything(agent):
        qs = qs.filter(Q(team_id__in=team_ids(agent)) | Q(assignee_id=agent.pk))
    return qs


def ticket_for_agent(*, agent: AbstractBaseUser, ticket_id: int) -> Ticket:
    """The ticket, or Ticket.DoesNotExist when it does not exist for this agent (callers answer 404)."""
    return visible_tickets(agent=agent).select_related("contact", "team", "assignee").get(pk=ticket_id)


def can_see_ticket(*, agent: AbstractBaseUser, ticket_id: int) -> bool:
    return visible_tickets(agent=agent).filter(pk=ticket_id).exists()


@dataclass(frozen=True)
class QueueFilters:
    status: tuple[str, ...] = ACTIVE_STATUSES
    channel: str = ""
    assignee: str = ""  # "", "me", "none", or a user id
    team: int | None = None
    tag: str = ""
    q: str = ""
    ordering: str = "-last_message_at"


ORDERINGS = {
    "-last_message_at": ("-last_message_at", "-id"),
    "last_message_at": ("last_message_at", "id"),
    "-created_at": ("-created_at", "-id"),
    "created_at": ("created_at", "id"),
    "-id": ("-id",),
    "priority": ("-priority", "-last_message_at", "-id"),
}


def queue(*, agent: AbstractBaseUser, filters: QueueFilters) -> QuerySet[Ticket]:
    """The unified queue across all channels, ready to paginate (no N+1: related rows are joined)."""
    qs = visible_tickets(agent=agent).filter(merged_into__isnull=True)
    if filters.status:
        qs = qs.filter(status__in=filters.status)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.team:
        qs = qs.filter(team_id=filters.team)
    if filters.assignee == "me":
        qs = qs.filter(assignee_id=agent.pk)
    elif filters.assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    elif filters.assignee.isdigit():
        qs = qs.filter(assignee_id=int(filters.assignee))
    if filters.tag:
        qs = qs.filter(tags__name=filters.tag)
    if filters.q:
        qs = _search(qs, filters.q)
    ordering = ORDERINGS.get(filters.ordering, ORDERINGS["-last_message_at"])
    return qs.select_related("contact", "team", "assignee").prefetch_related("tags").order_by(*ordering)


def _search(qs: QuerySet[Ticket], q: str) -> QuerySet[Ticket]:
    q = q.strip()
    if q.lstrip("#").isdigit():
        return qs.filter(pk=int(q.lstrip("#")))
    # Subjects and message text; contact fields are encrypted and found by exact email/phone instead.
    from .crypto import blind_indexes

    hashes = blind_indexes(q)
    return qs.filter(
        Q(subject__icontains=q)
        | Q(contact__email_hash__in=hashes)
        | Q(contact__phone_hash__in=hashes)
        | Q(pk__in=Message.objects.filter(text__icontains=q).values("ticket_id")[:500])
    )


def timeline(*, ticket: Ticket) -> QuerySet[Message]:
    return (
        Message.objects.filter(ticket=ticket)
        .select_related("author_agent", "author_contact", "ticket")
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    )


def messages_after(*, agent: AbstractBaseUser, after: int, ticket_ids: list[int] | None = None, limit: int = 500) -> list[Message]:
    """What an agent missed since message `after` on tickets they may see (for `resume`)."""
    visible = visible_tickets(agent=agent)
    if ticket_ids is not None:
        visible = visible.filter(pk__in=ticket_ids)
    return list(
        Message.objects.filter(pk__gt=after, ticket__in=visible.values("pk"))
        .select_related("author_agent", "author_contact", "ticket")
        .prefetch_related("attachments")
        .order_by("id")[:limit]
    )


def contact_tickets(*, agent: AbstractBaseUser, contact: Contact) -> QuerySet[Ticket]:
    """The customer's other tickets on every channel, as far as this agent may see them."""
    return visible_tickets(agent=agent).filter(contact=contact).select_related("team").order_by("-last_message_at")
