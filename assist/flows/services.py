"""Writes for flows: saving a flow adds an immutable version; run lifecycle after the chat moves on."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from ..models import Flow, FlowRun, FlowVersion, RunStatus
from .definition import validate

log = logging.getLogger(__name__)


class InvalidFlow(ValueError):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def save_flow(*, flow: Flow, definition: Any, actor=None, name: str | None = None, widget_id: int | None = None, active: bool | None = None) -> FlowVersion:
    """Validate and store `definition` as the flow's next version; conversations in progress keep theirs.

    Saving an unchanged definition returns the current version (a double-clicked Save adds nothing)."""
    from tickets.models import Team

    errors = validate(definition, team_ids=set(Team.objects.values_list("pk", flat=True)))
    if errors:
        raise InvalidFlow(errors)
    with transaction.atomic():
        flow = Flow.objects.select_for_update().get(pk=flow.pk)
        changed = []
        for field, value in (("name", name), ("widget_id", widget_id), ("active", active)):
            if value is not None and getattr(flow, field) != value:
                setattr(flow, field, value)
                changed.append(field)
        if changed:
            flow.save(update_fields=changed)
        current = flow.versions.order_by("-number").first()
        if current is not None and current.definition == definition:
            return current
        number = (flow.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        return FlowVersion.objects.create(flow=flow, number=number, definition=definition, created_by=actor)


def default_definition(team_id: int | None = None) -> dict:
    from django.utils.translation import gettext as _

    return {
        "start": "welcome",
        "steps": [
            {"id": "welcome", "type": "message", "text": _("Hi! I am the assistant. Ask me anything."), "next": "articles"},
            {"id": "articles", "type": "kb", "text": _("These articles may answer your question:"), "limit": 3, "resolved": "thanks", "unresolved": "human"},
            {"id": "human", "type": "handoff", "text": _("I am connecting you with a person from our team."), "team": team_id},
            {"id": "thanks", "type": "end", "text": _("Glad I could help!")},
        ],
    }


def on_chat_ended(kind: str, data: dict) -> None:
    """A chat that ends while the bot still waited for the visitor is a drop-off at that step."""
    session_id = data.get("session_id")
    if session_id:
        FlowRun.objects.filter(session_key=str(session_id), status=RunStatus.ACTIVE).update(status=RunStatus.ABANDONED, updated_at=timezone.now())


def on_message_created(kind: str, data: dict) -> None:
    """An agent answering a chat the bot had resolved means it was not deflected after all."""
    if data.get("direction") != "outbound" or not data.get("ticket_id"):
        return
    from tickets.models import Message

    runs = FlowRun.objects.filter(ticket_id=data["ticket_id"], status=RunStatus.RESOLVED)
    if runs.exists() and Message.objects.filter(pk=data.get("message_id"), is_bot=False, author_agent__isnull=False).exists():
        runs.update(status=RunStatus.HANDOFF, updated_at=timezone.now())


def connect() -> None:
    """Register the engine with the chat app's pre-routing hook, when the chat app is there."""
    from tickets import events

    events.subscribe("chat.ended", on_chat_ended)
    events.subscribe("message.created", on_message_created)
    try:
        from chat.hooks import register_pre_routing
    except ImportError:
        log.info("chat app not installed: chat flows are not connected")
        return
    from .engine import handle

    register_pre_routing(handle)
