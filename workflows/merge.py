"""Merge and split tickets, and undo either within a time window.

Merge moves every message (attachments follow their message) and every event of the source under the
target; the timeline orders by time, so the combined history reads in order. The source stays as a pointer
(`merged_into`): its page redirects and the API answers with the target id. Split moves one message and
everything after it into a new ticket. Both are recorded (`TicketMove`) with the ids they moved, so undo
moves exactly those back; what arrived since stays where it is.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets import events, services
from tickets.models import Direction, Message, Status, Ticket, TicketEvent
from tickets.representations import ticket_dict

from .models import Operation, TicketMove

UNDO_SECONDS = getattr(settings, "WORKFLOWS_UNDO_SECONDS", 15 * 60)


class MergeError(ValueError):
    """The merge, split or undo cannot happen; the text says why."""


def merge(*, source: Ticket, target: Ticket, actor, allow_other_contact: bool = False) -> TicketMove:
    """Merge `source` into `target` (the caller has checked the actor may see both)."""
    if source.pk == target.pk:
        raise MergeError(_("A ticket cannot be merged into itself."))
    with transaction.atomic():
        first, second = sorted([source.pk, target.pk])
        locked = {t.pk: t for t in Ticket.objects.select_for_update().filter(pk__in=[first, second]).order_by("pk")}
        source, target = locked[source.pk], locked[target.pk]
        if source.merged_into_id:
            raise MergeError(_("Ticket #%(id)d is already merged.") % {"id": source.pk})
        if target.merged_into_id:
            raise MergeError(_("Ticket #%(id)d is merged into another ticket; merge into that one.") % {"id": target.pk})
        if source.contact_id != target.contact_id and not allow_other_contact:
            raise MergeError(_("The tickets belong to different customers; confirm to merge across customers."))
        message_ids = list(Message.objects.filter(ticket=source).values_list("pk", flat=True))
        event_ids = list(TicketEvent.objects.filter(ticket=source).values_list("pk", flat=True))
        Message.objects.filter(pk__in=message_ids).update(ticket=target)
        TicketEvent.objects.filter(pk__in=event_ids).update(ticket=target)
        move = TicketMove.objects.create(
            kind=Operation.MERGE, source=source, target=target, message_ids=message_ids, event_ids=event_ids,
            previous={"status": source.status}, actor=actor,
        )  # fmt: skip
        source.merged_into = target
        source.save(update_fields=["merged_into"])
        if source.is_active:
            services.set_status(ticket=source, actor=actor, status=Status.CLOSED)
        tags = list(source.tags.values_list("name", flat=True))
        if tags:
            services.set_tags(ticket=target, actor=actor, add=tags)
        _refresh(target)
        TicketEvent.objects.create(ticket=target, kind="merged", actor=actor, data={"from": source.pk, "messages": len(message_ids), "move": move.pk})
        TicketEvent.objects.create(ticket=source, kind="merged_into", actor=actor, data={"into": target.pk, "move": move.pk})
        _announce(source, target)
    return move


def split(*, ticket: Ticket, from_message: Message, actor) -> TicketMove:
    """Move `from_message` and every later message of `ticket` into a new ticket."""
    if from_message.ticket_id != ticket.pk:
        raise MergeError(_("That message is not on this ticket."))
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if ticket.merged_into_id:
            raise MergeError(_("A merged ticket cannot be split."))
        later = Message.objects.filter(ticket=ticket).filter(
            _after(from_message)
        ).order_by("created_at", "id")
        message_ids = list(later.values_list("pk", flat=True))
        if len(message_ids) == Message.objects.filter(ticket=ticket).count():
            raise MergeError(_("Splitting from the first message would leave the ticket empty."))
        new = Ticket.objects.create(
            subject=ticket.subject, channel=from_message.channel, contact=from_message.author_contact or ticket.contact,
            team=ticket.team, priority=ticket.priority, status=Status.OPEN, created_at=from_message.created_at,
            last_message_at=from_message.created_at,
        )  # fmt: skip
        Message.objects.filter(pk__in=message_ids).update(ticket=new)
        TicketEvent.objects.create(ticket=new, kind="created", actor=actor, data={"channel": new.channel, "split_from": ticket.pk})
        move = TicketMove.objects.create(kind=Operation.SPLIT, source=ticket, target=new, message_ids=message_ids, actor=actor)
        _refresh(ticket)
        _refresh(new)
        TicketEvent.objects.create(ticket=ticket, kind="split", actor=actor, data={"into": new.pk, "messages": len(message_ids), "move": move.pk})
        _announce(ticket)
        _announce(new, created=True)
    return move


def undo(*, move: TicketMove, actor) -> TicketMove:
    """Reverse a merge or split within UNDO_SECONDS."""
    with transaction.atomic():
        move = TicketMove.objects.select_for_update().get(pk=move.pk)
        if move.undone_at is not None:
            raise MergeError(_("This was already undone."))
        if timezone.now() - move.created_at > timedelta(seconds=UNDO_SECONDS):
            raise MergeError(_("Too late to undo: the undo window has passed."))
        locked = {t.pk: t for t in Ticket.objects.select_for_update().filter(pk__in=[move.source_id, move.target_id]).order_by("pk")}
        source, target = locked[move.source_id], locked[move.target_id]
        if move.kind == Operation.MERGE:
            Message.objects.filter(pk__in=move.message_ids, ticket=target).update(ticket=source)
            TicketEvent.objects.filter(pk__in=move.event_ids, ticket=target).update(ticket=source)
            source.merged_into = None
            source.save(update_fields=["merged_into"])
            previous = move.previous.get("status")
            if previous and previous != source.status:
                services.set_status(ticket=source, actor=actor, status=previous)
            TicketEvent.objects.create(ticket=target, kind="unmerged", actor=actor, data={"from": source.pk, "move": move.pk})
            TicketEvent.objects.create(ticket=source, kind="unmerged", actor=actor, data={"into": target.pk, "move": move.pk})
        else:
            Message.objects.filter(pk__in=move.message_ids, ticket=target).update(ticket=source)
            target.merged_into = source
            target.save(update_fields=["merged_into"])
            if target.is_active:
                services.set_status(ticket=target, actor=actor, status=Status.CLOSED)
            TicketEvent.objects.create(ticket=source, kind="unsplit", actor=actor, data={"from": target.pk, "move": move.pk})
        _refresh(source)
        _refresh(target)
        move.undone_at = timezone.now()
        move.save(update_fields=["undone_at"])
        _announce(source, target)
    return move


def undoable_move(ticket: Ticket) -> TicketMove | None:
    """The latest merge/split involving this ticket that can still be undone."""
    since = timezone.now() - timedelta(seconds=UNDO_SECONDS)
    from django.db.models import Q

    return (
        TicketMove.objects.filter(Q(source=ticket) | Q(target=ticket), undone_at__isnull=True, created_at__gte=since)
        .order_by("-created_at").first()
    )  # fmt: skip


def undo_deadline(move: TicketMove):
    return move.created_at + timedelta(seconds=UNDO_SECONDS)


# ---------------------------------------------------------------- internals


def _after(message: Message):
    from django.db.models import Q

    return Q(created_at__gt=message.created_at) | Q(created_at=message.created_at, pk__gte=message.pk)


def _refresh(ticket: Ticket) -> None:
    """Recompute the ticket's timestamps from the messages it now holds."""
    stats = Message.objects.filter(ticket=ticket).aggregate(
        last=Max("created_at"),
        customer=Max("created_at", filter=_q(direction=Direction.INBOUND)),
        first_reply=Min("created_at", filter=_q(direction=Direction.OUTBOUND, is_bot=False)),
    )
    ticket.last_message_at = stats["last"] or ticket.created_at
    ticket.last_customer_message_at = stats["customer"]
    ticket.first_response_at = stats["first_reply"]
    ticket.updated_at = timezone.now()
    Ticket.objects.filter(pk=ticket.pk).update(
        last_message_at=ticket.last_message_at, last_customer_message_at=ticket.last_customer_message_at,
        first_response_at=ticket.first_response_at, updated_at=ticket.updated_at,
    )  # fmt: skip


def _q(**kwargs):
    from django.db.models import Q

    return Q(**kwargs)


def _announce(*tickets: Ticket, created: bool = False) -> None:
    """Same frames as the ticket services send (queues update live), after commit."""
    for ticket in tickets:
        fresh = Ticket.objects.select_related("contact", "team", "assignee").prefetch_related("tags").get(pk=ticket.pk)
        kind = "ticket.created" if created else "ticket.updated"
        frame = {"type": "ticket", "event": kind.split(".")[1], "ticket": ticket_dict(fresh)}
        data = {"ticket_id": fresh.pk, "team_id": fresh.team_id, "status": fresh.status}
        events.publish(kind, groups=events.ticket_groups(fresh), frame=frame, data=data)
