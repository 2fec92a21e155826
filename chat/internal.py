"""Internal chat between agents: one room per team, one direct room per pair, over `/ws/agent/`.

Live frames reuse the groups every agent socket already joins: a team room goes to `team.<id>`, a direct
room to `agent.<a>` and `agent.<b>`. History and unread counts come from the database.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from tickets import events, selectors
from tickets.models import Team
from tickets.representations import agent_name

from .models import InternalMessage, Room, RoomKind, RoomRead
from .services import ChatRefused

TICKET_LINK = re.compile(r"(?<![\w&])#(\d{1,10})\b")
HISTORY_PAGE = 50


def rooms_for(*, user) -> list[dict[str, Any]]:
    """The agent's team rooms (created on first use) and direct rooms, with unread counts."""
    teams = list(Team.objects.filter(pk__in=selectors.team_ids(user)))
    for team in teams:
        Room.objects.get_or_create(key=f"team:{team.pk}", defaults={"kind": RoomKind.TEAM, "team": team})
    rooms = list(
        Room.objects.filter(Q(team__in=teams, kind=RoomKind.TEAM) | Q(kind=RoomKind.DIRECT, members=user))
        .select_related("team")
        .prefetch_related("members")
        .distinct()
    )
    reads = dict(RoomRead.objects.filter(user=user, room__in=rooms).values_list("room_id", "last_read_id"))
    unread: dict[int, int] = {}
    if rooms:
        newer = Q()
        for room in rooms:
            newer |= Q(room_id=room.pk, pk__gt=reads.get(room.pk, 0))
        unread = dict(
            InternalMessage.objects.filter(newer).exclude(author=user).values_list("room_id").annotate(n=Count("id"))
        )
    return [room_dict(room, user=user, unread=unread.get(room.pk, 0)) for room in rooms]


def room_dict(room: Room, *, user, unread: int = 0) -> dict[str, Any]:
    if room.kind == RoomKind.TEAM:
        name = room.team.name if room.team else room.key
        other = None
    else:
        others = [m for m in room.members.all() if m.pk != user.pk]
        other = others[0].pk if others else user.pk
        name = agent_name(others[0]) if others else agent_name(user)
    return {"id": room.pk, "kind": room.kind, "name": name, "agent": other, "unread": unread}


def open_direct(*, user, other_id: int) -> dict[str, Any]:
    other = get_user_model().objects.filter(pk=other_id, is_active=True, agent__isnull=False).first()
    if other is None or not selectors.is_agent(other):
        raise ChatRefused(_("Unknown agent."))
    low, high = sorted((user.pk, other.pk))
    room, created = Room.objects.get_or_create(key=f"dm:{low}:{high}", defaults={"kind": RoomKind.DIRECT})
    if created:
        room.members.set({user.pk, other.pk})
    return room_dict(room, user=user)


def post(*, user, room_id: int, client_id: str, text: str) -> dict[str, Any]:
    """Store and broadcast an internal message; a resend with the same client id is stored once."""
    text = text.strip()
    if not text:
        raise ChatRefused(_("The message is empty."))
    room = _room(user, room_id)
    if client_id:
        existing = InternalMessage.objects.filter(author=user, client_id=client_id).first()
        if existing is not None:
            return message_dict(existing)
    try:
        with transaction.atomic():
            message = InternalMessage.objects.create(room=room, author=user, text=text, client_id=client_id[:64])
            RoomRead.objects.update_or_create(room=room, user=user, defaults={"last_read_id": message.pk})
            frame = message_dict(message)
            transaction.on_commit(partial(events.send_to_groups, _groups(room), frame))
    except IntegrityError:
        return message_dict(InternalMessage.objects.get(author=user, client_id=client_id))
    return frame


def history(*, user, room_id: int, before: int | None = None) -> list[dict[str, Any]]:
    room = _room(user, room_id)
    qs = InternalMessage.objects.filter(room=room).select_related("author")
    if before:
        qs = qs.filter(pk__lt=before)
    messages = list(qs.order_by("-id")[:HISTORY_PAGE])[::-1]
    if messages and not before:
        mark_read(user=user, room_id=room.pk, last_id=messages[-1].pk)
    return [message_dict(m) for m in messages]


def mark_read(*, user, room_id: int, last_id: int) -> None:
    room = _room(user, room_id)
    read, _created = RoomRead.objects.get_or_create(room=room, user=user)
    if last_id > read.last_read_id:
        RoomRead.objects.filter(pk=read.pk, last_read_id__lt=last_id).update(last_read_id=last_id)


def unread_total(*, user) -> int:
    return sum(r["unread"] for r in rooms_for(user=user))


def message_dict(message: InternalMessage) -> dict[str, Any]:
    return {
        "type": "internal",
        "room": message.room_id,
        "id": message.pk,
        "client_id": message.client_id,
        "author": {"id": message.author_id, "name": agent_name(message.author)},
        "text": message.text,
        "tickets": [int(n) for n in TICKET_LINK.findall(message.text)][:20],
        "created_at": message.created_at.isoformat(),
    }


def _room(user, room_id: int) -> Room:
    room = Room.objects.filter(pk=room_id).select_related("team").first()
    if room is None or not _member(user, room):
        raise ChatRefused(_("You are not in this room."))
    return room


def _member(user, room: Room) -> bool:
    if room.kind == RoomKind.TEAM:
        return room.team_id in selectors.team_ids(user)
    return room.members.filter(pk=user.pk).exists()


def _groups(room: Room) -> list[str]:
    if room.kind == RoomKind.TEAM:
        return [events.team_group(room.team_id)]
    return [f"agent.{uid}" for uid in room.members.values_list("pk", flat=True)]
